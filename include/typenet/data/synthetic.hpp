#pragma once
// Small synthetic data sets from the course: the problems that show what linear
// models can and cannot do. All seeded and reproducible.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>
#include <vector>

#include "../core/random.hpp"
#include "dataset.hpp"

namespace typenet::data {

/// y = w x + b + noise, x uniform in [-1, 1], noise ~ N(0, noise_stddev^2).
template <class T = float>
regression_data<T> noisy_line(std::size_t n, double w, double b, double noise_stddev, std::uint64_t seed) {
    random_engine rng(seed);
    regression_data<T> d;
    d.inputs = xt::xtensor<T, 2>::from_shape({n, 1});
    d.targets = xt::xtensor<T, 2>::from_shape({n, 1});
    for (std::size_t i = 0; i < n; ++i) {
        const double x = rng.uniform(-1, 1);
        d.inputs(i, 0) = static_cast<T>(x);
        d.targets(i, 0) = static_cast<T>(w * x + b + rng.normal(0, noise_stddev));
    }
    return d;
}

/// `classes` Gaussian clusters in 2-D, centres evenly on a circle of radius 2.
template <class T = float>
labeled_data<T> gaussian_blobs(std::size_t n, std::size_t classes, double stddev, std::uint64_t seed) {
    random_engine rng(seed);
    labeled_data<T> d;
    d.inputs = xt::xtensor<T, 2>::from_shape({n, 2});
    d.labels.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        const auto c = static_cast<label_t>(i % classes);
        const double angle = 2 * std::numbers::pi * static_cast<double>(c) / static_cast<double>(classes);
        d.inputs(i, 0) = static_cast<T>(2 * std::cos(angle) + rng.normal(0, stddev));
        d.inputs(i, 1) = static_cast<T>(2 * std::sin(angle) + rng.normal(0, stddev));
        d.labels[i] = c;
    }
    return d;
}

/// XOR: points uniform in [-1, 1]^2, label 1 where the coordinates' signs differ.
/// No line separates the classes.
template <class T = float>
labeled_data<T> xor_points(std::size_t n, std::uint64_t seed) {
    random_engine rng(seed);
    labeled_data<T> d;
    d.inputs = xt::xtensor<T, 2>::from_shape({n, 2});
    d.labels.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        double x = 0, y = 0;
        while (std::fabs(x) < 0.05 || std::fabs(y) < 0.05) x = rng.uniform(-1, 1), y = rng.uniform(-1, 1);
        d.inputs(i, 0) = static_cast<T>(x);
        d.inputs(i, 1) = static_cast<T>(y);
        d.labels[i] = (x > 0) != (y > 0) ? 1 : 0;
    }
    return d;
}

/// Two interleaved spirals (classes 0 and 1), each turning `turns` times.
template <class T = float>
labeled_data<T> two_spirals(std::size_t n, double turns, double noise_stddev, std::uint64_t seed) {
    random_engine rng(seed);
    labeled_data<T> d;
    d.inputs = xt::xtensor<T, 2>::from_shape({n, 2});
    d.labels.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        const auto c = static_cast<label_t>(i % 2);
        const double t = rng.uniform(0.05, 1.0);  // position along the arm
        const double angle = 2 * std::numbers::pi * turns * t + (c == 0 ? 0.0 : std::numbers::pi);
        d.inputs(i, 0) = static_cast<T>(t * std::cos(angle) + rng.normal(0, noise_stddev));
        d.inputs(i, 1) = static_cast<T>(t * std::sin(angle) + rng.normal(0, noise_stddev));
        d.labels[i] = c;
    }
    return d;
}

}  // namespace typenet::data
