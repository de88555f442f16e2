#pragma once
// Register-blocked matrix product with a fused epilogue.
//
//   C[M x N] (=|+=) epilogue( A[M x K] * B[K x N] )
//
// C is row-major; B is row-major or, through an operand (row_major_operand; the
// image patches of im2col.hpp), any layout whose vectors are consecutive values;
// A is row-major or transposed (A(i,p) = a[p*lda + i]), which covers the three
// products of a dense layer without copies:
//   forward   Y  = X  * W        (A = X,   row-major)
//   weights   dW = X^T * dZ      (A = X,   transposed)
//   inputs    dX = dZ * W^T      (B = W^T, transposed once into scratch)
// N is a compile-time constant so every column tail is resolved at compile time.
// The micro-kernel keeps an MR x (NV * simd width) block of C in registers while
// it walks K, and applies the epilogue (bias, activation) to those registers
// before the single store: that is the fusion of dense+activation.
// An epilogue is called as epilogue(lane, row, first_column) and returns the lane to store.
//
// A and B may be stored as bfloat16 (weights of the reduced-precision inference
// path): they are widened to C's type as they are loaded, and the sums stay in it.
// A bfloat16 B must be laid out by interleave_bfloat16 (simd.hpp), which lets
// the kernel widen two vectors from one load.
//
// gemm_skipping_zeros is the same product for an A with many zeros (image data):
// each register block walks only the depth steps where its rows of A are not all zero.
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "simd.hpp"

namespace typenet::kernels {

/// Depth of one K block. A block of B (gemm_depth_block rows of one column panel,
/// 16 KB in float) then stays in L1 while every row block of A passes over it;
/// without blocking, a 784-deep panel strided across a 128-wide weight matrix
/// touches ~100 pages per pass and the kernel runs at half speed.
inline constexpr std::size_t gemm_depth_block = 256;

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

namespace detail {

// When B is a fixed-size array the compiler can see (the stack scratch of a batch-1
// predict), g++ notes that an absurdly large K would run past it and "invokes
// undefined behavior"; K is bounded by the layer's sizes, so the note is noise.
#if defined(__GNUC__) && !defined(__clang__)  // clang has no such warning, and warns about the unknown group
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Waggressive-loop-optimizations"
#endif

/// The depth steps a register block walks: every p in [0, K) ...
struct all_steps {
    std::size_t count;
    std::size_t operator[](std::size_t s) const { return s; }
};
/// ... or the listed ones (the others are known to add nothing; see gemm_skipping_zeros).
struct listed_steps {
    const std::uint16_t* steps;
    std::size_t count;
    std::size_t operator[](std::size_t s) const { return steps[s]; }
};

// Register block: MR rows, NV vectors of W lanes (V = simd) or NV scalars (V = T),
// along the depth steps `steps` (all_steps or listed_steps).
template <class V, std::size_t MR, std::size_t NV, class ALayout, bool Accumulate, class TA, class BOperand, class T,
          class Epilogue, class Steps>
inline void micro_kernel(Steps steps, const TA* a, std::size_t lda, std::size_t i0, const BOperand& b, std::size_t j0,
                         T* c, std::size_t ldc, const Epilogue& epilogue) {
    using TB = typename BOperand::value_type;
    constexpr std::size_t W = lane_width<V>;
    std::size_t column_at[NV];
#pragma GCC unroll 16
    for (std::size_t v = 0; v < NV; ++v) column_at[v] = b.column(j0 + v * W);
    V acc[MR][NV];
#pragma GCC unroll 16
    for (std::size_t r = 0; r < MR; ++r)
#pragma GCC unroll 16
        for (std::size_t v = 0; v < NV; ++v) acc[r][v] = V(T(0));

    for (std::size_t s = 0; s < steps.count; ++s) {
        const std::size_t p = steps[s];
        const TB* brow = b.row(p);
        V bv[NV];
        if constexpr (std::is_same_v<TB, bfloat16> && !is_scalar_lane_v<V>) {
#pragma GCC unroll 16
            for (std::size_t v = 0; v + 1 < NV; v += 2) load_interleaved_pair(brow + column_at[v], bv[v], bv[v + 1]);
            if constexpr (NV % 2 == 1) bv[NV - 1] = load_lane<V>(brow + column_at[NV - 1]);
        } else {
#pragma GCC unroll 16
            for (std::size_t v = 0; v < NV; ++v) bv[v] = load_lane<V>(brow + column_at[v]);
        }
        const auto ap = ALayout::step(a, lda, i0, p);  // a pointer, or what the layout needs to find A(i0 + r, p)
#pragma GCC unroll 16
        for (std::size_t r = 0; r < MR; ++r) {
            const V av(ALayout::in_step(ap, lda, r));
#pragma GCC unroll 16
            for (std::size_t v = 0; v < NV; ++v) acc[r][v] = mul_add(av, bv[v], acc[r][v]);
        }
    }

#pragma GCC unroll 16
    for (std::size_t r = 0; r < MR; ++r) {
        T* crow = c + (i0 + r) * ldc + j0;
#pragma GCC unroll 16
        for (std::size_t v = 0; v < NV; ++v) {
            V value = acc[r][v];
            if constexpr (Accumulate) value = value + load_lane<V>(crow + v * W);
            // V given: an epilogue may return the full vector its arithmetic made of a partial_lane.
            store_lane<V>(crow + v * W, epilogue(value, i0 + r, j0 + v * W));
        }
    }
}

// The column tail of a single row (batch-1 inference), every lane width in one pass
// over the depth: the half-width vector, the quarter-width one and the scalars that
// the tail needs (Rest < V's width) each keep one accumulator. Run one after another,
// as column_tail runs them for many rows, a row's tail is two or three dependent FMA
// chains in sequence, each waiting on the FMA latency at every step: the MLP's
// 128 -> 10 layer took a fifth of its batch-1 inference. Each column still sums its
// products in the same order, so the outputs are those of the batched product.
template <class V, std::size_t Rest, class ALayout, bool Accumulate, class TA, class BOperand, class T, class Epilogue,
          class Steps>
inline void one_row_tail(Steps steps, const TA* a, std::size_t lda, std::size_t i0, const BOperand& b, std::size_t j0,
                         T* c, const Epilogue& epilogue) {
    using TB = typename BOperand::value_type;
    using H1 = half_lane_t<V>;
    using H2 = half_lane_t<H1>;
    constexpr std::size_t w1 = lane_width<H1>, w2 = lane_width<H2>;
    constexpr bool take1 = !is_scalar_lane_v<H1> && Rest >= w1;
    constexpr std::size_t rest1 = Rest - (take1 ? w1 : 0);
    constexpr bool take2 = !is_scalar_lane_v<H2> && rest1 >= w2;
    constexpr std::size_t scalars = rest1 - (take2 ? w2 : 0);
    static_assert(scalars < 4, "one_row_tail: a tail this wide needs another lane width");
    constexpr std::size_t at2 = take1 ? w1 : 0, at_scalars = at2 + (take2 ? w2 : 0);
    const std::size_t col1 = b.column(j0), col2 = b.column(j0 + at2);
    std::size_t col_s[scalars > 0 ? scalars : 1];
    for (std::size_t r = 0; r < scalars; ++r) col_s[r] = b.column(j0 + at_scalars + r);
    H1 acc1(T(0));
    H2 acc2(T(0));
    T acc_s[scalars > 0 ? scalars : 1] = {};
    for (std::size_t s = 0; s < steps.count; ++s) {
        const std::size_t p = steps[s];
        const TB* brow = b.row(p);
        const T av = ALayout::in_step(ALayout::step(a, lda, i0, p), lda, 0);
        if constexpr (take1) acc1 = mul_add(H1(av), load_lane<H1>(brow + col1), acc1);
        if constexpr (take2) acc2 = mul_add(H2(av), load_lane<H2>(brow + col2), acc2);
#pragma GCC unroll 4
        for (std::size_t r = 0; r < scalars; ++r) acc_s[r] = mul_add(av, T(widen(brow[col_s[r]])), acc_s[r]);
    }
    T* crow = c + j0;
    if constexpr (take1) {
        H1 v = acc1;
        if constexpr (Accumulate) v = v + load_lane<H1>(crow);
        store_lane(crow, epilogue(v, i0, j0));
    }
    if constexpr (take2) {
        H2 v = acc2;
        if constexpr (Accumulate) v = v + load_lane<H2>(crow + at2);
        store_lane(crow + at2, epilogue(v, i0, j0 + at2));
    }
    for (std::size_t r = 0; r < scalars; ++r) {
        T v = acc_s[r];
        if constexpr (Accumulate) v = v + crow[at_scalars + r];
        crow[at_scalars + r] = epilogue(v, i0, j0 + at_scalars + r);
    }
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

/// Which depth steps each register block walks: all of them ...
struct every_step {
    all_steps operator()(std::size_t /*i0*/, std::size_t K) const { return {K}; }
};

// All rows [0, M) for the columns [j0, j0 + NV*W): full MR blocks, then one tail block.
template <class V, std::size_t MR, std::size_t NV, class ALayout, bool Accumulate, class TA, class BOperand, class T,
          class Epilogue, class StepsOf = every_step>
inline void column_panel(std::size_t M, std::size_t K, const TA* a, std::size_t lda, const BOperand& b, std::size_t j0,
                         T* c, std::size_t ldc, const Epilogue& epilogue, const StepsOf& steps_of = {}) {
    std::size_t i = 0;
    for (; i + MR <= M; i += MR)
        micro_kernel<V, MR, NV, ALayout, Accumulate>(steps_of(i, K), a, lda, i, b, j0, c, ldc, epilogue);
    const std::size_t rest = M - i;
    if (rest == 0) return;
    // The row tail in blocks of 8, 4, 2 and 1 rows (those below MR): four kernels at
    // most instead of one per height, MR - 1, which with 12-row blocks made the test
    // programs' compile time grow by half. The tail is a small part of any product,
    // and blocks of rows do not change what any element sums.
    static_assert(MR <= 16, "column_panel: row tails are split into blocks of at most 8 rows");
    const auto tail_block = [&]<std::size_t H>() {
        if constexpr (H < MR)
            if (rest & H) {
                micro_kernel<V, H, NV, ALayout, Accumulate>(steps_of(i, K), a, lda, i, b, j0, c, ldc, epilogue);
                i += H;
            }
    };
    tail_block.template operator()<8>();
    tail_block.template operator()<4>();
    tail_block.template operator()<2>();
    tail_block.template operator()<1>();
}

// The last Rest (< lane width of V) columns, from j0: in vectors of half, then a quarter
// of V's width where they fill one, the rest as scalars. With AVX-512's 16 floats a
// vector, a 10-wide output (a classifier) or the 8 columns left of 120 would otherwise
// all be scalars (the 84 -> 10 layer ran 2.8x slower than with AVX2's 8-wide vectors).
template <class V, std::size_t MR, std::size_t Rest, class ALayout, bool Accumulate, class TA, class BOperand, class T,
          class Epilogue, class StepsOf>
inline void column_tail(std::size_t M, std::size_t K, const TA* a, std::size_t lda, const BOperand& b, std::size_t j0,
                        T* c, std::size_t ldc, const Epilogue& epilogue, const StepsOf& steps_of) {
    using TB = typename BOperand::value_type;
    if constexpr (Rest > 0 && has_partial_lanes && std::is_same_v<TB, T> && !is_scalar_lane_v<V> &&
                  lane_width<V> == simd_width<T>) {
        // One pass of masked vectors (AVX-512). The MLP's 128 -> 10 layer at batch 256
        // took 6 % of a batch of inference as an 8-lane pass and a pass of two scalars.
        column_panel<partial_lane<V, Rest>, MR, 1, ALayout, Accumulate>(M, K, a, lda, b, j0, c, ldc, epilogue,
                                                                        steps_of);
    } else if constexpr (Rest > 0) {
        using H = half_lane_t<V>;
        constexpr std::size_t HW = lane_width<H>;
        if constexpr (is_scalar_lane_v<H>) {
            column_panel<H, MR, Rest, ALayout, Accumulate>(M, K, a, lda, b, j0, c, ldc, epilogue, steps_of);
        } else if constexpr (Rest >= HW) {
            column_panel<H, MR, 1, ALayout, Accumulate>(M, K, a, lda, b, j0, c, ldc, epilogue, steps_of);
            column_tail<H, MR, Rest - HW, ALayout, Accumulate>(M, K, a, lda, b, j0 + HW, c, ldc, epilogue, steps_of);
        } else {
            column_tail<H, MR, Rest, ALayout, Accumulate>(M, K, a, lda, b, j0, c, ldc, epilogue, steps_of);
        }
    }
}

}  // namespace detail

/// Vector registers of the instruction set the kernels are compiled for: 32 with
/// AVX-512, 16 with AVX2/AVX/SSE on x86-64.
#if XSIMD_WITH_AVX512F
inline constexpr std::size_t vector_registers = 32;
#else
inline constexpr std::size_t vector_registers = 16;
#endif

/// The register block of a product with N columns of T: MR rows x NV vectors of C
/// held as accumulators while the kernel walks the depth. Three quarters of the
/// registers hold accumulators (12 of AVX2's 16, 24 of AVX-512's 32), the rest the
/// vectors of B and a broadcast of A. Blocks are as wide as N allows up to a sixth of
/// the accumulators (2 vectors on AVX2, 4 on AVX-512: fewer broadcasts of A per FMA,
/// while at least six rows share each vector of B), and as tall as the rest allows,
/// at most 12 rows. A narrow product (LeNet's
/// 16 filters are one AVX-512 vector) thus gets 12 x 1, twelve independent FMA
/// chains, instead of 6 x 1, which waits on the FMA latency. Measured at batch 64 on
/// AVX-512 (best of 375 calls, GFLOP/s): 784 -> 128 forward 6x2 161, 6x4 167;
/// weight gradient 164 / 170; 150 x 16 x 64 (a convolution's weight gradient)
/// 6x1 126, 12x1 160.
template <class T, std::size_t N>
struct register_block {
    static constexpr std::size_t accumulators = vector_registers * 3 / 4;
    static constexpr std::size_t full_vectors = N / simd_width<T>;
    static constexpr std::size_t max_vectors = accumulators / 6;
    static constexpr std::size_t vectors = full_vectors == 0            ? 1
                                           : full_vectors < max_vectors ? full_vectors
                                                                        : max_vectors;
    static constexpr std::size_t max_rows = accumulators / vectors;  ///< as many as the accumulators allow
    static constexpr std::size_t rows = max_rows < 12 ? max_rows : 12;
};
/// The usual block (the MLP's 128-wide layers): 6 rows x 2 vectors on AVX2, 6 x 4 on AVX-512.
inline constexpr std::size_t gemm_rows_per_block = register_block<float, 128>::rows;
inline constexpr std::size_t gemm_vectors_per_block = register_block<float, 128>::vectors;

namespace detail {

// One block of the K dimension: all column panels, all rows, with register
// blocks of MR rows x NV vectors.
template <std::size_t N, class ALayout, bool Accumulate, std::size_t MR, std::size_t NV, class TA, class BOperand,
          class T, class Epilogue, class StepsOf = every_step>
inline void gemm_block(std::size_t M, std::size_t K, const TA* a, std::size_t lda, const BOperand& b, T* c,
                       std::size_t ldc, const Epilogue& epilogue, const StepsOf& steps_of = {}) {
    using V = simd<T>;
    constexpr std::size_t W = V::size;
    constexpr std::size_t panel = NV * W;
    constexpr std::size_t full_panels = N / panel;
    constexpr std::size_t tail_vectors = (N % panel) / W;
    constexpr std::size_t tail_scalars = N % W;

    for (std::size_t jp = 0; jp < full_panels; ++jp)
        column_panel<V, MR, NV, ALayout, Accumulate>(M, K, a, lda, b, jp * panel, c, ldc, epilogue, steps_of);
    if constexpr (tail_vectors > 0)
        column_panel<V, MR, tail_vectors, ALayout, Accumulate>(M, K, a, lda, b, full_panels * panel, c, ldc, epilogue,
                                                               steps_of);
    if constexpr (MR == 1 && tail_scalars > 0) {
        for (std::size_t i = 0; i < M; ++i)
            one_row_tail<V, tail_scalars, ALayout, Accumulate>(steps_of(i, K), a, lda, i, b, N - tail_scalars,
                                                               c + i * ldc, epilogue);
    } else {
        column_tail<V, MR, tail_scalars, ALayout, Accumulate>(M, K, a, lda, b, N - tail_scalars, c, ldc, epilogue,
                                                              steps_of);
    }
}

// A single row (batch-1 inference) gets its own blocking: with one row, a 6x2
// block degenerates to 2 accumulator chains and the kernel waits on FMA latency;
// 8 vectors across give 8 independent chains.
inline constexpr std::size_t gemv_vectors_per_block = 8;

/// For each 8-bit mask, the positions of its set bits, lowest first: the steps of a
/// group of eight that nonzero_steps keeps, written with one store.
struct compressed_offsets_table {
    std::uint16_t values[256][8];
    constexpr compressed_offsets_table() : values{} {
        for (unsigned mask = 0; mask < 256; ++mask) {
            unsigned n = 0;
            for (unsigned bit = 0; bit < 8; ++bit)
                if (mask >> bit & 1u) values[mask][n++] = static_cast<std::uint16_t>(bit);
        }
    }
};
inline constexpr compressed_offsets_table compressed_offsets{};

/// The depth steps p in [0, K) at which rows [i0, i0 + rows) of A are not all zero,
/// written to steps; returns their count. A NaN is not zero, so it is never skipped.
template <class ALayout, class TA>
inline std::size_t nonzero_steps(const TA* a, std::size_t lda, std::size_t i0, std::size_t rows, std::size_t K,
                                 std::uint16_t* steps) {
    std::size_t n = 0, p = 0;
#if defined(__AVX2__)
    if constexpr (std::is_same_v<TA, float> && std::is_same_v<ALayout, transposed>) {
        if (rows <= 8) {
            // A step's values are consecutive: one load per step. Lanes past `rows`
            // are not loaded (they may lie past the end of A) and read as zero.
            const __m256i lanes = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(rows)),
                                                     _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
            for (; p < K; ++p) {
                const __m256 v = _mm256_maskload_ps(a + p * lda + i0, lanes);
                steps[n] = static_cast<std::uint16_t>(p);
                n += _mm256_movemask_ps(_mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_NEQ_UQ)) != 0;
            }
        }
    }
#if defined(__AVX512BW__) && defined(__AVX512VBMI2__)
    if constexpr (std::is_same_v<TA, float> && std::is_same_v<ALayout, row_major>) {
        // Thirty-two steps per pass: a mask per row from two compares, and the kept
        // steps packed by one compress of their positions (VBMI2). The eight-step
        // passes below took about a tenth of the MLP's first layer in pairs of rows
        // (perf). Each pass writes 32 entries at steps + n, and n <= p, so none lies
        // past K.
        alignas(64) static constexpr std::uint16_t first_positions[32] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                                                                          11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
                                                                          22, 23, 24, 25, 26, 27, 28, 29, 30, 31};
        const __m512i positions = _mm512_load_si512(first_positions);
        for (const std::size_t wide_end = K - K % 32; p < wide_end; p += 32) {
            __mmask32 nonzero = 0;
            for (std::size_t r = 0; r < rows; ++r) {
                const float* row = a + (i0 + r) * lda + p;
                const __mmask32 low = _mm512_cmp_ps_mask(_mm512_loadu_ps(row), _mm512_setzero_ps(), _CMP_NEQ_UQ);
                const __mmask32 high = _mm512_cmp_ps_mask(_mm512_loadu_ps(row + 16), _mm512_setzero_ps(), _CMP_NEQ_UQ);
                nonzero |= low | high << 16;
            }
            const __m512i kept = _mm512_add_epi16(positions, _mm512_set1_epi16(static_cast<short>(p)));
            _mm512_storeu_si512(steps + n, _mm512_maskz_compress_epi16(nonzero, kept));
            n += static_cast<std::size_t>(__builtin_popcount(nonzero));
        }
    }
#endif
    if constexpr (std::is_same_v<TA, float> && std::is_same_v<ALayout, row_major>) {
        // A row's values are consecutive: eight steps per load and row, and the steps
        // of the eight whose bit is set written at once (compressed_offsets). The
        // loop ends at a bound computed once: with `p + 8 <= K` g++ 12 -O3 could not
        // tell that p stays below K and warned of the tail loop's index overflowing
        // (-Waggressive-loop-optimizations, a 16-input first layer).
        for (const std::size_t vector_end = K - K % 8; p < vector_end; p += 8) {
            int nonzero = 0;
            for (std::size_t r = 0; r < rows; ++r)
                nonzero |= _mm256_movemask_ps(
                    _mm256_cmp_ps(_mm256_loadu_ps(a + (i0 + r) * lda + p), _mm256_setzero_ps(), _CMP_NEQ_UQ));
            const __m128i offsets =
                _mm_loadu_si128(reinterpret_cast<const __m128i*>(compressed_offsets.values[nonzero]));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(steps + n),
                             _mm_add_epi16(offsets, _mm_set1_epi16(static_cast<short>(p))));
            n += static_cast<std::size_t>(__builtin_popcount(static_cast<unsigned>(nonzero)));
        }
    }
#endif
    for (; p < K; ++p) {
        bool any = false;
        for (std::size_t r = 0; r < rows; ++r) any |= ALayout::at(a, lda, i0 + r, p) != TA(0);
        steps[n] = static_cast<std::uint16_t>(p);
        n += any;
    }
    return n;
}

/// An epilogue applied to rows that start at row `first` of the whole product.
template <class Epilogue>
struct row_offset_epilogue {
    const Epilogue& epilogue;
    std::size_t first;
    template <class V>
    V operator()(V acc, std::size_t row, std::size_t column) const {
        return epilogue(acc, first + row, column);
    }
};

/// ... or, for the register block of rows starting at i0, the steps listed for it.
template <std::size_t MR>
struct listed_steps_of {
    const std::uint16_t (*lists)[gemm_depth_block];
    const std::size_t* counts;
    listed_steps operator()(std::size_t i0, std::size_t /*K*/) const { return {lists[i0 / MR], counts[i0 / MR]}; }
};

/// Register blocks of rows whose lists of depth steps are kept at once.
inline constexpr std::size_t listed_row_blocks = 16;

/// Lists the depth steps of the register blocks in rows [i0, i0 + rows) (see
/// nonzero_steps) into lists and counts; returns how many steps they keep in all.
template <class ALayout, std::size_t MR, class TA>
inline std::size_t list_nonzero_steps(const TA* a, std::size_t lda, std::size_t i0, std::size_t rows, std::size_t K,
                                      std::uint16_t (*lists)[gemm_depth_block], std::size_t* counts) {
    std::size_t kept = 0;
    for (std::size_t r = 0, block = 0; r < rows; r += MR, ++block) {
        counts[block] = nonzero_steps<ALayout>(a, lda, i0 + r, rows - r < MR ? rows - r : MR, K, lists[block]);
        kept += counts[block];
    }
    return kept;
}

// gemm_block, skipping the depth steps at which a register block's rows of A are
// all zero. Rows go in chunks of listed_row_blocks register blocks: the steps of
// each block are listed once, then gemm_block walks the chunk panel by panel as
// usual, each block along its own list. Returns false, having done nothing, when
// the first chunk would skip less than one step in eight (inputs without zeros
// worth skipping): the plain product, which walks its steps without an index, is
// then faster. Never inlined: inlined next to the plain product, the two register
// blocks compete for registers and g++ spills an accumulator (44 against
// 81 GFLOP/s measured).
template <std::size_t N, class ALayout, bool Accumulate, std::size_t MR, std::size_t NV, class TA, class BOperand,
          class T, class Epilogue>
[[gnu::noinline]] bool gemm_block_skipping_zeros(std::size_t M, std::size_t K, const TA* a, std::size_t lda,
                                                 const BOperand& b, T* c, std::size_t ldc, const Epilogue& epilogue) {
    constexpr std::size_t chunk = listed_row_blocks * MR;
    std::uint16_t lists[listed_row_blocks][gemm_depth_block];
    std::size_t counts[listed_row_blocks];
    for (std::size_t i0 = 0; i0 < M; i0 += chunk) {
        const std::size_t rows = M - i0 < chunk ? M - i0 : chunk;
        const std::size_t kept = list_nonzero_steps<ALayout, MR>(a, lda, i0, rows, K, lists, counts);
        if (i0 == 0 && 8 * kept > 7 * ((rows + MR - 1) / MR) * K) return false;
        gemm_block<N, ALayout, Accumulate, MR, NV>(rows, K, ALayout::from_row(a, lda, i0), lda, b, c + i0 * ldc, ldc,
                                                   row_offset_epilogue<Epilogue>{epilogue, i0},
                                                   listed_steps_of<MR>{lists, counts});
    }
    return true;
}

template <std::size_t N, class ALayout, bool Accumulate, std::size_t MR, std::size_t NV, bool SkipZeros, class TA,
          class BOperand, class T, class Epilogue>
inline void depth_block(std::size_t M, std::size_t K, const TA* a, std::size_t lda, const BOperand& b, T* c,
                        std::size_t ldc, const Epilogue& epilogue) {
    if constexpr (SkipZeros)
        if (gemm_block_skipping_zeros<N, ALayout, Accumulate, MR, NV>(M, K, a, lda, b, c, ldc, epilogue)) return;
    gemm_block<N, ALayout, Accumulate, MR, NV>(M, K, a, lda, b, c, ldc, epilogue);
}

// The rows of the register block for the usual Block (register_block). An A layout
// may fit them to its rows: one that needs blocks of its own shape says how many
// (im2col.hpp's position_rows: whole output rows, up to all the accumulators); one that
// fixes the number of rows at compile time (patch_rows: a convolution's patch) gets the
// largest block down to two thirds of the usual rows that divides them, so that no
// tail blocks of few rows reread B: LeNet's 150 patch rows in blocks of 10 rather than
// 12 + 4 + 2 took 164 us rather than 179 for a batch's weight gradient (AVX-512, best
// of 600; 11 rows 178, 9 rows 183, 8 rows 192).
// Such blocks are at most 16 rows: column_panel's row tails (which these layouts never
// have) are compiled for those.
template <class Block>
inline constexpr std::size_t layout_rows_limit = Block::max_rows < 16 ? Block::max_rows : 16;
template <class ALayout, class Block>
inline constexpr bool block_rows_fit = ALayout::template block_rows<layout_rows_limit<Block>> > 0;

template <class ALayout, class Block>
constexpr std::size_t block_rows_for() {
    if constexpr (requires { ALayout::template block_rows<Block::max_rows>; }) {
        static_assert(block_rows_fit<ALayout, Block>, "the layout's register blocks do not fit");
        return ALayout::template block_rows<layout_rows_limit<Block>>;
    } else if constexpr (requires { ALayout::rows; }) {
        for (std::size_t r = Block::rows; 3 * r >= 2 * Block::rows; --r)
            if (ALayout::rows % r == 0) return r;
    }
    return Block::rows;
}

// block.template operator()<Acc>(k0, d, e) for the depth blocks [k0, k0 + d) of K, `depth`
// steps each but the last: the first with Accumulate (as the product asks), the others
// adding to it, and the epilogue e only on the last, when the sums are complete.
template <bool Accumulate, class Block, class Epilogue>
inline void over_depth_blocks(std::size_t K, std::size_t depth, const Block& block, const Epilogue& epilogue) {
    if (K <= depth) {
        block.template operator()<Accumulate>(0, K, epilogue);
        return;
    }
    block.template operator()<Accumulate>(0, depth, no_epilogue{});
    std::size_t k0 = depth;
    for (; k0 + depth < K; k0 += depth) block.template operator()<true>(k0, depth, no_epilogue{});
    block.template operator()<true>(k0, K - k0, epilogue);
}

// The depth in blocks of equal size (784 = 4 x 196 rather than 3 x 256 + 16, whose
// last block would cost a whole pass over C for 16 steps). Every register-block
// shape goes through the same blocks, so each element of C is the same sequence of
// operations whatever M is: a sample's outputs do not depend on the batch it is in.
template <std::size_t N, class ALayout, bool Accumulate, std::size_t MR, std::size_t NV, bool SkipZeros, class TA,
          class BOperand, class T, class Epilogue>
inline void gemm_in_equal_depth_blocks(std::size_t M, std::size_t K, const TA* a, std::size_t lda, const BOperand& b,
                                       T* c, std::size_t ldc, const Epilogue& epilogue) {
    constexpr std::size_t KC = gemm_depth_block;
    const std::size_t blocks = (K + KC - 1) / KC;
    const std::size_t depth = (K + blocks - 1) / blocks;
    over_depth_blocks<Accumulate>(
        K, depth,
        [&]<bool Acc, class E>(std::size_t k0, std::size_t d, const E& e) {
            depth_block<N, ALayout, Acc, MR, NV, SkipZeros>(M, d, ALayout::from_column(a, lda, k0), lda, b.from_row(k0),
                                                            c, ldc, e);
        },
        epilogue);
}

// The product over its depth: in equal blocks (above), or in one for layouts that need it.
template <std::size_t N, class ALayout, bool Accumulate, std::size_t MR, std::size_t NV, bool SkipZeros = false,
          class TA, class BOperand, class T, class Epilogue>
inline void gemm_in_depth_blocks(std::size_t M, std::size_t K, const TA* a, std::size_t lda, const BOperand& b, T* c,
                                 std::size_t ldc, const Epilogue& epilogue) {
    // A layout that finds A(i, p) from the product's first step on (im2col.hpp's patch
    // tables) cannot start a block at another step: it declares whole_depth and gets one.
    constexpr bool whole_depth = requires { ALayout::whole_depth; };
    if (whole_depth || K <= gemm_depth_block)
        depth_block<N, ALayout, Accumulate, MR, NV, SkipZeros>(M, K, a, lda, b, c, ldc, epilogue);
    else if constexpr (!whole_depth)
        gemm_in_equal_depth_blocks<N, ALayout, Accumulate, MR, NV, SkipZeros>(M, K, a, lda, b, c, ldc, epilogue);
}

// Pairs of rows (gemm_skipping_zeros of a wide product, many rows, AVX-512).
//
// The 6-row blocks of the usual product skip a step only where all six rows are zero:
// 16 % of the steps of Fashion-MNIST images in the first layer, where each image alone
// is zero at half of them. Two rows are both zero at a third of the steps. A block of
// 2 rows x 8 vectors (128 columns, 16 accumulators) walks only those, and needs a block of
// B in L1 to keep up with its FMAs (8 loads of B for 16 FMAs), so the depth goes in
// blocks of at most pair_depth_block steps (80 x 128 floats, 40 KB of this machine's
// 48 KB L1) and the rows in chunks of pair_chunk_rows (32 images, 100 KB), each chunk
// through every depth block
// while the next chunk's rows are prefetched. The 784 -> 128 layer at batch 256,
// walking the test set as the benchmark does: 409 us against 471 for the 6-row blocks
// (best of 600, a noisy spell; in a quieter one, 285 against 307 for a hand-written
// form of both); batch_predictor for the MLP, five alternated runs of 3 000 batches:
// 328-347 us against 376-399 us a batch (medians). Without prefetching, the chunks
// waited on memory (the hand-written form: 354 against 292 us). Batch-1 inference and
// training epochs did not change (2.6-2.7 us a sample, 0.26-0.27 s an epoch, both ways).
// Depth blocks of 80 steps instead of 64 (10 blocks of 784 instead of 13, so fewer
// passes over C and fewer lists): batch_predictor 282-289 us against 292-301 a batch
// (the 10th percentiles of 3 000 batches, six of seven alternated runs); 72 steps
// measured between the two. With them, this listing in 32-step passes and the
// prefetch addresses below without a division a line: 282-289 us against 300-323 us
// for the code before all three.
//
// Pairing rows that are alike (sorted by their count of non-zero values) cut the steps
// a pair walks from 522 to 488 of 784, but the product ran 5 % slower in alternated
// runs, and as slow with the pairing machinery in the batch's order: the rows of a pair
// then lie apart at a stride known only at run time. Not kept.
inline constexpr std::size_t pair_depth_block = 80;
inline constexpr std::size_t pair_chunk_rows = 32;
inline constexpr std::size_t pair_vectors = 8;
/// Rows whose pairs decide whether the zeros are worth skipping (see gemm_row_pairs_skipping_zeros).
inline constexpr std::size_t pairs_sampled_rows = 8;

/// Whether gemm_skipping_zeros of N columns of T (B stored as TB) runs in pairs of rows:
/// AVX-512's 32 registers (16 accumulators, 8 vectors of B, two broadcasts), B in T, and
/// N in whole panels of pair_vectors vectors.
template <std::size_t N, class T, class TB>
inline constexpr bool runs_in_row_pairs = vector_registers == 32 &&
                                          std::is_same_v<T, TB>&& N % (pair_vectors * simd_width<T>) == 0;

/// Prefetches lines [from, to) of rows [0, rows) of A (row-major, K values a row), counted
/// row by row: the next chunk's rows, a few lines per register block of this one.
template <class TA>
inline void prefetch_rows(const TA* a, std::size_t lda, std::size_t K, std::size_t rows, std::size_t from,
                          std::size_t to) {
    constexpr std::size_t line = 64 / sizeof(TA);
    const std::size_t lines_per_row = (K + line - 1) / line,
                      end = to < rows * lines_per_row ? to : rows * lines_per_row;
    // One division a call: with one a line, the address took a sixteenth of the MLP's first layer.
    std::size_t row = from / lines_per_row, line_in_row = from % lines_per_row;
    for (std::size_t l = from; l < end; ++l) {
        __builtin_prefetch(a + row * lda + line_in_row * line, 0, 3);
        if (++line_in_row == lines_per_row) line_in_row = 0, ++row;
    }
}

// One depth block [k0, k0 + depth) of the rows in [i0, i0 + rows): each pair (and an odd
// last row alone) lists the steps where it is not all zero and walks them in every panel.
template <std::size_t N, bool Accumulate, class TA, class TB, class T, class Epilogue>
inline void row_pairs_depth_block(std::size_t i0, std::size_t rows, std::size_t k0, std::size_t depth, const TA* a,
                                  std::size_t lda, const row_major_operand<TB>& b, T* c, std::size_t ldc,
                                  const Epilogue& epilogue, const TA* next, std::size_t next_rows, std::size_t K,
                                  std::size_t& prefetched, std::size_t prefetch_step) {
    using V = simd<T>;
    constexpr std::size_t panel = pair_vectors * simd_width<T>;
    const TA* ak = row_major::from_column(a, lda, k0);
    const auto bk = b.from_row(k0);
    std::uint16_t steps[pair_depth_block + 8];  // nonzero_steps writes eight at a time
    for (std::size_t i = i0; i < i0 + rows; i += 2) {
        if (next != nullptr) {
            prefetch_rows(next, lda, K, next_rows, prefetched, prefetched + prefetch_step);
            prefetched += prefetch_step;
        }
        const std::size_t height = i0 + rows - i < 2 ? 1 : 2;
        const listed_steps listed{steps, nonzero_steps<row_major>(ak, lda, i, height, depth, steps)};
        for (std::size_t j0 = 0; j0 < N; j0 += panel) {
            if (height == 2)
                micro_kernel<V, 2, pair_vectors, row_major, Accumulate>(listed, ak, lda, i, bk, j0, c, ldc, epilogue);
            else
                micro_kernel<V, 1, pair_vectors, row_major, Accumulate>(listed, ak, lda, i, bk, j0, c, ldc, epilogue);
        }
    }
}

/// Whether the pairs of rows [0, rows), in depth blocks of `depth`, skip at least one step in eight.
template <class TA>
inline bool pairs_skip_enough(const TA* a, std::size_t lda, std::size_t rows, std::size_t K, std::size_t depth) {
    std::uint16_t steps[pair_depth_block + 8];
    std::size_t kept = 0, all = 0;
    for (std::size_t i = 0; i < rows; i += 2) {
        const std::size_t height = rows - i < 2 ? 1 : 2;
        for (std::size_t k0 = 0; k0 < K; k0 += depth) {
            const std::size_t d = K - k0 < depth ? K - k0 : depth;
            kept += nonzero_steps<row_major>(a + k0, lda, i, height, d, steps);
            all += d;
        }
    }
    return 8 * kept <= 7 * all;
}

template <std::size_t N, bool Accumulate, class TA, class TB, class T, class Epilogue>
inline void gemm_row_pairs_skipping_zeros(std::size_t M, std::size_t K, const TA* a, std::size_t lda,
                                          const row_major_operand<TB>& b, T* c, std::size_t ldc,
                                          const Epilogue& epilogue) {
    // Depth blocks of whole groups of eight steps (nonzero_steps lists eight at a time),
    // as equal as that allows: 784 = 9 x 80 + 64.
    const std::size_t groups = (K + 7) / 8, blocks = (groups + pair_depth_block / 8 - 1) / (pair_depth_block / 8);
    const std::size_t depth = 8 * ((groups + blocks - 1) / blocks);
    // Inputs without zeros worth skipping (the pairs of the first rows would skip fewer
    // than one step in eight): the usual 6-row blocks, over the same depth blocks and
    // without lists. A dense 784 -> 128 first layer at batch 64 ran at 85 GFLOP/s in
    // pairs, which list every step and hold half the rows of a 6-row block. Each element
    // still sums its non-zero products in the same order, plus zeros: the outputs are
    // those of the pairs.
    if (M > 1 && !pairs_skip_enough(a, lda, M < pairs_sampled_rows ? M : pairs_sampled_rows, K, depth)) {
        using block = register_block<T, N>;
        over_depth_blocks<Accumulate>(
            K, depth,
            [&]<bool Acc, class E>(std::size_t k0, std::size_t d, const E& e) {
                gemm_block<N, row_major, Acc, block::rows, block::vectors>(M, d, a + k0, lda, b.from_row(k0), c, ldc,
                                                                           e);
            },
            epilogue);
        return;
    }
    for (std::size_t i0 = 0; i0 < M; i0 += pair_chunk_rows) {
        const std::size_t rows = M - i0 < pair_chunk_rows ? M - i0 : pair_chunk_rows;
        const std::size_t next_rows = M - i0 - rows < pair_chunk_rows ? M - i0 - rows : pair_chunk_rows;
        const TA* next = next_rows > 0 ? a + (i0 + rows) * lda : nullptr;
        // The next chunk's lines, spread over this chunk's register blocks.
        const std::size_t lines = next_rows * ((K * sizeof(TA) + 63) / 64);
        const std::size_t calls = blocks * ((rows + 1) / 2);
        const std::size_t step = (lines + calls - 1) / calls;
        std::size_t prefetched = 0;
        over_depth_blocks<Accumulate>(
            K, depth,
            [&]<bool Acc, class E>(std::size_t k0, std::size_t d, const E& e) {
                row_pairs_depth_block<N, Acc>(i0, rows, k0, d, a, lda, b, c, ldc, e, next, next_rows, K, prefetched,
                                              step);
            },
            epilogue);
    }
}

// gemm and gemm_skipping_zeros.
template <std::size_t N, class ALayout, bool Accumulate, bool SkipZeros, class TA, class BOperand, class T,
          class Epilogue>
inline void gemm(std::size_t M, std::size_t K, const TA* a, std::size_t lda, const BOperand& b, T* c, std::size_t ldc,
                 const Epilogue& epilogue) {
    using TB = typename BOperand::value_type;
    // Wide products that skip zeros run in pairs of rows where they can, a single row too:
    // its depth blocks and sums are then those it has in any batch.
    if constexpr (SkipZeros && std::is_same_v<ALayout, row_major> && runs_in_row_pairs<N, T, TB>) {
        gemm_row_pairs_skipping_zeros<N, Accumulate>(M, K, a, lda, b, c, ldc, epilogue);
        return;
    }
    // One row (inference, a forward product): wide register blocks. Only forward
    // products take this path, which keeps the extra instantiations few.
    if constexpr (std::is_same_v<ALayout, row_major> && !Accumulate) {
        if (M == 1) {
            gemm_in_depth_blocks<N, ALayout, false, 1, gemv_vectors_per_block, SkipZeros>(M, K, a, lda, b, c, ldc,
                                                                                          epilogue);
            return;
        }
    }
    using block = register_block<T, N>;
    gemm_in_depth_blocks<N, ALayout, Accumulate, block_rows_for<ALayout, block>(), block::vectors, SkipZeros>(
        M, K, a, lda, b, c, ldc, epilogue);
}

}  // namespace detail

/// C[M x N] (=|+=) epilogue(A[M x K] * B[K x N]) with B given as an operand (row_major_operand, or
/// one that reads B in place); see the file comment.
template <std::size_t N, class ALayout = row_major, bool Accumulate = false, class TA, class BOperand, class T,
          class Epilogue = no_epilogue>
requires requires { typename BOperand::value_type; }
inline void gemm(std::size_t M, std::size_t K, const TA* a, std::size_t lda, const BOperand& b, T* c, std::size_t ldc,
                 const Epilogue& epilogue = {}) {
    detail::gemm<N, ALayout, Accumulate, false>(M, K, a, lda, b, c, ldc, epilogue);
}

/// gemm (B row-major) that skips, for each register block of rows, the depth steps
/// at which those rows of A are all zero. The result is gemm's (a zero times a
/// finite b adds nothing; only the sign of a zero sum may differ). Worth it when A
/// is image data with zero backgrounds. On Fashion-MNIST, in the weight gradient
/// X^T dZ of a first layer, 31 % of the steps of 6-pixel blocks have all six pixels
/// zero; in its forward product X W, 16 % of the steps of 6-sample blocks, a third of
/// those of 2-sample blocks (which row-major products 128 columns wide take on AVX-512:
/// detail::runs_in_row_pairs; their depth blocks are their own, so their values are
/// gemm's to rounding), and half the steps of one sample. Listing the steps takes a
/// load per step and row block (transposed A) or per eight steps and row (row-major A),
/// shared by all column panels; where fewer than one step in eight would be skipped
/// (inputs without zeros), the plain product runs instead and only the listing of the
/// first rows is lost.
template <std::size_t N, class ALayout = row_major, bool Accumulate = false, class TA, class TB, class T,
          class Epilogue = no_epilogue>
inline void gemm_skipping_zeros(std::size_t M, std::size_t K, const TA* a, std::size_t lda, const TB* b,
                                std::size_t ldb, T* c, std::size_t ldc, const Epilogue& epilogue = {}) {
    detail::gemm<N, ALayout, Accumulate, true>(M, K, a, lda, row_major_operand<TB>{b, ldb}, c, ldc, epilogue);
}

/// C[M x N] (=|+=) epilogue(A[M x K] * B[K x N]) with B row-major (leading dimension ldb).
template <std::size_t N, class ALayout = row_major, bool Accumulate = false, class TA, class TB, class T,
          class Epilogue = no_epilogue>
inline void gemm(std::size_t M, std::size_t K, const TA* a, std::size_t lda, const TB* b, std::size_t ldb, T* c,
                 std::size_t ldc, const Epilogue& epilogue = {}) {
    gemm<N, ALayout, Accumulate>(M, K, a, lda, row_major_operand<TB>{b, ldb}, c, ldc, epilogue);
}

namespace detail {

#if defined(__AVX__)
/// out (8 rows, stride out_stride) = the 8 x 8 float block at in (stride in_stride), transposed
/// in registers: 8 loads, 24 shuffles, 8 stores instead of 64 scalar moves.
inline void transpose_8x8(const float* in, std::size_t in_stride, float* out, std::size_t out_stride) {
    __m256 r[8], t[8];
    for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(in + i * in_stride);
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        r[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int i = 0; i < 4; ++i) {
        _mm256_storeu_ps(out + i * out_stride, _mm256_permute2f128_ps(r[i], r[i + 4], 0x20));
        _mm256_storeu_ps(out + (i + 4) * out_stride, _mm256_permute2f128_ps(r[i], r[i + 4], 0x31));
    }
}
#endif

}  // namespace detail

/// out[N x M] = in[M x N]^T (both row-major). Convolution backward passes turn
/// im2col columns into patches with it every sample, so floats move in 8 x 8
/// register blocks where AVX allows; the edges, and other types, go one by one
/// in cache-sized blocks.
template <std::size_t M, std::size_t N, class T>
inline void transpose(const T* in, T* out) {
    std::size_t m_done = 0, n_done = 0;
#if defined(__AVX__)
    if constexpr (std::is_same_v<T, float>) {
        m_done = M - M % 8;
        n_done = N - N % 8;
        for (std::size_t i = 0; i < m_done; i += 8)
            for (std::size_t j = 0; j < n_done; j += 8) detail::transpose_8x8(in + i * N + j, N, out + j * M + i, M);
    }
#endif
    // What the register blocks left: the last N % 8 columns of every row, then
    // the last M % 8 rows (all their columns).
    constexpr std::size_t block = 16;
    auto scalar = [&](std::size_t i_begin, std::size_t i_end, std::size_t j_begin, std::size_t j_end) {
        for (std::size_t i0 = i_begin; i0 < i_end; i0 += block)
            for (std::size_t j0 = j_begin; j0 < j_end; j0 += block)
                for (std::size_t i = i0; i < (i0 + block < i_end ? i0 + block : i_end); ++i)
                    for (std::size_t j = j0; j < (j0 + block < j_end ? j0 + block : j_end); ++j)
                        out[j * M + i] = in[i * N + j];
    };
    scalar(0, m_done, n_done, N);
    scalar(m_done, M, 0, N);
}

}  // namespace typenet::kernels
