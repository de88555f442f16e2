#pragma once
// max_pool<Size, Stride> and avg_pool<Size, Stride>: 2-D pooling over each channel
// of a C x H x W input, windows of Size x Size moved by Stride (default Size).
// Max pooling's backward sends each output's gradient to the first input that
// holds the window's maximum (found again from the stored input and output, so
// no index buffer is needed).
#include <cstddef>
#include <string_view>

#include <type_traits>

#include "../kernels/pool_backward.hpp"
#include "conv2d.hpp"
#include "layer.hpp"

namespace typenet {

template <std::size_t Size, std::size_t Stride = Size>
struct max_pool;
template <std::size_t Size, std::size_t Stride = Size>
struct avg_pool;

namespace diagnostic {
template <std::size_t Size, std::size_t Stride>
struct pool_window {};
}  // namespace diagnostic

namespace detail {

template <class Layer, bool IsMax, class In, std::size_t Size, std::size_t Stride, std::size_t Index,
          std::size_t ParamOffset>
struct pool_stage : stage_defaults {
    using layer = Layer;
    using at = diagnostic::at_layer<Index, Layer>;
    static_assert(
        diagnostic::check<is_image_v<In>, at, diagnostic::received<In>, diagnostic::expects<diagnostic::rank<3>>>,
        "typenet: pooling needs an image input (channels x height x width)");
    static_assert(diagnostic::check<(Size >= 1 && Stride >= 1), at>, "typenet: pooling needs Size and Stride >= 1");
    static constexpr std::size_t C = image_dims<In>::c, H = image_dims<In>::h, W = image_dims<In>::w;
    static_assert(diagnostic::check<(Size <= H && Size <= W), at, diagnostic::received<In>,
                                    diagnostic::pool_window<Size, Stride>>,
                  "typenet: the pooling window is larger than the feature map");
    static constexpr bool fits = is_image_v<In> && Size >= 1 && Stride >= 1 && Size <= H && Size <= W;
    static constexpr std::size_t K = fits ? Size : 1, S = fits ? Stride : 1;
    static constexpr std::size_t OH = (H - K) / S + 1, OW = (W - K) / S + 1;

    using input_shape = In;
    using output_shape = shape<C, OH, OW>;
    static constexpr std::size_t layer_index = Index;
    static constexpr std::size_t param_offset = ParamOffset;
    static constexpr std::size_t flops = C * OH * OW * K * K;

    template <class T>
    static void forward(const T*, const T* in, T* out, std::size_t batch, T*) {
        if constexpr (K == 2 && S == 2) {
            // The common 2 x 2 window, written as plain row arithmetic so that g++
            // vectorises it (the general loop below it does not).
            for (std::size_t m = 0; m < batch * C; ++m)
                for (std::size_t oy = 0; oy < OH; ++oy) {
                    const T* r0 = in + m * H * W + 2 * oy * W;
                    const T* r1 = r0 + W;
                    T* y = out + m * OH * OW + oy * OW;
                    for (std::size_t ox = 0; ox < OW; ++ox) {
                        const T a = r0[2 * ox], b = r0[2 * ox + 1], c = r1[2 * ox], d = r1[2 * ox + 1];
                        if constexpr (IsMax) {
                            // Ties keep the earlier position, as the general loop and backward expect.
                            const T top = a >= b ? a : b;
                            const T bottom = c >= d ? c : d;
                            y[ox] = top >= bottom ? top : bottom;
                        } else {
                            y[ox] = (a + b + c + d) * T(0.25);
                        }
                    }
                }
            return;
        }
        for (std::size_t m = 0; m < batch * C; ++m) {
            const T* x = in + m * H * W;
            T* y = out + m * OH * OW;
            for (std::size_t oy = 0; oy < OH; ++oy)
                for (std::size_t ox = 0; ox < OW; ++ox) {
                    const T* w0 = x + oy * S * W + ox * S;
                    T acc = IsMax ? w0[0] : T(0);
                    for (std::size_t i = 0; i < K; ++i)
                        for (std::size_t j = 0; j < K; ++j) {
                            const T v = w0[i * W + j];
                            if constexpr (IsMax)
                                acc = v > acc ? v : acc;
                            else
                                acc += v;
                        }
                    y[oy * OW + ox] = IsMax ? acc : acc * (T(1) / T(K * K));
                }
        }
    }

    template <class T>
    static void backward(const T*, const T* in, const T* out, T* d_out, T* d_in, T*, std::size_t batch, T*) {
        if (d_in == nullptr) return;
        if constexpr (IsMax && K == 2 && S == 2) {
            // 2 x 2 windows do not overlap: every covered input position is written
            // exactly once (the gradient at the window's first maximum, zero at the
            // other three), so there is no zeroing pass and no read-modify-write.
            for (std::size_t m = 0; m < batch * C; ++m) {
                const T* x = in + m * H * W;
                T* dx = d_in + m * H * W;
                // Inputs no window covers: an odd last row, an odd last column.
                if constexpr (H % 2 == 1)
                    for (std::size_t j = 0; j < W; ++j) dx[(H - 1) * W + j] = T(0);
                if constexpr (W % 2 == 1)
                    for (std::size_t i = 0; i < 2 * OH; ++i) dx[i * W + W - 1] = T(0);
                // Eight windows at a time where each group of four lies within one
                // output row (the map's outputs taken in order, OW % 4 == 0).
                constexpr bool vectorised =
                    kernels::has_max_pool_2x2_backward_8 && std::is_same_v<T, float> && OW % 4 == 0;
                std::size_t vector_rows = 0;
                if constexpr (vectorised) {
                    constexpr std::size_t pairs = OH * OW / 8;
                    for (std::size_t p = 0; p < pairs; ++p) {
                        const std::size_t o0 = 8 * p, o1 = o0 + 4;  // first output of each group
                        const std::size_t i0 = 2 * (o0 / OW) * W + 2 * (o0 % OW),
                                          i1 = 2 * (o1 / OW) * W + 2 * (o1 % OW);
                        kernels::max_pool_2x2_backward_8(x + i0, x + i1, W, out + m * OH * OW + o0,
                                                         d_out + m * OH * OW + o0, dx + i0, dx + i1);
                    }
                    vector_rows = pairs * 8 / OW;  // whole rows done; the row it stopped in is redone below
                }
                for (std::size_t oy = vector_rows; oy < OH; ++oy) {
                    const T* r0 = x + 2 * oy * W;
                    const T* r1 = r0 + W;
                    T* d0 = dx + 2 * oy * W;
                    T* d1 = d0 + W;
                    const T* y = out + m * OH * OW + oy * OW;
                    const T* g = d_out + m * OH * OW + oy * OW;
                    for (std::size_t ox = 0; ox < OW; ++ox) {
                        const T top = y[ox];
                        // Bitwise, not short-circuit, logic: no branch per window to mispredict.
                        const bool eq_b = r0[2 * ox + 1] == top, eq_c = r1[2 * ox] == top, eq_d = r1[2 * ox + 1] == top;
                        const bool at_a = (r0[2 * ox] == top) | !(eq_b | eq_c | eq_d);
                        const bool at_b = !at_a & eq_b;
                        const bool at_c = !at_a & !eq_b & eq_c;
                        const bool at_d = !at_a & !eq_b & !eq_c;
                        d0[2 * ox] = at_a ? g[ox] : T(0);
                        d0[2 * ox + 1] = at_b ? g[ox] : T(0);
                        d1[2 * ox] = at_c ? g[ox] : T(0);
                        d1[2 * ox + 1] = at_d ? g[ox] : T(0);
                    }
                }
            }
            return;
        }
        for (std::size_t i = 0; i < batch * C * H * W; ++i) d_in[i] = T(0);
        for (std::size_t m = 0; m < batch * C; ++m) {
            const T* x = in + m * H * W;
            const T* y = out + m * OH * OW;
            const T* g = d_out + m * OH * OW;
            T* dx = d_in + m * H * W;
            for (std::size_t oy = 0; oy < OH; ++oy)
                for (std::size_t ox = 0; ox < OW; ++ox) {
                    const std::size_t base = oy * S * W + ox * S;
                    const T go = g[oy * OW + ox];
                    if constexpr (IsMax) {
                        // The first position holding the window's maximum (the stored output):
                        // scanning backwards, the last match seen is the first in the window.
                        // An arithmetic select, not a search with an early exit: no branches to mispredict.
                        const T top = y[oy * OW + ox];
                        std::size_t best = base;
                        for (std::size_t i = K; i-- > 0;)
                            for (std::size_t j = K; j-- > 0;) {
                                const std::size_t at = base + i * W + j;
                                const auto hit = static_cast<std::size_t>(x[at] == top);
                                best += hit * (at - best);  // arithmetic select (unsigned wrap is exact)
                            }
                        dx[best] += go;
                    } else {
                        const T share = go * (T(1) / T(K * K));
                        for (std::size_t i = 0; i < K; ++i)
                            for (std::size_t j = 0; j < K; ++j) dx[base + i * W + j] += share;
                    }
                }
        }
    }
};

}  // namespace detail

/// Maximum over Size x Size windows, moved by Stride.
template <std::size_t Size, std::size_t Stride>
struct max_pool : layer_base {
    static constexpr std::string_view name = "max_pool";
    static constexpr std::string_view onnx_op = "MaxPool";
    template <class In, std::size_t Index, std::size_t ParamOffset>
    struct stage : detail::pool_stage<max_pool, true, In, Size, Stride, Index, ParamOffset> {};
};

/// Mean over Size x Size windows, moved by Stride.
template <std::size_t Size, std::size_t Stride>
struct avg_pool : layer_base {
    static constexpr std::string_view name = "avg_pool";
    static constexpr std::string_view onnx_op = "AveragePool";
    template <class In, std::size_t Index, std::size_t ParamOffset>
    struct stage : detail::pool_stage<avg_pool, false, In, Size, Stride, Index, ParamOffset> {};
};

}  // namespace typenet
