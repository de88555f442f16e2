#pragma once
// Dot products between the rows of two matrices that are both stored along the
// summed dimension, kept as partial sums in vector lanes:
//
//   partial(i, j) += A.row(i) . B.row(j)       (A: M x K, B: N x K, both row-major)
//
// partial(i, j) is W values (one simd vector) whose sum is the dot product. The
// horizontal sums are left for reduce_row_products, once, after every call has
// added its share: a convolution's weight gradient sums such products over every
// sample of a batch, and K (its output positions) is short enough per sample
// (64 for LeNet's second convolution) that reducing each time would cost as much
// as the products themselves.
//
// Why not the GEMM: that needs one of the two operands transposed. For the weight
// gradient dW^T[f][q] = sum over n of dZ[f][n] * columns[q][n] both operands come
// as rows along n; transposing the columns (Q x N) every sample cost more than the
// product, and a GEMM with F = 6 output columns would run in scalar tails.
#include <cstddef>
#include <utility>

#include "gemm.hpp"
#include "simd.hpp"

namespace typenet::kernels {

namespace detail {

// The last products of a block, from k0 on (fewer than a vector): in the narrower lanes
// that fit (half_lane), added into the low lanes of the partial sums, then one by one
// into the first lane; the reduction adds every lane anyway. LeNet's first convolution
// in AVX-512 vectors leaves 12 of its 668 wide positions: as scalars they were 2 016
// of a sample's 8 900 multiply-adds.
template <std::size_t K, std::size_t k0, std::size_t MR, std::size_t NR, class H, class T, class BOperand>
inline void row_products_tail(const T* a, std::size_t lda, const T* const* brow, const BOperand& b, T* partial,
                              std::size_t n_total) {
    constexpr std::size_t W = simd_width<T>;
    if constexpr (k0 >= K) {
        return;
    } else if constexpr (is_scalar_lane_v<H>) {
#pragma GCC unroll 16
        for (std::size_t i = 0; i < MR; ++i)
#pragma GCC unroll 16
            for (std::size_t j = 0; j < NR; ++j) {
                T* p = partial + (i * n_total + j) * W;
                for (std::size_t r = k0; r < K; ++r) p[0] = mul_add(a[i * lda + r], brow[j][b.column(r)], p[0]);
            }
    } else if constexpr (K - k0 < lane_width<H>) {
        row_products_tail<K, k0, MR, NR, half_lane_t<H>>(a, lda, brow, b, partial, n_total);
    } else {
        H bv[NR];
#pragma GCC unroll 16
        for (std::size_t j = 0; j < NR; ++j) bv[j] = load_lane<H>(brow[j] + b.column(k0));
#pragma GCC unroll 16
        for (std::size_t i = 0; i < MR; ++i) {
            const H av = load_lane<H>(a + i * lda + k0);
#pragma GCC unroll 16
            for (std::size_t j = 0; j < NR; ++j) {
                T* p = partial + (i * n_total + j) * W;
                store_lane(p, mul_add(av, bv[j], load_lane<H>(p)));
            }
        }
        row_products_tail<K, k0 + lane_width<H>, MR, NR, half_lane_t<H>>(a, lda, brow, b, partial, n_total);
    }
}

// MR rows of A against NR rows of B: MR * NR accumulators, MR + NR loads per step.
// B's rows come from an operand (gemm.hpp): row j starts at b.row(j), and values
// k..k+W-1 of a row are consecutive from b.column(k) on.
template <std::size_t K, std::size_t MR, std::size_t NR, class T, class BOperand>
inline void row_products_block(const T* a, std::size_t lda, const BOperand& b, std::size_t j0, T* partial,
                               std::size_t n_total) {
    using V = simd<T>;
    constexpr std::size_t W = V::size;
    constexpr std::size_t vector_end = K - K % W;
    V acc[MR][NR];
#pragma GCC unroll 16
    for (std::size_t i = 0; i < MR; ++i)
#pragma GCC unroll 16
        for (std::size_t j = 0; j < NR; ++j) acc[i][j] = V(T(0));
    const T* brow[NR];
#pragma GCC unroll 16
    for (std::size_t j = 0; j < NR; ++j) brow[j] = b.row(j0 + j);
    for (std::size_t k = 0; k < vector_end; k += W) {
        const std::size_t column = b.column(k);
        V bv[NR];
#pragma GCC unroll 16
        for (std::size_t j = 0; j < NR; ++j) bv[j] = load_lane<V>(brow[j] + column);
#pragma GCC unroll 16
        for (std::size_t i = 0; i < MR; ++i) {
            const V av = load_lane<V>(a + i * lda + k);
#pragma GCC unroll 16
            for (std::size_t j = 0; j < NR; ++j) acc[i][j] = mul_add(av, bv[j], acc[i][j]);
        }
    }
#pragma GCC unroll 16
    for (std::size_t i = 0; i < MR; ++i)
#pragma GCC unroll 16
        for (std::size_t j = 0; j < NR; ++j) {
            T* p = partial + (i * n_total + j) * W;
            store_lane(p, load_lane<V>(p) + acc[i][j]);
        }
    row_products_tail<K, vector_end, MR, NR, half_lane_t<V>>(a, lda, brow, b, partial, n_total);
}

template <std::size_t K, std::size_t MR, std::size_t NR, class T, class BOperand>
inline void row_products_rows(std::size_t N, const T* a, std::size_t lda, const BOperand& b, T* partial) {
    constexpr std::size_t W = simd_width<T>;
    const std::size_t full = N - N % NR;
    for (std::size_t j = 0; j < full; j += NR) row_products_block<K, MR, NR>(a, lda, b, j, partial + j * W, N);
    // The column tail, one B row at a time, counted from 0 (below NR): continuing the
    // loop above from its j, g++ 12 -O3 could not bound j and warned of a wrap-around.
    for (std::size_t r = 0; r < N % NR; ++r)
        row_products_block<K, MR, 1>(a, lda, b, full + r, partial + (full + r) * W, N);
}

}  // namespace detail

/// Blocks: 6 rows of A by 2 rows of B use 12 accumulators, 2 B vectors and one A
/// vector: 15 of AVX2's 16 registers. With AVX-512's 32, 6 by 4 (24 accumulators):
/// LeNet's first convolution's weight gradient at batch 64 took 195 us against 266-284
/// with 6 by 2 (best of 600 calls).
inline constexpr std::size_t row_products_a_rows = 6;
inline constexpr std::size_t row_products_b_rows = vector_registers == 32 ? 4 : 2;

/// The size of the partial sums for M x N products, in values of T.
template <class T>
constexpr std::size_t row_products_size(std::size_t M, std::size_t N) {
    return M * N * simd_width<T>;
}

/// partial (M x N vectors, see row_products_size) += the row products of A (M x K) and B (N x K,
/// an operand as the GEMM takes: row_major_operand, or image patches read in place).
template <std::size_t K, class T, class BOperand>
requires requires { typename BOperand::value_type; }
inline void accumulate_row_products(std::size_t M, std::size_t N, const T* a, std::size_t lda, const BOperand& b,
                                    T* partial) {
    constexpr std::size_t MR = row_products_a_rows, NR = row_products_b_rows;
    const std::size_t row_stride = N * simd_width<T>;
    std::size_t i = 0;
    for (; i + MR <= M; i += MR) detail::row_products_rows<K, MR, NR>(N, a + i * lda, lda, b, partial + i * row_stride);
    const std::size_t rest = M - i;
    if (rest == 0) return;
    // The row tail gets a block of exactly that height (all compile-time).
    [&]<std::size_t... R>(std::index_sequence<R...>) {
        ((rest == R + 1 ? (detail::row_products_rows<K, R + 1, NR>(N, a + i * lda, lda, b, partial + i * row_stride), 0)
                        : 0),
         ...);
    }
    (std::make_index_sequence<MR - 1>{});
}

/// The same with B row-major (leading dimension ldb).
template <std::size_t K, class T>
inline void accumulate_row_products(std::size_t M, std::size_t N, const T* a, std::size_t lda, const T* b,
                                    std::size_t ldb, T* partial) {
    accumulate_row_products<K>(M, N, a, lda, row_major_operand<T>{b, ldb}, partial);
}

/// out[i * row_stride + j * column_stride] = the sum of partial(i, j)'s lanes.
template <class T>
inline void reduce_row_products(std::size_t M, std::size_t N, const T* partial, T* out, std::size_t row_stride,
                                std::size_t column_stride) {
    for (std::size_t i = 0; i < M; ++i)
        for (std::size_t j = 0; j < N; ++j)
            out[i * row_stride + j * column_stride] =
                xsimd::hadd(load_lane<simd<T>>(partial + (i * N + j) * simd_width<T>));
}

}  // namespace typenet::kernels
