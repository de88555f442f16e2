#pragma once
// Seeded random split of a data set into two disjoint parts (training and
// validation, say). The permutation comes from typenet's own random_engine, so
// the same seed picks the same samples on every platform and standard library.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "../core/random.hpp"
#include "dataset.hpp"

namespace typenet::data {

namespace detail {

/// 0.3 as "0.3", not std::to_string's "0.300000".
inline std::string format_fraction(double f) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", f);
    return buf;
}

/// The samples at `indices`, in that order.
template <class T>
labeled_data<T> select_samples(const labeled_data<T>& d, const std::vector<std::size_t>& indices) {
    const std::size_t features = d.features();
    labeled_data<T> out;
    out.inputs = xt::xtensor<T, 2>::from_shape({indices.size(), features});
    out.labels.reserve(indices.size());
    T* row = out.inputs.data();
    for (std::size_t i : indices) {
        std::copy_n(d.sample(i), features, row);
        row += features;
        out.labels.push_back(d.labels[i]);
    }
    return out;
}

}  // namespace detail

/// Splits `d` at random into (first, second) with round(second_fraction * size)
/// samples in `second` and the rest in `first`. Each part keeps the samples in
/// their original relative order. Same data and seed, same split.
/// Throws std::invalid_argument for a fraction outside (0, 1), one that leaves a
/// part empty, or labels that do not match the samples one to one.
template <class T>
std::pair<labeled_data<T>, labeled_data<T>> split(const labeled_data<T>& d, double second_fraction,
                                                  std::uint64_t seed) {
    if (!(second_fraction > 0 && second_fraction < 1))
        throw std::invalid_argument("split: the fraction for the second part must be in (0, 1), got " +
                                    detail::format_fraction(second_fraction));
    if (d.labels.size() != d.size())
        throw std::invalid_argument("split: " + std::to_string(d.labels.size()) + " labels for " +
                                    std::to_string(d.size()) + " samples");
    const std::size_t n = d.size();
    const auto second_count = static_cast<std::size_t>(std::llround(second_fraction * static_cast<double>(n)));
    if (second_count == 0 || second_count >= n)
        throw std::invalid_argument("split: a fraction of " + detail::format_fraction(second_fraction) + " of " +
                                    std::to_string(n) + " samples puts " + std::to_string(second_count) +
                                    " in the second part and " + std::to_string(n - std::min(second_count, n)) +
                                    " in the first; both need at least one");

    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    random_engine rng(seed);
    rng.shuffle(std::span<std::size_t>(order));

    const auto cut = order.begin() + static_cast<std::ptrdiff_t>(n - second_count);
    std::vector<std::size_t> first(order.begin(), cut), second(cut, order.end());
    std::sort(first.begin(), first.end());
    std::sort(second.begin(), second.end());
    return {detail::select_samples(d, first), detail::select_samples(d, second)};
}

}  // namespace typenet::data
