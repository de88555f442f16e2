#pragma once
// Initial weights, chosen by the nonlinearity that follows the layer (looking through
// layers that keep the rule, batch_norm and dropout: sequential::initialization_rules):
//   init_rule::he      normal, std = sqrt(2 / fan_in)   (keeps the variance of activations
//                      through stacks of ReLUs; also for leaky_relu, gelu, silu)
//   init_rule::glorot  uniform, limit = sqrt(6 / (fan_in + fan_out))  (tanh, sigmoid, linear)
// Biases start at zero.
#include <cmath>
#include <cstddef>

#include "../core/random.hpp"
#include "layer.hpp"

namespace typenet {

template <class T>
void initialize_weights(T* weights, std::size_t count, std::size_t fan_in, std::size_t fan_out, init_rule rule,
                        random_engine& rng) {
    if (rule == init_rule::he) {
        const double stddev = std::sqrt(2.0 / static_cast<double>(fan_in));
        for (std::size_t i = 0; i < count; ++i) weights[i] = static_cast<T>(rng.normal(0.0, stddev));
    } else {
        const double limit = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
        for (std::size_t i = 0; i < count; ++i) weights[i] = static_cast<T>(rng.uniform(-limit, limit));
    }
}

}  // namespace typenet
