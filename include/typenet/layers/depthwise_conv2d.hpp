#pragma once
// depthwise_conv2d<Kernel, Stride, Padding, Multiplier>: each input channel c convolved
// with its own Multiplier square filters, output channel o = c * Multiplier + m, zero
// padding, a bias per output channel; optionally fused with the element-wise activation
// that follows it (network/fusion.hpp), as conv2d is.
//
// No im2col and no GEMM: a channel's patch is only K x K values, far too shallow a depth
// for a product to pay for its columns. The kernels instead slide along output rows, a
// vector of neighbouring outputs at a time (scalar and narrower lanes for the tails):
//   forward   y[o] row += w[ki][kj][o] * the input row at (oy S + ki, ox S + kj)
//   weights   dw[ki][kj][o] += dz[o] row . the same input row (vector lanes, summed once a map)
//   inputs    dx[c] row += w[ki][kj][o] * dz[o] row, dilated by S and padded, at the flipped tap
// Stride S is handled by splitting the padded input by column phase (x mod S) in scratch,
// so that every tap reads consecutive values; without padding at stride 1 the image is
// read in place. The input gradient correlates the gradient planes, dilated (S - 1 zeros
// between values) and padded by K - 1 - P, with the flipped filters: every dx value is
// then written once, from registers, with no scatter and no zeroing pass. At stride 2
// that spends three quarters of its multiplies on zeros, the price of one simple path.
// Parameter layout, like conv2d's (rows x outputs), so that batch_norm folds into it:
//   W  [K*K][C*Multiplier]   row (ki, kj) holds that tap's weight in every output channel
//   b  [C*Multiplier]
#include <array>
#include <cstddef>
#include <string_view>

#include "../core/random.hpp"
#include "../core/storage.hpp"
#include "../kernels/simd.hpp"
#include "activations.hpp"
#include "feature_maps.hpp"
#include "initialization.hpp"
#include "layer.hpp"

namespace typenet {

template <std::size_t Kernel, std::size_t Stride = 1, std::size_t Padding = 0, std::size_t Multiplier = 1>
struct depthwise_conv2d;

namespace diagnostic {
template <std::size_t Kernel, std::size_t Stride, std::size_t Padding, std::size_t Multiplier>
struct depthwise_parameters {};
}  // namespace diagnostic

namespace detail {

/// The sum of a lane's values (a scalar is its own).
template <class V>
auto lane_sum(const V& v) {
    if constexpr (kernels::is_scalar_lane_v<V>)
        return v;
    else
        return xsimd::hadd(v);
}

/// out[x] = finish(start + sum_t w[t] * base[offsets[t] + x]) for x < Count: whole lanes of
/// V, then the rest in the narrower lanes that fit (half_lane), then scalars.
template <std::size_t Count, class V, class T, class Weight, std::size_t Taps, class Finish>
inline void correlate_row(const T* base, const std::array<std::size_t, Taps>& offsets,
                          const std::array<Weight, Taps>& w, T start, T* out, const Finish& finish) {
    constexpr std::size_t L = kernels::lane_width<V>;
    constexpr std::size_t end = Count - Count % L;
    for (std::size_t x = 0; x < end; x += L) {
        V acc(start);
#pragma GCC unroll 64
        for (std::size_t t = 0; t < Taps; ++t)
            acc = kernels::mul_add(V(w[t]), kernels::load_lane<V>(base + offsets[t] + x), acc);
        kernels::store_lane(out + x, finish(acc));
    }
    if constexpr (Count % L != 0)
        correlate_row<Count % L, kernels::half_lane_t<V>>(base + end, offsets, w, start, out + end, finish);
}

/// sums[t] += sum over Rows rows r and x < Count of g[r * GStride + x] * src[r * SStride +
/// offsets[t] + x]: one accumulator lane per tap, summed across its values once a map.
template <std::size_t Count, class V, std::size_t Rows, std::size_t GStride, std::size_t SStride, class T,
          std::size_t Taps>
inline void correlate_gradient(const T* g, const T* src, const std::array<std::size_t, Taps>& offsets, T* sums) {
    constexpr std::size_t L = kernels::lane_width<V>;
    constexpr std::size_t end = Count - Count % L;
    if constexpr (end > 0) {
        std::array<V, Taps> acc;
        for (auto& a : acc) a = V(T(0));
        for (std::size_t r = 0; r < Rows; ++r)
            for (std::size_t x = 0; x < end; x += L) {
                const V gv = kernels::load_lane<V>(g + r * GStride + x);
#pragma GCC unroll 64
                for (std::size_t t = 0; t < Taps; ++t)
                    acc[t] = kernels::mul_add(gv, kernels::load_lane<V>(src + r * SStride + offsets[t] + x), acc[t]);
            }
        for (std::size_t t = 0; t < Taps; ++t) sums[t] += lane_sum(acc[t]);
    }
    if constexpr (Count % L != 0)
        correlate_gradient<Count % L, kernels::half_lane_t<V>, Rows, GStride, SStride>(g + end, src + end, offsets,
                                                                                       sums);
}

template <class In, std::size_t K, std::size_t S, std::size_t P, std::size_t M, std::size_t Index,
          std::size_t ParamOffset, class Act = identity>
struct depthwise_conv2d_stage : stage_defaults {
    using layer = depthwise_conv2d<K, S, P, M>;
    using at = diagnostic::at_layer<Index, layer>;
    static_assert(
        diagnostic::check<is_image_v<In>, at, diagnostic::received<In>, diagnostic::expects<diagnostic::rank<3>>>,
        "typenet: depthwise_conv2d needs an image input (channels x height x width)");
    static_assert(diagnostic::check<(M >= 1), at, diagnostic::received<In>>,
                  "typenet: depthwise_conv2d<Kernel, Stride, Padding, Multiplier> needs Multiplier >= 1 (the "
                  "filters, and output channels, per input channel)");
    static_assert(diagnostic::check<(K >= 1 && S >= 1), at>,
                  "typenet: depthwise_conv2d<Kernel, Stride, Padding, Multiplier> needs Kernel and Stride >= 1");

    static constexpr std::size_t C = image_dims<In>::c, H = image_dims<In>::h, W = image_dims<In>::w;
    static_assert(diagnostic::check<(K <= H + 2 * P && K <= W + 2 * P), at, diagnostic::received<In>,
                                    diagnostic::depthwise_parameters<K, S, P, M>>,
                  "typenet: depthwise_conv2d kernel is larger than its (padded) input");

    // Clamped, so that a failed check above does not cascade into more errors below.
    static constexpr bool fits = is_image_v<In> && K >= 1 && S >= 1 && M >= 1 && K <= H + 2 * P && K <= W + 2 * P;
    static constexpr std::size_t k = fits ? K : 1, s = fits ? S : 1, p = fits ? P : 0, mult = fits ? M : 1;
    static constexpr std::size_t OH = (H + 2 * p - k) / s + 1, OW = (W + 2 * p - k) / s + 1, N = OH * OW;
    static constexpr std::size_t CM = C * mult, KK = k * k;

    using activation = Act;
    using input_shape = In;
    using output_shape = shape<CM, OH, OW>;
    static constexpr std::size_t layer_index = Index;
    static constexpr std::size_t param_offset = ParamOffset;
    static constexpr std::size_t weight_count = KK * CM;
    static constexpr std::size_t parameter_count = weight_count + CM;
    static constexpr std::size_t flops = 2 * KK * CM * N + CM * N + CM * N * Act::flops_per_value;

    /// The image read where it is (no padding, stride 1), or its padded copy split by
    /// column phase: phase r holds the padded columns r, r + s, r + 2s, ... of the rows
    /// the windows cover.
    static constexpr bool in_place = p == 0 && s == 1;
    static constexpr std::size_t source_rows = in_place ? H : (OH - 1) * s + k;
    static constexpr std::size_t source_width = in_place ? W : (W + 2 * p + s - 1) / s;
    static constexpr std::size_t phase_size = source_rows * source_width;
    static constexpr std::size_t source_size = in_place ? 0 : aligned_count<float>(s * phase_size);
    /// Tap (ki, kj) at output (oy, ox) reads the source at oy * s rows + this + ox.
    static constexpr std::array<std::size_t, KK> source_offsets = [] {
        std::array<std::size_t, KK> o{};
        for (std::size_t ki = 0; ki < k; ++ki)
            for (std::size_t kj = 0; kj < k; ++kj) o[ki * k + kj] = (kj % s) * phase_size + ki * source_width + kj / s;
        return o;
    }();

    /// The output gradient planes of one input channel's Multiplier outputs, dilated and
    /// padded for the input gradient: value (u, v) is dz at ((u + P - K + 1) / S, (v + P - K + 1) / S)
    /// where that is a whole output position, else 0.
    static constexpr std::size_t grad_rows = H + k - 1, grad_width = W + k - 1, grad_plane = grad_rows * grad_width;
    static constexpr std::array<std::size_t, mult* KK> gradient_offsets = [] {
        std::array<std::size_t, mult * KK> o{};
        for (std::size_t m = 0; m < mult; ++m)
            for (std::size_t ki = 0; ki < k; ++ki)
                for (std::size_t kj = 0; kj < k; ++kj)
                    o[(m * k + ki) * k + kj] = m * grad_plane + (k - 1 - ki) * grad_width + (k - 1 - kj);
        return o;
    }();

    static constexpr std::size_t forward_scratch_size = source_size;
    static constexpr std::size_t scratch_size = source_size + aligned_count<float>(mult * grad_plane);

    /// See initialization.hpp; each output sees K*K inputs, each input feeds K*K*Multiplier outputs.
    template <class T>
    static void initialize(T* params, random_engine& rng, init_rule rule) {
        initialize_weights(params, weight_count, KK, KK * mult, rule, rng);
        for (std::size_t i = 0; i < CM; ++i) params[weight_count + i] = T(0);
    }

    template <class Fn>
    static void describe_tensors(Fn&& f) {
        f("weights", std::size_t{0}, std::array<std::size_t, 3>{k, k, CM});
        f("bias", weight_count, std::array<std::size_t, 1>{CM});
    }

    /// Channel plane x (H x W) where the taps read it: itself, or its padded phases in `to`.
    template <class T>
    static const T* source_of(const T* x, T* to) {
        if constexpr (in_place) {
            return x;
        } else {
            // Zeros, then the image's rows: runs of W values at stride 1, dealt out to the phases
            // otherwise. (A test per value, as first written, made the copy cost more than the
            // 3 x 3 products it feeds: 32 ms rather than 7 for a 32 x 28 x 28 predict.)
            for (std::size_t i = 0; i < s * phase_size; ++i) to[i] = T(0);
            constexpr std::size_t rows_end = p + H < source_rows ? p + H : source_rows;
            for (std::size_t y = p; y < rows_end; ++y) {
                const T* row = x + (y - p) * W;
                if constexpr (s == 1) {
                    kernels::copy_run<W>(to + y * source_width + p, row);
                } else {
                    // Phase r's column j is padded column j s + r: inside the image for j in [lo, hi).
                    for (std::size_t r = 0; r < s; ++r) {
                        const std::size_t lo = r >= p ? 0 : (p - r + s - 1) / s, hi = (p + W - r + s - 1) / s;
                        T* dst = to + r * phase_size + y * source_width;
                        for (std::size_t j = lo; j < hi; ++j) dst[j] = row[j * s + r - p];
                    }
                }
            }
            return to;
        }
    }

    /// Stored is the parameters' storage: T, or bfloat16 for reduced-precision inference.
    template <class Stored, class T>
    static void forward(const Stored* params, const T* in, T* out, std::size_t batch, T* scratch) {
        using V = kernels::simd<T>;
        const auto finish = [](auto acc) { return Act::forward_lane(acc); };
        for (std::size_t b = 0; b < batch; ++b)
            for (std::size_t c = 0; c < C; ++c) {
                const T* src = source_of(in + b * In::size + c * H * W, scratch);
                for (std::size_t m = 0; m < mult; ++m) {
                    const std::size_t o = c * mult + m;
                    std::array<T, KK> w;
                    for (std::size_t t = 0; t < KK; ++t) w[t] = widen(params[t * CM + o]);
                    const T bias = widen(params[weight_count + o]);
                    T* y = out + b * output_shape::size + o * N;
                    for (std::size_t oy = 0; oy < OH; ++oy)
                        correlate_row<OW, V>(src + oy * s * source_width, source_offsets, w, bias, y + oy * OW, finish);
                }
            }
    }

    template <class T>
    static void backward(const T* params, const T* in, const T* out, T* d_out, T* d_in, T* d_params, std::size_t batch,
                         T* scratch) {
        static_assert(Act::derivative == derivative_from::output,
                      "typenet: a fused product's backward reads the activation's derivative from its output");
        using V = kernels::simd<T>;
        T* source = scratch;
        T* grad = scratch + source_size;
        T* d_b = d_params + weight_count;
        for (std::size_t i = 0; i < parameter_count; ++i) d_params[i] = T(0);
        for (std::size_t b = 0; b < batch; ++b) {
            T* dz = d_out + b * output_shape::size;
            const T* y = out + b * output_shape::size;
            // dZ = act'(Y) * dY in place; db[o] += its sum over the map.
            for (std::size_t o = 0; o < CM; ++o) d_b[o] += activation_gradient_sum<N, Act>(y + o * N, dz + o * N);
            for (std::size_t c = 0; c < C; ++c) {
                const T* src = source_of(in + b * In::size + c * H * W, source);
                for (std::size_t m = 0; m < mult; ++m) {
                    const std::size_t o = c * mult + m;
                    std::array<T, KK> sums{};
                    correlate_gradient<OW, V, OH, OW, s * source_width>(dz + o * N, src, source_offsets, sums.data());
                    for (std::size_t t = 0; t < KK; ++t) d_params[t * CM + o] += sums[t];
                }
                if (d_in == nullptr) continue;
                std::array<T, mult * KK> w;
                for (std::size_t m = 0; m < mult; ++m) {
                    for (std::size_t t = 0; t < KK; ++t) w[m * KK + t] = params[t * CM + c * mult + m];
                    dilate(dz + (c * mult + m) * N, grad + m * grad_plane);
                }
                T* dx = d_in + b * In::size + c * H * W;
                const auto as_is = [](auto acc) { return acc; };
                for (std::size_t iy = 0; iy < H; ++iy)
                    correlate_row<W, V>(grad + iy * grad_width, gradient_offsets, w, T(0), dx + iy * W, as_is);
            }
        }
    }

    /// to = one output gradient map, dilated by S and padded by K - 1 - P (see gradient_offsets);
    /// values that would fall outside (padding P > K - 1) are never read by dx, and dropped.
    template <class T>
    static void dilate(const T* dz, T* to) {
        for (std::size_t i = 0; i < grad_plane; ++i) to[i] = T(0);
        constexpr std::ptrdiff_t shift = static_cast<std::ptrdiff_t>(k - 1) - static_cast<std::ptrdiff_t>(p);
        for (std::size_t oy = 0; oy < OH; ++oy) {
            const std::ptrdiff_t u = static_cast<std::ptrdiff_t>(oy * s) + shift;
            if (u < 0 || u >= static_cast<std::ptrdiff_t>(grad_rows)) continue;
            for (std::size_t ox = 0; ox < OW; ++ox) {
                const std::ptrdiff_t v = static_cast<std::ptrdiff_t>(ox * s) + shift;
                if (v < 0 || v >= static_cast<std::ptrdiff_t>(grad_width)) continue;
                to[static_cast<std::size_t>(u) * grad_width + static_cast<std::size_t>(v)] = dz[oy * OW + ox];
            }
        }
    }
};

}  // namespace detail

/// Depthwise 2-D convolution: Multiplier Kernel x Kernel filters per input channel.
template <std::size_t Kernel, std::size_t Stride, std::size_t Padding, std::size_t Multiplier>
struct depthwise_conv2d : layer_base {
    static constexpr std::string_view name = "depthwise_conv2d";
    /// ONNX spells it a Conv with group = the input's channels (io/onnx_ops.hpp, depthwise_variant).
    static constexpr std::string_view onnx_op = "Conv";
    static constexpr std::string_view onnx_variant = "group = channels";
    /// Weights [K*K][C*Multiplier] then bias [C*Multiplier]: a per-channel affine map after it folds in.
    static constexpr bool absorbs_channel_affine = true;
    /// The stage with element-wise Act applied to each output vector in registers (network/fusion.hpp).
    template <class In, std::size_t Index, std::size_t ParamOffset, class Act>
    using with_epilogue =
        detail::depthwise_conv2d_stage<In, Kernel, Stride, Padding, Multiplier, Index, ParamOffset, Act>;
    template <class In, std::size_t Index, std::size_t ParamOffset>
    struct stage
        : detail::depthwise_conv2d_stage<In, Kernel, Stride, Padding, Multiplier, Index, ParamOffset, identity> {};
};

}  // namespace typenet
