#pragma once
// The loss protocol. A loss L provides
//
//   template <class T> using target = ...;    // label_t (classifiers) or T (regression)
//   template <class OutShape> struct fits;     // static_asserts that the network output suits it
//   template <std::size_t Outputs, class T>
//   static double evaluate(const T* outputs, const target<T>* targets, T* gradient, std::size_t batch);
//
// evaluate returns the mean loss over the batch and, when gradient is not null,
// writes d(mean loss)/d(outputs) there (batch x Outputs). The mean over the batch
// is part of the loss, so gradients do not depend on the batch size's scale.
#include <cstddef>

#include "../core/diagnostic.hpp"
#include "../core/shape.hpp"
#include "../data/dataset.hpp"

namespace typenet {

/// Which class a row of scores predicts: the largest score, or for a single
/// output (binary classifiers) whether it is positive.
template <std::size_t Outputs, class T>
std::size_t predicted_class(const T* scores) {
    if constexpr (Outputs == 1) return scores[0] > T(0) ? 1 : 0;
    std::size_t best = 0;
    for (std::size_t j = 1; j < Outputs; ++j)
        if (scores[j] > scores[best]) best = j;
    return best;
}

/// How many classes a classifier with Outputs outputs distinguishes.
template <std::size_t Outputs>
inline constexpr std::size_t class_count = Outputs == 1 ? 2 : Outputs;

}  // namespace typenet
