#pragma once
// Squared error, summed over the outputs and averaged over the batch:
//   L = 1/B sum_i ||y_i - t_i||^2     (the maximum-likelihood loss under Gaussian noise)
// Gradient: 2 (y - t) / B.
#include <cstddef>

#include "loss.hpp"

namespace typenet {

struct mse {
    template <class T>
    using target = T;
    static constexpr bool is_classifier = false;

    template <class OutShape>
    struct fits {};

    template <std::size_t Outputs, class T>
    static double evaluate(const T* outputs, const T* targets, T* gradient, std::size_t batch) {
        double total = 0;
        const T scale = T(2) / static_cast<T>(batch);
        for (std::size_t i = 0; i < batch * Outputs; ++i) {
            const T diff = outputs[i] - targets[i];
            total += static_cast<double>(diff) * static_cast<double>(diff);
            if (gradient != nullptr) gradient[i] = scale * diff;
        }
        return total / static_cast<double>(batch);
    }
};

}  // namespace typenet
