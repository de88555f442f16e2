#pragma once
// Binary cross-entropy of a sigmoid output, for a network ending in one score z
// (no sigmoid layer: as with softmax_cross_entropy the loss applies it, which is
// what keeps it finite at z = +-1000):
//   p = sigmoid(z),  L = -[y log p + (1-y) log(1-p)] = max(z,0) - z y + log(1 + e^-|z|)
// Gradient: (sigmoid(z) - y) / B. Labels are 0 or 1.
#include <cmath>
#include <cstddef>

#include "loss.hpp"

namespace typenet {

struct binary_cross_entropy {
    template <class T>
    using target = label_t;
    static constexpr bool is_classifier = true;

    template <class OutShape>
    struct fits {
        static_assert(diagnostic::check<(OutShape::rank == 1 && OutShape::size == 1), binary_cross_entropy,
                                        diagnostic::received<OutShape>>,
                      "typenet: binary_cross_entropy needs exactly one network output (the logit of class 1); for "
                      "more classes use softmax_cross_entropy");
    };

    template <std::size_t Outputs, class T>
    static double evaluate(const T* scores, const label_t* labels, T* gradient, std::size_t batch) {
        double total = 0;
        const T inv_batch = T(1) / static_cast<T>(batch);
        for (std::size_t b = 0; b < batch; ++b) {
            const T z = scores[b];
            const T y = static_cast<T>(labels[b]);
            total += static_cast<double>((z > T(0) ? z : T(0)) - z * y + std::log1p(std::exp(-std::fabs(z))));
            if (gradient != nullptr) {
                const T p = z >= T(0) ? T(1) / (T(1) + std::exp(-z)) : std::exp(z) / (T(1) + std::exp(z));
                gradient[b] = (p - y) * inv_batch;
            }
        }
        return total / static_cast<double>(batch);
    }
};

}  // namespace typenet
