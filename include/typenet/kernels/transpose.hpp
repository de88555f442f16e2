#pragma once
// out[N x M] = in[M x N]^T for compile-time sizes: the convolutions' and dense
// layers' backward passes transpose a sample's columns or a weight matrix with it.
#include <cstddef>
#include <type_traits>

#include "simd.hpp"

namespace typenet::kernels {

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
