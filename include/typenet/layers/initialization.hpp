#pragma once
// Initial weights, chosen by the activation that follows the layer:
//   before a ReLU   He normal,      std = sqrt(2 / fan_in)   (keeps the variance of
//                                   activations through stacks of ReLUs)
//   otherwise       Glorot uniform, limit = sqrt(6 / (fan_in + fan_out))  (tanh, sigmoid, linear)
// Biases start at zero.
#include <cmath>
#include <cstddef>
#include <type_traits>

#include "../core/random.hpp"
#include "activations.hpp"

namespace typenet {

template <class Act, class T>
void initialize_weights(T* weights, std::size_t count, std::size_t fan_in, std::size_t fan_out, random_engine& rng) {
    if constexpr (std::is_same_v<Act, relu>) {
        const double stddev = std::sqrt(2.0 / static_cast<double>(fan_in));
        for (std::size_t i = 0; i < count; ++i) weights[i] = static_cast<T>(rng.normal(0.0, stddev));
    } else {
        const double limit = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
        for (std::size_t i = 0; i < count; ++i) weights[i] = static_cast<T>(rng.uniform(-limit, limit));
    }
}

}  // namespace typenet
