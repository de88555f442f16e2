#pragma once
// 64-byte aligned storage. Sizes come from the network type; the memory is taken
// once, when a model or workspace is built, and never again on the hot path.
// It lives on the heap so that models with megabytes of weights are safe to
// declare as local variables (an inline std::array of 400 KB overflows stacks).
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <new>
#include <span>

namespace typenet {

inline constexpr std::size_t storage_alignment = 64;

namespace detail {
struct aligned_delete {
    void operator()(void* p) const noexcept { ::operator delete[](p, std::align_val_t{storage_alignment}); }
};

template <class T>
T* aligned_new(std::size_t n) {
    // Round up so that SIMD loops may read whole cache lines past the end of a
    // sub-buffer without leaving the allocation.
    const std::size_t bytes =
        std::max<std::size_t>(1, (n * sizeof(T) + storage_alignment - 1) / storage_alignment * storage_alignment);
    void* p = ::operator new[](bytes, std::align_val_t{storage_alignment});
    std::memset(p, 0, bytes);
    return static_cast<T*>(p);
}
}  // namespace detail

/// Zero-initialised, 64-byte aligned array of a run-time size fixed at construction.
template <class T>
class aligned_buffer {
public:
    aligned_buffer() = default;
    explicit aligned_buffer(std::size_t n) : data_(detail::aligned_new<T>(n)), size_(n) {}
    aligned_buffer(const aligned_buffer& o) : aligned_buffer(o.size_) { std::copy_n(o.data(), size_, data()); }
    aligned_buffer& operator=(const aligned_buffer& o) {
        if (this != &o) {
            if (size_ != o.size_) *this = aligned_buffer(o.size_);
            std::copy_n(o.data(), size_, data());
        }
        return *this;
    }
    aligned_buffer(aligned_buffer&&) noexcept = default;
    aligned_buffer& operator=(aligned_buffer&&) noexcept = default;

    T* data() noexcept { return static_cast<T*>(data_.get()); }
    const T* data() const noexcept { return static_cast<const T*>(data_.get()); }
    std::size_t size() const noexcept { return size_; }
    T& operator[](std::size_t i) noexcept { return data()[i]; }
    const T& operator[](std::size_t i) const noexcept { return data()[i]; }
    std::span<T> span() noexcept { return {data(), size_}; }
    std::span<const T> span() const noexcept { return {data(), size_}; }
    void fill(T v) noexcept { std::fill_n(data(), size_, v); }

private:
    std::unique_ptr<T, detail::aligned_delete> data_;
    std::size_t size_ = 0;
};

/// Aligned storage whose size N is part of the type (parameters of a model).
template <class T, std::size_t N>
class fixed_buffer : public aligned_buffer<T> {
public:
    static constexpr std::size_t extent = N;
    fixed_buffer() : aligned_buffer<T>(N) {}
};

/// Rounds n up to a multiple of the number of T in a cache line, so that every
/// sub-buffer carved out of one allocation stays 64-byte aligned.
template <class T>
constexpr std::size_t aligned_count(std::size_t n) {
    constexpr std::size_t per_line = storage_alignment / sizeof(T);
    return (n + per_line - 1) / per_line * per_line;
}

}  // namespace typenet
