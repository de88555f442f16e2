#pragma once
// How a GEMM reads its operands: A row-major or transposed (a layout: A(i, p) and
// the pointer to a depth step's values), B through an operand (row(p), column(j)),
// and the epilogue that stores the product unchanged. im2col.hpp adds layouts and an
// operand that read image patches in place.
#include <cstddef>

#include "../simd.hpp"

namespace typenet::kernels {

/// A(i, p) = a[i * lda + p]
struct row_major {
    template <class T>
    static auto at(const T* a, std::size_t lda, std::size_t i, std::size_t p) {
        return widen(a[i * lda + p]);
    }
    /// A(i0, p), from which A(i0 + r, p) is at(step(...), lda, r): the kernel finds
    /// a step's values from one pointer (see micro_kernel).
    template <class T>
    static const T* step(const T* a, std::size_t lda, std::size_t i0, std::size_t p) {
        return a + i0 * lda + p;
    }
    template <class T>
    static auto in_step(const T* ap, std::size_t lda, std::size_t r) {
        return widen(ap[r * lda]);
    }
    /// A shifted to start at column p0, or at row i0.
    template <class T>
    static const T* from_column(const T* a, std::size_t, std::size_t p0) {
        return a + p0;
    }
    template <class T>
    static const T* from_row(const T* a, std::size_t lda, std::size_t i0) {
        return a + i0 * lda;
    }
};
/// A(i, p) = a[p * lda + i]
struct transposed {
    template <class T>
    static auto at(const T* a, std::size_t lda, std::size_t i, std::size_t p) {
        return widen(a[p * lda + i]);
    }
    template <class T>
    static const T* step(const T* a, std::size_t lda, std::size_t i0, std::size_t p) {
        return a + p * lda + i0;
    }
    template <class T>
    static auto in_step(const T* ap, std::size_t, std::size_t r) {
        return widen(ap[r]);
    }
    template <class T>
    static const T* from_column(const T* a, std::size_t lda, std::size_t p0) {
        return a + p0 * lda;
    }
    template <class T>
    static const T* from_row(const T* a, std::size_t, std::size_t i0) {
        return a + i0;
    }
};

/// The usual B operand: B(p, j) = b[p * ldb + j]. A GEMM reads B only through
/// row(p) and column(j), the offset of column j within a row, and the W columns
/// of one vector must be W consecutive values; an operand that maps them
/// elsewhere (im2col.hpp reads image patches in place) saves copying B first.
template <class TB>
struct row_major_operand {
    using value_type = TB;
    const TB* b;
    std::size_t ldb;
    const TB* row(std::size_t p) const { return b + p * ldb; }
    static constexpr std::size_t column(std::size_t j) { return j; }
    row_major_operand from_row(std::size_t p0) const { return {b + p0 * ldb, ldb}; }
};

/// Epilogue that stores the product unchanged.
struct no_epilogue {
    template <class V>
    V operator()(V acc, std::size_t /*row*/, std::size_t /*column*/) const {
        return acc;
    }
};

}  // namespace typenet::kernels
