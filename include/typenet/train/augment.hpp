#pragma once
// Data augmentation of image batches: random horizontal flips, small random
// translations (zero-filled) and cutout (a zeroed square at a random place, which
// makes a classifier use all of an object rather than its most telling patch),
// drawn per sample from a seeded engine. It works in
// place on a gathered batch (the trainer's own buffer, never the data set) through
// one image-sized buffer allocated at construction: no allocation per batch.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "../core/random.hpp"
#include "../core/storage.hpp"

namespace typenet {

struct augmentation {
    bool horizontal_flip = false;  ///< mirror left-right with probability 1/2
    std::size_t max_shift = 0;     ///< translate by up to this many pixels in x and in y (uniform in [-s, s])
    std::size_t cutout = 0;        ///< zero a cutout x cutout square centred on a uniform pixel, clipped at the border

    bool enabled() const noexcept { return horizontal_flip || max_shift > 0 || cutout > 0; }
};

/// Applies an augmentation to C x H x W images.
template <class T>
class augmenter {
public:
    augmenter(augmentation a, std::size_t channels, std::size_t height, std::size_t width, std::uint64_t seed)
        : a_(a), c_(channels), h_(height), w_(width), rng_(seed), image_(channels * height * width) {
        if (a.max_shift >= std::min(height, width))
            throw std::invalid_argument("augmentation: max_shift " + std::to_string(a.max_shift) +
                                        " must be smaller than the image (" + std::to_string(height) + " x " +
                                        std::to_string(width) + ")");
        if (a.cutout > std::min(height, width))
            throw std::invalid_argument("augmentation: cutout " + std::to_string(a.cutout) +
                                        " must not be larger than the image (" + std::to_string(height) + " x " +
                                        std::to_string(width) + ")");
    }

    /// Augments `batch` images stored one after another at x, in place.
    void apply(T* x, std::size_t batch) {
        const std::size_t size = c_ * h_ * w_;
        for (std::size_t b = 0; b < batch; ++b) {
            const bool flip = a_.horizontal_flip && rng_.below(2) == 1;
            const auto range = 2 * a_.max_shift + 1;
            const auto dy = static_cast<std::ptrdiff_t>(a_.max_shift > 0 ? rng_.below(range) : a_.max_shift) -
                            static_cast<std::ptrdiff_t>(a_.max_shift);
            const auto dx = static_cast<std::ptrdiff_t>(a_.max_shift > 0 ? rng_.below(range) : a_.max_shift) -
                            static_cast<std::ptrdiff_t>(a_.max_shift);
            if (flip || dx != 0 || dy != 0) transform(x + b * size, flip, dy, dx);
            if (a_.cutout > 0) cut_out(x + b * size, rng_.below(h_), rng_.below(w_));
        }
    }

    /// Zeroes, in every channel, the cutout-sided square centred on (cy, cx) (for an even
    /// side, the centre is the pixel right of and below the middle), clipped at the border.
    void cut_out(T* img, std::size_t cy, std::size_t cx) {
        const std::size_t half = a_.cutout / 2;
        const std::size_t y0 = cy > half ? cy - half : 0, x0 = cx > half ? cx - half : 0;
        const std::size_t rest = a_.cutout - half;  // rows/columns from the centre on
        const std::size_t y1 = std::min(h_, cy + rest), x1 = std::min(w_, cx + rest);
        for (std::size_t c = 0; c < c_; ++c)
            for (std::size_t y = y0; y < y1; ++y)
                std::fill(img + (c * h_ + y) * w_ + x0, img + (c * h_ + y) * w_ + x1, T(0));
    }

    /// Where the augmentation's random stream stands, for checkpoints: an augmenter
    /// restored from it draws the same flips and shifts as this one would.
    random_engine::snapshot save_random() const noexcept { return rng_.save(); }
    void restore_random(const random_engine::snapshot& s) noexcept { rng_.restore(s); }

    /// Output pixel (y, x) = input pixel (y - dy, x' - dx) where x' = W-1-x when flipped, else x; 0 outside.
    void transform(T* img, bool flip, std::ptrdiff_t dy, std::ptrdiff_t dx) {
        std::copy(img, img + c_ * h_ * w_, image_.data());
        const auto H = static_cast<std::ptrdiff_t>(h_), W = static_cast<std::ptrdiff_t>(w_);
        for (std::size_t c = 0; c < c_; ++c) {
            const T* src = image_.data() + c * h_ * w_;
            T* dst = img + c * h_ * w_;
            for (std::ptrdiff_t y = 0; y < H; ++y) {
                const std::ptrdiff_t sy = y - dy;
                for (std::ptrdiff_t xo = 0; xo < W; ++xo) {
                    const std::ptrdiff_t sx = (flip ? W - 1 - xo : xo) - dx;
                    dst[y * W + xo] = (sy >= 0 && sy < H && sx >= 0 && sx < W) ? src[sy * W + sx] : T(0);
                }
            }
        }
    }

private:
    augmentation a_;
    std::size_t c_, h_, w_;
    random_engine rng_;
    aligned_buffer<T> image_;
};

}  // namespace typenet
