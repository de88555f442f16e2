#pragma once
// Softmax followed by the negative log-likelihood of the true class:
//   L_i = -log(e^{s_y} / sum_j e^{s_j}) = logsumexp(s) - s_y
// computed with the maximum subtracted first, so logits of +-1000 stay finite.
// Gradient: softmax(s) - onehot(y), over the batch size.
#include <cmath>
#include <cstddef>

#include "loss.hpp"

namespace typenet {

struct softmax_cross_entropy {
    template <class T>
    using target = label_t;
    static constexpr bool is_classifier = true;

    template <class OutShape>
    struct fits {
        static_assert(diagnostic::check<(OutShape::rank == 1 && OutShape::size >= 2), softmax_cross_entropy,
                                        diagnostic::received<OutShape>>,
                      "typenet: softmax_cross_entropy needs a flat network output with one score per class (at least "
                      "2); for two classes with one output use binary_cross_entropy");
    };

    template <std::size_t Outputs, class T>
    static double evaluate(const T* scores, const label_t* labels, T* gradient, std::size_t batch) {
        double total = 0;
        const T inv_batch = T(1) / static_cast<T>(batch);
        for (std::size_t b = 0; b < batch; ++b) {
            const T* s = scores + b * Outputs;
            T top = s[0];
            for (std::size_t j = 1; j < Outputs; ++j) top = s[j] > top ? s[j] : top;
            T sum = 0;
            for (std::size_t j = 0; j < Outputs; ++j) sum += std::exp(s[j] - top);
            const T log_sum = std::log(sum);
            total += static_cast<double>(log_sum + top - s[labels[b]]);
            if (gradient != nullptr) {
                T* g = gradient + b * Outputs;
                for (std::size_t j = 0; j < Outputs; ++j) g[j] = std::exp(s[j] - top - log_sum) * inv_batch;
                g[labels[b]] -= inv_batch;
            }
        }
        return total / static_cast<double>(batch);
    }
};

}  // namespace typenet
