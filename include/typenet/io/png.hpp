#pragma once
// Grey-scale pictures of tensors: weight templates, filters, feature maps. Each
// image is scaled to its own min..max and they are laid side by side in one PNG,
// written with stb_image_write (Debian libstb-dev, linked as -lstb).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <stb_image_write.h>

namespace typenet::io {

/// Writes `images` (each rows x cols values, row-major) as one PNG: a grid with
/// `per_row` images per row, each magnified `scale` times, 1-pixel gaps.
template <class T>
void write_png_grid(const std::filesystem::path& path, const std::vector<std::span<const T>>& images, std::size_t rows,
                    std::size_t cols, std::size_t per_row, std::size_t scale = 4) {
    if (images.empty() || rows == 0 || cols == 0 || per_row == 0 || scale == 0)
        throw std::invalid_argument("write_png_grid: nothing to draw");
    const std::size_t grid_rows = (images.size() + per_row - 1) / per_row;
    const std::size_t cell_w = cols * scale + 1, cell_h = rows * scale + 1;
    const std::size_t width = std::min(per_row, images.size()) * cell_w + 1, height = grid_rows * cell_h + 1;
    std::vector<std::uint8_t> pixels(width * height, 255);
    for (std::size_t i = 0; i < images.size(); ++i) {
        const auto& img = images[i];
        if (img.size() != rows * cols)
            throw std::invalid_argument("write_png_grid: image " + std::to_string(i) + " has the wrong size");
        const auto [lo, hi] = std::minmax_element(img.begin(), img.end());
        const double range = *hi > *lo ? static_cast<double>(*hi - *lo) : 1.0;
        const std::size_t x0 = 1 + (i % per_row) * cell_w, y0 = 1 + (i / per_row) * cell_h;
        for (std::size_t r = 0; r < rows * scale; ++r)
            for (std::size_t c = 0; c < cols * scale; ++c) {
                const double v = (static_cast<double>(img[(r / scale) * cols + c / scale]) - *lo) / range;
                pixels[(y0 + r) * width + x0 + c] = static_cast<std::uint8_t>(std::clamp(v, 0.0, 1.0) * 255 + 0.5);
            }
    }
    if (!stbi_write_png(path.c_str(), static_cast<int>(width), static_cast<int>(height), 1, pixels.data(),
                        static_cast<int>(width)))
        throw std::runtime_error("write_png_grid: cannot write " + path.string());
}

}  // namespace typenet::io
