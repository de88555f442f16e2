#pragma once
// Per-class precision and recall from a confusion matrix, and printing the
// matrix with class names: what a person reads after training a classifier.
#include <algorithm>
#include <cstdio>
#include <cstddef>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <xtensor/xtensor.hpp>

namespace typenet {

struct class_scores {
    double precision = 0;  ///< of the samples predicted as this class, the fraction that are
    double recall = 0;     ///< of the samples of this class, the fraction found
    std::size_t support = 0;
};

/// counts(true, predicted) -> scores per class (0 where undefined: no predictions or no samples).
inline std::vector<class_scores> per_class_scores(const xt::xtensor<std::size_t, 2>& counts) {
    const std::size_t k = counts.shape(0);
    std::vector<class_scores> s(k);
    for (std::size_t c = 0; c < k; ++c) {
        std::size_t predicted = 0, actual = 0;
        for (std::size_t o = 0; o < k; ++o) {
            predicted += counts(o, c);
            actual += counts(c, o);
        }
        s[c].support = actual;
        s[c].precision = predicted ? static_cast<double>(counts(c, c)) / static_cast<double>(predicted) : 0;
        s[c].recall = actual ? static_cast<double>(counts(c, c)) / static_cast<double>(actual) : 0;
    }
    return s;
}

/// The matrix (rows: true class, columns: predicted) with names, then precision and recall per class.
inline void print_confusion_matrix(std::ostream& out, const xt::xtensor<std::size_t, 2>& counts,
                                   std::span<const std::string_view> names = {}) {
    const std::size_t k = counts.shape(0);
    auto label = [&](std::size_t c) {
        return std::to_string(c) + " " + (c < names.size() ? std::string(names[c]) : std::string());
    };
    std::size_t width = std::string("true \\ predicted").size();
    for (std::size_t c = 0; c < k; ++c) width = std::max(width, label(c).size());
    auto pad = [](std::string s, std::size_t w) { return s.size() < w ? std::string(w - s.size(), ' ') + s : s; };
    auto pad_right = [](std::string s, std::size_t w) { return s.size() < w ? s + std::string(w - s.size(), ' ') : s; };
    out << pad_right("true \\ predicted", width);
    for (std::size_t c = 0; c < k; ++c) out << ' ' << pad(std::to_string(c), 6);
    out << "   precision  recall\n";
    const auto scores = per_class_scores(counts);
    for (std::size_t r = 0; r < k; ++r) {
        out << pad_right(label(r), width);
        for (std::size_t c = 0; c < k; ++c) out << ' ' << pad(std::to_string(counts(r, c)), 6);
        char buf[48];
        std::snprintf(buf, sizeof buf, "   %9.3f  %6.3f\n", scores[r].precision, scores[r].recall);
        out << buf;
    }
}

}  // namespace typenet
