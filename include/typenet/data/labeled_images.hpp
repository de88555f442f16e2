#pragma once
// Classification samples kept as the bytes of 8-bit images, converted to [0, 1]
// as a batch is gathered. A quarter of labeled_data<float>'s memory (47 MB
// rather than 188 MB for Fashion-MNIST's training set) and a quarter of the
// bytes to fetch per batch: a training step gathers its rows from all over the
// set, so they come from memory, not cache. Gathering the batches of 64 of one
// Fashion-MNIST epoch took 19-21 ms from bytes, 62-68 ms from float rows.
//
// Batches hold exactly the values labeled_data<T> would: pixel / 255 rounded
// once to T, the value fashion_mnist and to_labeled_data store.
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include <xtensor/xtensor.hpp>

#include "dataset.hpp"

namespace typenet {

namespace detail {

/// out[j] = bytes[j] / 255 in T. A division, not a multiplication by 1/255 (which
/// is off by one unit in the last place for some bytes): for float it equals
/// double(byte) / 255 rounded to float, as a double quotient has more than twice
/// float's precision. The loop vectorises (g++ -O2 and later).
template <class T>
void bytes_to_unit_interval(const std::uint8_t* bytes, std::size_t n, T* out) {
    static_assert(std::is_floating_point_v<T>, "typenet: image bytes convert to a floating-point type");
    for (std::size_t j = 0; j < n; ++j) out[j] = static_cast<T>(bytes[j]) / T(255);
}

/// Asks the cache for the `length` bytes at p (a row wanted a few rows from now).
inline void prefetch_bytes(const std::uint8_t* p, std::size_t length) noexcept {
#if defined(__GNUC__)
    for (std::size_t offset = 0; offset < length; offset += 64) __builtin_prefetch(p + offset);
    if (length > 0) __builtin_prefetch(p + length - 1);
#else
    (void)p;
    (void)length;
#endif
}

/// Asks Linux to back the whole 2 MB pages inside [p, p + length) with huge pages
/// when they are first written (transparent huge pages in "madvise" mode; with
/// "always" they are huge anyway). A batch's rows lie on as many random 4 KB
/// pages, each a TLB miss; with 2 MB pages gathering an epoch of Fashion-MNIST
/// took 17-20 ms rather than 21-25 (alternated, six rounds each). Only advice:
/// nothing changes where the kernel declines.
inline void advise_huge_pages(void* p, std::size_t length) noexcept {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    constexpr std::uintptr_t huge = std::uintptr_t{2} << 20;
    const auto start = reinterpret_cast<std::uintptr_t>(p);
    const std::uintptr_t begin = (start + huge - 1) & ~(huge - 1), end = (start + length) & ~(huge - 1);
    if (end > begin) (void)madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#else
    (void)p;
    (void)length;
#endif
}

}  // namespace detail

/// Images of 8-bit pixels (0 = black, 255 = white), one per row, flattened
/// channel-major as the network reads them, with a class label each.
struct labeled_images {
    using target_type = label_t;

    xt::xtensor<std::uint8_t, 2> pixels;  ///< samples x features
    std::vector<label_t> labels;          ///< one per sample

    std::size_t size() const noexcept { return pixels.shape(0); }
    std::size_t features() const noexcept { return pixels.shape(1); }
    const std::uint8_t* sample(std::size_t i) const noexcept { return pixels.data() + i * features(); }
    static constexpr std::size_t target_width(std::size_t) noexcept { return 1; }

    /// Rows indices[0, n) one after another at out, each pixel as pixel / 255.
    template <class T>
    void gather_inputs(const std::size_t* indices, std::size_t n, T* out) const {
        // Each row is a handful of cache lines at a random place; fetching the row
        // `ahead` rows on while converting this one hides most of memory's latency
        // (40-42 -> 19-21 ms per epoch for Fashion-MNIST at batch 64).
        constexpr std::size_t ahead = 4;
        const std::size_t f = features();
        for (std::size_t i = 0; i < n; ++i) {
            if (i + ahead < n) detail::prefetch_bytes(sample(indices[i + ahead]), f);
            detail::bytes_to_unit_interval(sample(indices[i]), f, out + i * f);
        }
    }

    void gather_targets(const std::size_t* indices, std::size_t n, label_t* out) const {
        detail::gather_labels(labels, indices, n, out);
    }

    /// Throws std::invalid_argument unless every row has `width` features and a label < classes.
    void validate(std::size_t width, std::size_t classes, const char* who) const {
        detail::validate_labeled(size(), features(), labels, width, classes, who);
    }

    /// The same samples as labeled_data<T> (pixel / 255), for code that wants
    /// every input as a number at once: split, standardisation, plots.
    template <class T = float>
    labeled_data<T> to_labeled_data() const {
        labeled_data<T> d;
        d.inputs = xt::xtensor<T, 2>::from_shape({size(), features()});
        detail::bytes_to_unit_interval(pixels.data(), pixels.size(), d.inputs.data());
        d.labels = labels;
        return d;
    }
};

}  // namespace typenet
