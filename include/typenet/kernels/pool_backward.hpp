#pragma once
// The backward pass of 2 x 2 / stride 2 max pooling for eight windows at once.
//
// Each output's gradient goes to the first input of its window that equals the
// window's maximum (top left, top right, bottom left, bottom right), zero to the
// other three. Scalar code reads the four inputs with stride 2, which g++ does
// not vectorise, and LeNet spends about as long there as in a convolution's
// im2col. Here two groups of four windows (eight inputs of each of the two rows
// per group) are split into the four window corners with two shuffles per row,
// the outputs and gradients are permuted into the same lane order, and unpacking
// the four results restores the input order for the stores.
#include <cstddef>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace typenet::kernels {

#if defined(__AVX2__)
inline constexpr bool has_max_pool_2x2_backward_8 = true;

/// Windows 0-3 have their top row at top0 (8 values; the bottom row is row_stride
/// further) and windows 4-7 at top1; y and g hold the 8 outputs and their
/// gradients in window order. Writes all 16 + 16 input gradients at dx0, dx1
/// (laid out as top0, top1).
inline void max_pool_2x2_backward_8(const float* top0, const float* top1, std::size_t row_stride, const float* y,
                                    const float* g, float* dx0, float* dx1) {
    const __m256 t0 = _mm256_loadu_ps(top0), t1 = _mm256_loadu_ps(top1);
    const __m256 b0 = _mm256_loadu_ps(top0 + row_stride), b1 = _mm256_loadu_ps(top1 + row_stride);
    // Corner lanes in the order [0 1 4 5 | 2 3 6 7] (the shuffle works within 128-bit halves).
    const __m256 a = _mm256_shuffle_ps(t0, t1, _MM_SHUFFLE(2, 0, 2, 0));
    const __m256 b = _mm256_shuffle_ps(t0, t1, _MM_SHUFFLE(3, 1, 3, 1));
    const __m256 c = _mm256_shuffle_ps(b0, b1, _MM_SHUFFLE(2, 0, 2, 0));
    const __m256 d = _mm256_shuffle_ps(b0, b1, _MM_SHUFFLE(3, 1, 3, 1));
    // The outputs into that order: 64-bit pairs 0, 2, 1, 3.
    const auto permute = [](const float* p) {
        return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_loadu_ps(p)), _MM_SHUFFLE(3, 1, 2, 0)));
    };
    const __m256 top = permute(y), grad = permute(g);
    const __m256 eq_a = _mm256_cmp_ps(a, top, _CMP_EQ_OQ), eq_b = _mm256_cmp_ps(b, top, _CMP_EQ_OQ);
    const __m256 eq_c = _mm256_cmp_ps(c, top, _CMP_EQ_OQ), eq_d = _mm256_cmp_ps(d, top, _CMP_EQ_OQ);
    // As the scalar path: a if it matches or nothing else does, else the first of b, c; else d.
    const __m256 ones = _mm256_castsi256_ps(_mm256_set1_epi32(-1));
    const __m256 at_a = _mm256_or_ps(eq_a, _mm256_andnot_ps(_mm256_or_ps(eq_b, _mm256_or_ps(eq_c, eq_d)), ones));
    const __m256 at_b = _mm256_andnot_ps(at_a, eq_b);
    const __m256 neither = _mm256_andnot_ps(at_a, _mm256_andnot_ps(eq_b, ones));
    const __m256 at_c = _mm256_and_ps(neither, eq_c);
    const __m256 at_d = _mm256_andnot_ps(eq_c, neither);
    const __m256 ga = _mm256_and_ps(at_a, grad), gb = _mm256_and_ps(at_b, grad);
    const __m256 gc = _mm256_and_ps(at_c, grad), gd = _mm256_and_ps(at_d, grad);
    _mm256_storeu_ps(dx0, _mm256_unpacklo_ps(ga, gb));
    _mm256_storeu_ps(dx1, _mm256_unpackhi_ps(ga, gb));
    _mm256_storeu_ps(dx0 + row_stride, _mm256_unpacklo_ps(gc, gd));
    _mm256_storeu_ps(dx1 + row_stride, _mm256_unpackhi_ps(gc, gd));
}
#else
inline constexpr bool has_max_pool_2x2_backward_8 = false;
/// Declared only, so that the call under `if constexpr (has_max_pool_2x2_backward_8)`
/// still names something: g++ looks a qualified name up where the template is
/// defined, discarded branch or not. Never called, so never defined.
void max_pool_2x2_backward_8(const float* top0, const float* top1, std::size_t row_stride, const float* y,
                             const float* g, float* dx0, float* dx1);
#endif

}  // namespace typenet::kernels
