#pragma once
// Training curves as a small self-contained SVG: loss on the left axis, accuracy
// (train and validation) on the right, one point per epoch.
#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "../train/history.hpp"

namespace typenet::io {

namespace detail {
inline std::string polyline(const std::vector<double>& ys, double y_lo, double y_hi, double x0, double w, double y0,
                            double h, const char* colour) {
    std::ostringstream s;
    s << "<polyline fill='none' stroke='" << colour << "' stroke-width='2' points='";
    for (std::size_t i = 0; i < ys.size(); ++i) {
        const double x =
            x0 + (ys.size() == 1 ? w / 2 : w * static_cast<double>(i) / static_cast<double>(ys.size() - 1));
        const double y = y0 + h - h * (ys[i] - y_lo) / (y_hi > y_lo ? y_hi - y_lo : 1);
        s << x << ',' << y << ' ';
    }
    s << "'/>\n";
    return s.str();
}
}  // namespace detail

inline void write_training_curves_svg(const std::filesystem::path& path, const history& h, const std::string& title) {
    if (h.epochs.empty()) throw std::invalid_argument("write_training_curves_svg: empty history");
    std::vector<double> loss, acc, val;
    for (const auto& e : h.epochs) {
        loss.push_back(e.loss);
        if (e.accuracy) acc.push_back(*e.accuracy);
        if (e.validation_accuracy) val.push_back(*e.validation_accuracy);
    }
    const double W = 640, H = 360, x0 = 60, y0 = 40, w = 520, hh = 260;
    const double loss_hi = *std::max_element(loss.begin(), loss.end()) * 1.05;
    std::vector<double> all_acc = acc;
    all_acc.insert(all_acc.end(), val.begin(), val.end());
    const double acc_lo = all_acc.empty() ? 0 : std::max(0.0, *std::min_element(all_acc.begin(), all_acc.end()) - 0.02);
    std::ofstream out(path);
    if (!out) throw std::runtime_error("write_training_curves_svg: cannot write " + path.string());
    out << "<svg xmlns='http://www.w3.org/2000/svg' width='" << W << "' height='" << H
        << "' font-family='sans-serif' font-size='12'>\n"
        << "<rect width='100%' height='100%' fill='white'/>\n"
        << "<text x='" << W / 2 << "' y='22' text-anchor='middle' font-size='15'>" << title << "</text>\n"
        << "<rect x='" << x0 << "' y='" << y0 << "' width='" << w << "' height='" << hh
        << "' fill='none' stroke='#888'/>\n"
        << "<text x='" << x0 - 8 << "' y='" << y0 + 4 << "' text-anchor='end'>" << loss_hi << "</text>\n"
        << "<text x='" << x0 - 8 << "' y='" << y0 + hh << "' text-anchor='end'>0</text>\n"
        << "<text x='" << x0 + w + 8 << "' y='" << y0 + 4 << "'>1.0</text>\n"
        << "<text x='" << x0 + w + 8 << "' y='" << y0 + hh << "'>" << acc_lo << "</text>\n"
        << "<text x='" << x0 + w / 2 << "' y='" << y0 + hh + 30 << "' text-anchor='middle'>epoch 1.." << h.epochs.size()
        << "</text>\n";
    out << detail::polyline(loss, 0, loss_hi, x0, w, y0, hh, "#d62728");
    if (!acc.empty()) out << detail::polyline(acc, acc_lo, 1, x0, w, y0, hh, "#1f77b4");
    if (!val.empty()) out << detail::polyline(val, acc_lo, 1, x0, w, y0, hh, "#2ca02c");
    out << "<text x='" << x0 + 10 << "' y='" << y0 + hh + 48 << "' fill='#d62728'>train loss (left)</text>\n"
        << "<text x='" << x0 + 160 << "' y='" << y0 + hh + 48 << "' fill='#1f77b4'>train accuracy (right)</text>\n"
        << "<text x='" << x0 + 340 << "' y='" << y0 + hh + 48 << "' fill='#2ca02c'>validation accuracy (right)</text>\n"
        << "</svg>\n";
}

/// One line per epoch: epoch,loss,accuracy,validation_loss,validation_accuracy,seconds
inline void write_history_csv(const std::filesystem::path& path, const history& h) {
    std::ofstream out(path);
    if (!out) throw std::runtime_error("write_history_csv: cannot write " + path.string());
    out << "epoch,loss,accuracy,validation_loss,validation_accuracy,seconds\n";
    auto opt = [](const std::optional<double>& v) { return v ? std::to_string(*v) : std::string(); };
    for (const auto& e : h.epochs)
        out << e.epoch << ',' << e.loss << ',' << opt(e.accuracy) << ',' << opt(e.validation_loss) << ','
            << opt(e.validation_accuracy) << ',' << e.seconds << '\n';
}

}  // namespace typenet::io
