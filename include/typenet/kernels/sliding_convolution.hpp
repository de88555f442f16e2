#pragma once
// Unpadded, unit-stride convolutions whose filters fill whole vectors, without a GEMM:
// the products slide along the input rows.
//
//   forward          Y^T[(oy, ox)][f]  = sum over (c, ky, kx) of in[c][oy + ky][ox + kx] * Wt[(c, ky, kx)][f]
//   weight gradient  dW[(c, ky, kx)][f] += sum over (oy, ox) of in[c][oy + ky][ox + kx] * dZ^T[(oy, ox)][f]
//   input gradient   dX[c][y][x] = sum over (ky, kx, f) of Wt[(c, ky, kx)][f] * dZ^T[(y - ky, x - kx)][f]
//
// As GEMMs (im2col.hpp's position_rows and patch_rows) each of the Q x N patch values
// meets one vector of filters, so every FMA needs a load of its own: a broadcast of the
// patch value. But the patch values are the image's pixels, each in up to K x K
// patches. Here each pixel of an input row is broadcast once and meets, for every kx,
// the position ox = x - kx: in the forward pass a row of outputs is the accumulators
// and the K weight vectors of (c, ky) stay in registers along the row; in the weight
// gradient the accumulators are the rows (channel, ky, kx) of dW for a group of
// channels, and the output gradients of ox stay in registers while x slides past
// them (a window of K positions). Each output sums its products in the GEMM's order
// (over q, over n, ascending): the values are the GEMM's (tested). The input gradient
// sums over the filters, the vectors' lanes: each input pixel of a row keeps a vector
// of partial sums, and one tree of shuffles (lane_sums_16) adds up the row's; it
// replaces a GEMM into the columns and their fold back onto the image (col2im), and
// sums in another order than they do, so it agrees with them to rounding (tested).
//
// LeNet's second convolution (6 x 12 x 12 in, 16 filters of 5 x 5) on AVX-512, at
// batch 64: the weight gradient 114 us against 164 for the patch-rows GEMM (best of 600
// calls; 173 against 120 GFLOP/s); groups of 3 channels (15 accumulators) took 133 us,
// of 2, 141: the wider the group, the more FMAs each broadcast and each gradient load
// feeds. The input gradient: 156-160 us against 173-182 for the GEMM (122-128) and
// the fold.
#include <cstddef>
#include <type_traits>

#include "gemm.hpp"
#include "simd.hpp"

namespace typenet::kernels {

namespace detail {
/// The largest divisor d of n (1 if none) with d * cost <= budget: how many output rows or
/// channels a pass takes, so that they fill whole passes within the accumulators.
constexpr std::size_t largest_divisor_within(std::size_t n, std::size_t cost, std::size_t budget) {
    std::size_t best = 1;
    for (std::size_t d = 1; d <= n; ++d)
        if (n % d == 0 && d * cost <= budget) best = d;
    return best;
}
}  // namespace detail

/// Whether, and how, the sliding forward pass applies to H x W inputs, K x K kernels and
/// F filters of type T. A pass holds `rows` output rows (out_w x the filters' vectors
/// accumulators each) next to the K weight vectors of one (channel, kernel row) and a
/// broadcast. For LeNet's second convolution, 2 rows (16 accumulators) took 125-130 us
/// a batch with the transpose, 3 rows 137-145, 1 row 144-150, 4 rows (32, spilled)
/// 157-163; the position-rows GEMM 145-150 (best of 600). Measured on AVX-512 only (its
/// 32 registers): elsewhere the GEMM stays. Input rows are unrolled whole, so they must
/// be short.
template <class T, std::size_t H, std::size_t W, std::size_t K, std::size_t F>
struct sliding_convolution_forward {
    static constexpr std::size_t vectors = F / simd_width<T>;
    static constexpr std::size_t out_h = K <= H ? H - K + 1 : 1, out_w = K <= W ? W - K + 1 : 1;
    static constexpr std::size_t row_accumulators = out_w * vectors;
    static constexpr std::size_t accumulator_budget = 16;
    /// The most output rows that divide the output's height (no tail pass) within the budget.
    static constexpr std::size_t rows = detail::largest_divisor_within(out_h, row_accumulators, accumulator_budget);
    static constexpr std::size_t max_width = 32;
    static constexpr bool applies = vector_registers == 32 && F % simd_width<T> == 0 &&
                                    row_accumulators + K * vectors + 1 <= vector_registers && K <= H && K <= W &&
                                    W <= max_width;
};

namespace detail {

/// Zeroes a pass's accumulators (registers, once the loops are unrolled).
template <class V, std::size_t A, std::size_t B, std::size_t C>
inline void set_zero(V (&acc)[A][B][C]) {
#pragma GCC unroll 32
    for (std::size_t i = 0; i < A; ++i)
#pragma GCC unroll 32
        for (std::size_t j = 0; j < B; ++j)
#pragma GCC unroll 32
            for (std::size_t k = 0; k < C; ++k) acc[i][j][k] = V(lane_value_t<V>(0));
}

// Output rows [oy0, oy0 + Rows) of one sample, every filter.
template <std::size_t C, std::size_t H, std::size_t W, std::size_t K, std::size_t F, std::size_t Rows, class T,
          class Epilogue>
inline void sliding_convolution_rows(const T* in, const T* weights, T* out_t, std::size_t oy0,
                                     const Epilogue& epilogue) {
    using V = simd<T>;
    constexpr std::size_t NV = F / simd_width<T>, OW = W - K + 1;
    V acc[Rows][OW][NV];
    set_zero(acc);
    for (std::size_t c = 0; c < C; ++c)
        for (std::size_t ky = 0; ky < K; ++ky) {
            V w[K][NV];
            const T* wq = weights + (c * K + ky) * K * F;
#pragma GCC unroll 32
            for (std::size_t kx = 0; kx < K; ++kx)
#pragma GCC unroll 32
                for (std::size_t v = 0; v < NV; ++v) w[kx][v] = load_lane<V>(wq + kx * F + v * simd_width<T>);
#pragma GCC unroll 32
            for (std::size_t r = 0; r < Rows; ++r) {
                const T* row = in + (c * H + oy0 + r + ky) * W;
#pragma GCC unroll 32
                for (std::size_t x = 0; x < W; ++x) {
                    const V pixel(row[x]);
#pragma GCC unroll 32
                    for (std::size_t kx = 0; kx < K; ++kx)
                        if (x >= kx && x - kx < OW)
#pragma GCC unroll 32
                            for (std::size_t v = 0; v < NV; ++v)
                                acc[r][x - kx][v] = mul_add(pixel, w[kx][v], acc[r][x - kx][v]);
                }
            }
        }
#pragma GCC unroll 32
    for (std::size_t r = 0; r < Rows; ++r)
#pragma GCC unroll 32
        for (std::size_t ox = 0; ox < OW; ++ox) {
            const std::size_t n = (oy0 + r) * OW + ox;
#pragma GCC unroll 32
            for (std::size_t v = 0; v < NV; ++v)
                store_lane(out_t + n * F + v * simd_width<T>, epilogue(acc[r][ox][v], n, v * simd_width<T>));
        }
}

}  // namespace detail

/// out_t[N][F] = epilogue(the convolution of one sample), positions by rows: `in` the
/// sample's C x H x W input, `weights` [C*K*K][F]; epilogue(lane, n, first filter) as the
/// GEMM calls it for Y^T (layers/epilogues.hpp, bias_activation_epilogue). Needs
/// sliding_convolution_forward<...>::applies.
template <std::size_t C, std::size_t H, std::size_t W, std::size_t K, std::size_t F, class T, class Epilogue>
inline void sliding_convolution(const T* in, const T* weights, T* out_t, const Epilogue& epilogue) {
    using plan = sliding_convolution_forward<T, H, W, K, F>;
    static_assert(plan::applies, "sliding_convolution: see sliding_convolution_forward::applies");
    for (std::size_t oy0 = 0; oy0 < plan::out_h; oy0 += plan::rows)
        detail::sliding_convolution_rows<C, H, W, K, F, plan::rows>(in, weights, out_t, oy0, epilogue);
}

/// Whether, and how, the sliding weight gradient applies to C input channels W wide,
/// K x K kernels and F filters of type T.
template <class T, std::size_t C, std::size_t W, std::size_t K, std::size_t F>
struct sliding_filter_gradient {
    static constexpr std::size_t vectors = F / simd_width<T>;  ///< per position: the filters
    /// Accumulators a pass may hold, leaving registers for the window and the broadcast
    /// (g++ keeps the rest of the window in L1 and folds the broadcasts into the FMAs).
    static constexpr std::size_t accumulator_budget = vector_registers - 2;
    static constexpr std::size_t group = detail::largest_divisor_within(C, K* vectors, accumulator_budget);
    /// Input rows are unrolled whole, so they must be short. Measured on AVX-512 only (its
    /// 32 registers): elsewhere the GEMM stays.
    static constexpr std::size_t max_width = 32;
    static constexpr bool applies = vector_registers == 32 && F % simd_width<T> == 0 &&
                                    K * vectors <= accumulator_budget && K <= W && W <= max_width;
};

namespace detail {

// One pass: kernel row ky, channels [c0, c0 + Group), all output rows.
template <std::size_t C, std::size_t H, std::size_t W, std::size_t K, std::size_t F, std::size_t Group, class T>
inline void sliding_filter_gradient_pass(const T* in, const T* dz_t, T* dw, std::size_t c0, std::size_t ky) {
    using V = simd<T>;
    constexpr std::size_t NV = F / simd_width<T>, OH = H - K + 1, OW = W - K + 1;
    V acc[Group][K][NV];
    set_zero(acc);
    for (std::size_t oy = 0; oy < OH; ++oy) {
        const T* row = in + (c0 * H + oy + ky) * W;
        const T* grad = dz_t + oy * OW * F;
        V window[OW][NV];  // fully unrolled below: only K of them are live at once
#pragma GCC unroll 32
        for (std::size_t x = 0; x < W; ++x) {
            if (x < OW)
#pragma GCC unroll 32
                for (std::size_t v = 0; v < NV; ++v) window[x][v] = load_lane<V>(grad + x * F + v * simd_width<T>);
#pragma GCC unroll 32
            for (std::size_t g = 0; g < Group; ++g) {
                const V pixel(row[g * H * W + x]);
#pragma GCC unroll 32
                for (std::size_t kx = 0; kx < K; ++kx)
                    if (x >= kx && x - kx < OW)
#pragma GCC unroll 32
                        for (std::size_t v = 0; v < NV; ++v)
                            acc[g][kx][v] = mul_add(pixel, window[x - kx][v], acc[g][kx][v]);
            }
        }
    }
#pragma GCC unroll 32
    for (std::size_t g = 0; g < Group; ++g)
#pragma GCC unroll 32
        for (std::size_t kx = 0; kx < K; ++kx) {
            T* d = dw + (((c0 + g) * K + ky) * K + kx) * F;
#pragma GCC unroll 32
            for (std::size_t v = 0; v < NV; ++v)
                store_lane(d + v * simd_width<T>, load_lane<V>(d + v * simd_width<T>) + acc[g][kx][v]);
        }
}

}  // namespace detail

/// dw[C*K*K][F] += the weight gradient of one sample: `in` its C x H x W input, dz_t its
/// output gradient transposed, [(H-K+1) * (W-K+1)][F]. Needs sliding_filter_gradient<...>::applies.
template <std::size_t C, std::size_t H, std::size_t W, std::size_t K, std::size_t F, class T>
inline void accumulate_sliding_filter_gradient(const T* in, const T* dz_t, T* dw) {
    using plan = sliding_filter_gradient<T, C, W, K, F>;
    static_assert(plan::applies, "accumulate_sliding_filter_gradient: see sliding_filter_gradient::applies");
    for (std::size_t ky = 0; ky < K; ++ky)
        for (std::size_t c0 = 0; c0 < C; c0 += plan::group)
            detail::sliding_filter_gradient_pass<C, H, W, K, F, plan::group>(in, dz_t, dw, c0, ky);
}

/// Whether the sliding input gradient applies to H x W inputs, K x K kernels and F filters
/// of type T: float on AVX-512 (lane_sums_16), a row's 16 or fewer pixels one accumulator
/// each, next to the K x the filters' vectors weights of one (channel, kernel row).
template <class T, std::size_t H, std::size_t W, std::size_t K, std::size_t F>
struct sliding_input_gradient {
    static constexpr std::size_t vectors = F / simd_width<T>;
    static constexpr bool applies = has_lane_sums_16 && std::is_same_v<T, float> && simd_width<T> == 16 &&
                                    F % simd_width<T> == 0 && W <= 16 && K <= H && K <= W &&
                                    16 + K * vectors + 1 <= vector_registers;
};

/// d_in[C][H][W] = the input gradient of one sample: `weights` [C*K*K][F], dz_t its output
/// gradient transposed, [(H-K+1) * (W-K+1)][F]. Needs sliding_input_gradient<...>::applies.
template <std::size_t C, std::size_t H, std::size_t W, std::size_t K, std::size_t F, class T>
inline void sliding_input_gradient_of(const T* weights, const T* dz_t, T* d_in) {
    static_assert(sliding_input_gradient<T, H, W, K, F>::applies,
                  "sliding_input_gradient_of: see sliding_input_gradient::applies");
#if defined(__AVX512F__)
    constexpr std::size_t NV = F / 16, OH = H - K + 1, OW = W - K + 1;
    for (std::size_t c = 0; c < C; ++c)
        for (std::size_t y = 0; y < H; ++y) {
            __m512 acc[16];
#pragma GCC unroll 16
            for (std::size_t x = 0; x < 16; ++x) acc[x] = _mm512_setzero_ps();
            // The kernel rows that reach input row y from an output row: oy = y - ky in [0, OH).
            const std::size_t ky_first = y >= OH ? y - OH + 1 : 0, ky_last = y < K ? y : K - 1;
            for (std::size_t ky = ky_first; ky <= ky_last; ++ky) {
                const T* wq = weights + (c * K + ky) * K * F;
                const T* grad = dz_t + (y - ky) * OW * F;
                __m512 w[K][NV];
#pragma GCC unroll 32
                for (std::size_t kx = 0; kx < K; ++kx)
#pragma GCC unroll 32
                    for (std::size_t v = 0; v < NV; ++v) w[kx][v] = _mm512_loadu_ps(wq + kx * F + v * 16);
#pragma GCC unroll 32
                for (std::size_t ox = 0; ox < OW; ++ox)
#pragma GCC unroll 32
                    for (std::size_t v = 0; v < NV; ++v) {
                        const __m512 g = _mm512_loadu_ps(grad + ox * F + v * 16);
#pragma GCC unroll 32
                        for (std::size_t kx = 0; kx < K; ++kx)
                            acc[ox + kx] = _mm512_fmadd_ps(w[kx][v], g, acc[ox + kx]);
                    }
            }
            _mm512_mask_storeu_ps(d_in + (c * H + y) * W, static_cast<__mmask16>((1u << W) - 1), lane_sums_16(acc));
        }
#else
    (void)weights, (void)dz_t, (void)d_in;
#endif
}

}  // namespace typenet::kernels
