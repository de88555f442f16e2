#pragma once
// Multiclass SVM (hinge) loss with margin 1:
//   L_i = sum_{j != y_i} max(0, s_j - s_{y_i} + 1),  averaged over the batch.
// Subgradient: +1 for every class whose margin is violated, minus their count
// for the true class (0 at the kink).
#include <cstddef>

#include "loss.hpp"

namespace typenet {

struct hinge {
    template <class T>
    using target = label_t;
    static constexpr bool is_classifier = true;

    template <class OutShape>
    struct fits {
        static_assert(
            diagnostic::check<(OutShape::rank == 1 && OutShape::size >= 2), hinge, diagnostic::received<OutShape>>,
            "typenet: hinge (multiclass SVM) needs a flat network output with one score per class (at least 2)");
    };

    template <std::size_t Outputs, class T>
    static double evaluate(const T* scores, const label_t* labels, T* gradient, std::size_t batch) {
        double total = 0;
        const T inv_batch = T(1) / static_cast<T>(batch);
        for (std::size_t b = 0; b < batch; ++b) {
            const T* s = scores + b * Outputs;
            const std::size_t y = labels[b];
            T* g = gradient != nullptr ? gradient + b * Outputs : nullptr;
            std::size_t violated = 0;
            for (std::size_t j = 0; j < Outputs; ++j) {
                const T margin = s[j] - s[y] + T(1);
                const bool active = j != y && margin > T(0);
                if (active) {
                    total += static_cast<double>(margin);
                    ++violated;
                }
                if (g) g[j] = active ? inv_batch : T(0);
            }
            if (g) g[y] = -static_cast<T>(violated) * inv_batch;
        }
        return total / static_cast<double>(batch);
    }
};

}  // namespace typenet
