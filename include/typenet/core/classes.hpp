#pragma once
// From scores to classes (no dependencies, so embedded inference can use it).
#include <cstddef>

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
