#pragma once
// The depth steps at which some rows of A are not all zero, listed for the
// zero-skipping products: one load per step (transposed A, AVX2), eight steps per
// load and row (row-major A, AVX2) or thirty-two (AVX-512 BW + VBMI2), scalars
// elsewhere and for the tail.
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "../simd.hpp"
#include "operands.hpp"

namespace typenet::kernels {

namespace detail {

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

}  // namespace detail

}  // namespace typenet::kernels
