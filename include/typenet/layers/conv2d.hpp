#pragma once
// conv2d<Filters, Kernel, Stride, Padding>: 2-D convolution with a square kernel
// over a C x H x W input, zero padding, and a bias per filter; optionally fused
// with the element-wise activation that follows it.
//
// Computed as im2col + the GEMM of dense layers, one sample at a time:
//   forward   Y[F][N]   = W^T * columns[Q][N]        epilogue: + bias[f], activation
//   weights   dW[Q][F] += columns[Q][N] * dZ^T[N][F]  when F fills whole vectors (GEMM, or
//             sliding along the input rows where unpadded at stride 1: kernels/sliding_convolution.hpp);
//             dW^T[f][q] += dZ[f] . columns[q]        otherwise (row products, kernels/row_products.hpp)
//   inputs    dcolumns[Q][N] = W[Q][F] * dZ[F][N], folded back onto the image (or, where the
//             weight gradient slides, sliding too: kernels/sliding_convolution.hpp)
// A 1 x 1 kernel at stride 1 without padding (pointwise) has the sample itself as its
// columns [C][H*W]: all three products are GEMMs on the input and into the input gradient
// directly, with no copy, no fold and no scratch for columns, whatever the map's width.
// Otherwise, without padding and at stride 1, the products read the columns in place from the
// image instead of copying them first (kernels/im2col.hpp): the forward GEMM and the
// row products where output rows are whole vectors (patches_of) or nearly
// (wide_patches_of); otherwise, when the filters fill whole vectors, the forward
// pass as Y^T = columns^T * W (position_rows, then a transpose); and the weight
// gradient's GEMM (patch_rows).
// Parameter layout, like dense (inputs x outputs):
//   W  [C*K*K][F]   row (c, ki, kj) holds that patch value's weight in every filter
//   b  [F]
#include <array>
#include <cstddef>
#include <string_view>
#include <type_traits>

#include "../core/random.hpp"
#include "../core/storage.hpp"
#include "../kernels/gemm.hpp"
#include "../kernels/im2col.hpp"
#include "../kernels/row_products.hpp"
#include "../kernels/sliding_convolution.hpp"
#include "../kernels/transpose.hpp"
#include "activations.hpp"
#include "epilogues.hpp"
#include "feature_maps.hpp"
#include "initialization.hpp"
#include "layer.hpp"

namespace typenet {

template <std::size_t Filters, std::size_t Kernel, std::size_t Stride = 1, std::size_t Padding = 0>
struct conv2d;

namespace diagnostic {
template <std::size_t Filters, std::size_t Kernel, std::size_t Stride, std::size_t Padding>
struct conv_parameters {};
}  // namespace diagnostic

template <class In, std::size_t F, std::size_t K, std::size_t S, std::size_t P, std::size_t Index,
          std::size_t ParamOffset, class Act = identity>
struct conv2d_stage : stage_defaults {
    using layer = conv2d<F, K, S, P>;
    using at = diagnostic::at_layer<Index, layer>;
    static_assert(
        diagnostic::check<is_image_v<In>, at, diagnostic::received<In>, diagnostic::expects<diagnostic::rank<3>>>,
        "typenet: conv2d needs an image input (channels x height x width)");
    static_assert(diagnostic::check<(F >= 1 && K >= 1 && S >= 1), at>,
                  "typenet: conv2d<Filters, Kernel, Stride, Padding> needs Filters, Kernel and Stride >= 1");

    static constexpr std::size_t C = detail::image_dims<In>::c, H = detail::image_dims<In>::h,
                                 W = detail::image_dims<In>::w;
    static_assert(diagnostic::check<(K <= H + 2 * P && K <= W + 2 * P), at, diagnostic::received<In>,
                                    diagnostic::conv_parameters<F, K, S, P>>,
                  "typenet: conv2d kernel is larger than its (padded) input");

    // Clamp so that a failed check above does not cascade into more errors below.
    static constexpr bool fits = is_image_v<In> && K >= 1 && S >= 1 && K <= H + 2 * P && K <= W + 2 * P;
    using geometry = kernels::convolution_geometry<C, H, W, (fits ? K : 1), (fits ? S : 1), (fits ? P : 0)>;
    static constexpr std::size_t Q = geometry::patch, N = geometry::positions;

    using activation = Act;
    using input_shape = In;
    using output_shape = shape<F, geometry::out_h, geometry::out_w>;
    static constexpr std::size_t layer_index = Index;
    static constexpr std::size_t param_offset = ParamOffset;
    static constexpr std::size_t weight_count = Q * F;
    static constexpr std::size_t parameter_count = weight_count + F;
    static constexpr std::size_t flops = 2 * Q * F * N + F * N + F * N * Act::flops_per_value;
    static constexpr std::size_t N_wide = geometry::wide_positions;
    /// 1 x 1, stride 1, no padding: the columns are the sample (see the file comment).
    static constexpr bool pointwise = fits && K == 1 && S == 1 && P == 0;

    /// How the columns reach the kernels, for vectors of `width` values: in place from
    /// the image where vectors stay within output rows; else over the wide positions
    /// (im2col.hpp) where those add at most a quarter to the work; else copied (im2col).
    template <std::size_t width>
    static constexpr bool reads_wide =
        !geometry::template reads_in_place<width> && geometry::unpadded_unit_stride && 4 * N_wide <= 5 * N;
    /// Whether the forward pass runs position by position (Y^T = columns^T W, the
    /// columns' transpose read in place, kernels/im2col.hpp position_rows) where the
    /// in-place paths above do not apply: it needs the filters to fill whole vectors,
    /// as they are then the product's columns. LeNet's second convolution (8-wide
    /// output rows, 16 filters) on AVX-512, alone: 144 us a batch of 64 rather than 175
    /// with its columns copied, 3.0 us rather than 3.45 for one sample (best of 600 and
    /// of 20 000 calls); within the noise of whole epochs and of LeNet's latency.
    template <class T>
    static constexpr bool by_positions =
        !geometry::template reads_in_place<kernels::simd_width<T>> && !reads_wide<kernels::simd_width<T>> &&
        geometry::unpadded_unit_stride && F % kernels::simd_width<T> == 0 &&
        kernels::detail::block_rows_fit<typename geometry::position_rows, kernels::register_block<T, F>>;
    /// Where the in-place paths do not apply either, but the filters fill whole vectors and
    /// the input rows are short, the same Y^T without a GEMM, before by_positions
    /// (kernels/sliding_convolution.hpp): the same case, 125-130 us rather than 145-150
    /// with the transpose (alone, best of 600).
    template <class T>
    static constexpr bool by_sliding =
        !geometry::template reads_in_place<kernels::simd_width<T>> && !reads_wide<kernels::simd_width<T>> &&
        geometry::unpadded_unit_stride && kernels::sliding_convolution_forward<T, H, W, K, F>::applies;
    /// Where the columns are copied (padded or strided convolutions), the same Y^T = columns^T W
    /// when the filters fill whole vectors and the patches are deep: W is then the product's B,
    /// row-major as a dense layer's weights, and the columns its transposed A, the layout in
    /// which the GEMM runs at the FMA peak; Y = W^T columns instead keeps the positions as
    /// columns, 196 = 12 vectors and a tail for a 14 x 14 map. bn-cnn's 32 -> 64 3x3 on 14 x 14
    /// maps, Zen 4 (AVX-512), a batch of 64 alone: 5.23 ms rather than 5.52; its patches
    /// 9 deep in the first convolution: 0.50 ms rather than 0.36, so not there (docs/gemm.md).
    template <class T>
    static constexpr bool by_columns_transposed = F % kernels::simd_width<T> == 0 && Q >= 4 * kernels::simd_width<T>;
    static constexpr std::size_t forward_scratch_size =
        pointwise
            ? 0
            : aligned_count<float>(Q * N > F * N_wide ? Q * N : F * N_wide) +
                  (by_columns_transposed<float> || by_columns_transposed<double> ? aligned_count<float>(N * F) : 0);

    /// How backward computes the weight gradient, for values of type T (see the file comment).
    /// The GEMM needs F to fill whole vectors (LeNet's second convolution: 16); with F = 6 its
    /// columns would be scalar tails, and the row products, which need no transpose of the
    /// Q x N columns, win instead. So they do where the patches are shallow (a first layer's
    /// 9 values), the GEMM then a transpose of dZ for a product 9 rows deep: bn-cnn's
    /// 1 -> 32 3x3 on Zen 4, a batch of 64 alone, 46-54 GFLOP/s rather than 43.5 with AVX-512
    /// and 48 rather than 29-37 with AVX2. Both paths are gradient-checked (test_convolution).
    template <class T>
    static constexpr bool weights_by_gemm = F % kernels::simd_width<T> == 0 &&
                                            (pointwise || Q >= 2 * kernels::simd_width<T>);
    /// ... or, among those, without a GEMM (kernels/sliding_convolution.hpp): LeNet's second
    /// convolution on AVX-512, 114 us a batch of 64 against 164 for the GEMM (alone).
    template <class T>
    static constexpr bool weights_by_sliding =
        weights_by_gemm<T>&& geometry::unpadded_unit_stride&& kernels::sliding_filter_gradient<T, C, W, K, F>::applies;
    /// ... and the input gradient (kernels/sliding_convolution.hpp) where the weight gradient's
    /// GEMM or sliding has left dZ^T in the scratch: LeNet's second convolution, 156-160 us a
    /// batch against 173-182 for the GEMM into the columns and their fold (alone).
    template <class T>
    static constexpr bool inputs_by_sliding =
        weights_by_gemm<T>&& geometry::unpadded_unit_stride&& kernels::sliding_input_gradient<T, H, W, K, F>::applies;
    /// ... and elsewhere, for deep patches on small maps, as dcolumns^T[N][Q] = dZ^T W^T (W^T laid
    /// out once a batch), transposed and folded: the patch values are then the product's columns
    /// and dZ its transposed A, read in place. Zen 4, AVX-512, a batch of 64 alone: resnet's
    /// 96 -> 96 3x3 on 7 x 7 maps (864 patch values, 49 positions: 3 vectors and a tail) 61.5
    /// GFLOP/s rather than 46.7, its strided 48 -> 96 51.2 rather than 46.5; on 14 x 14 maps
    /// (196 positions, 12 vectors) bn-cnn's 32 -> 64 74.1 rather than 82.4, so only where the
    /// positions fill fewer than 8 vectors.
    template <class T>
    static constexpr bool inputs_by_positions =
        !pointwise && !inputs_by_sliding<T> && Q >= 4 * kernels::simd_width<T> && N < 8 * kernels::simd_width<T>;
    static constexpr bool any_inputs_by_positions = inputs_by_positions<float> || inputs_by_positions<double>;
    // columns, then dcolumns in the same place (Q*N; none when pointwise); dZ^T (N*F) or the row
    // products' partial sums (F*Q vectors; sized for float, the widest in values).
    // Then the output gradient over wide positions (F * N_wide), where the row products read those;
    // then dcolumns^T and W^T where the input gradient goes by positions.
    static constexpr std::size_t columns_size = pointwise ? 0 : aligned_count<float>(Q * N);
    static constexpr std::size_t weight_work_size = aligned_count<float>(
        N * F > kernels::row_products_size<float>(F, Q) ? N * F : kernels::row_products_size<float>(F, Q));
    static constexpr std::size_t wide_gradient_size = pointwise ? 0 : aligned_count<float>(F * N_wide);
    static constexpr std::size_t by_position_size =
        any_inputs_by_positions ? aligned_count<float>(N * Q) + aligned_count<float>(F * Q) : 0;
    static constexpr std::size_t scratch_size = columns_size + weight_work_size + wide_gradient_size + by_position_size;
    static_assert(scratch_size >= forward_scratch_size, "training forward passes run in the backward scratch");

    /// See initialization.hpp; fan-in C*K*K, fan-out F*K*K.
    template <class T>
    static void initialize(T* params, random_engine& rng, init_rule rule) {
        initialize_weights(params, weight_count, Q, F * K * K, rule, rng);
        for (std::size_t i = 0; i < F; ++i) params[weight_count + i] = T(0);
    }

    template <class Fn>
    static void describe_tensors(Fn&& f) {
        f("weights", std::size_t{0}, std::array<std::size_t, 4>{C, K, K, F});
        f("bias", weight_count, std::array<std::size_t, 1>{F});
    }

    /// Stored is the parameters' storage: T, or bfloat16 for reduced-precision inference.
    template <class Stored, class T>
    static void forward(const Stored* params, const T* in, T* out, std::size_t batch, T* scratch) {
        T* cols = scratch;
        const detail::channel_bias_activation_epilogue<Stored, Act> epilogue{params + weight_count};
        for (std::size_t b = 0; b < batch; ++b) {
            // A = W^T: A(f, q) = W[q][f], the "transposed" layout with leading dimension F.
            // B = the columns: read in place from the image where the shapes allow (no copy
            // through memory: LeNet's first columns, 58 KB a sample, do not fit in L1).
            if constexpr (pointwise) {
                // The sample as the operand patches_of makes of it (K = 1: at offset n, whatever the
                // width): its compile-time row offsets, not a run-time leading dimension. 64 -> 64
                // filters on 8 x 8 maps, AVX-512, a batch of 32 alone: 74 us rather than 117.
                kernels::gemm<N, kernels::transposed>(F, Q, params, F, geometry::patches_of(in + b * In::size),
                                                      out + b * output_shape::size, N, epilogue);
            } else if constexpr (geometry::template reads_in_place<kernels::simd_width<T>>) {
                kernels::gemm<N, kernels::transposed>(F, Q, params, F, geometry::patches_of(in + b * In::size),
                                                      out + b * output_shape::size, N, epilogue);
            } else if constexpr (reads_wide<kernels::simd_width<T>>) {
                kernels::gemm<N_wide, kernels::transposed>(
                    F, Q, params, F, geometry::wide_patches_of(in + b * In::size), cols, N_wide, epilogue);
                geometry::compact(cols, out + b * output_shape::size, F);
            } else if constexpr (by_sliding<T> && std::is_same_v<Stored, T>) {
                // Y^T[N][F] by sliding along the input rows (kernels/sliding_convolution.hpp), then
                // transposed as below.
                const detail::bias_activation_epilogue<Stored, Act> by_filter{params + weight_count};
                kernels::sliding_convolution<C, H, W, K, F>(in + b * In::size, params, cols, by_filter);
                kernels::transpose<N, F>(cols, out + b * output_shape::size);
            } else if constexpr (by_positions<T> && std::is_same_v<Stored, T>) {
                // Y^T[N][F] = columns^T * W, the columns read in place (position_rows), then
                // transposed into the output's filter-major layout. (bfloat16 weights as B
                // would need interleave_bfloat16's layout; they keep the path below.)
                const detail::bias_activation_epilogue<Stored, Act> by_filter{params + weight_count};
                kernels::gemm<F, typename geometry::position_rows>(N, Q, in + b * In::size, 0, params, F, cols, F,
                                                                   by_filter);
                kernels::transpose<N, F>(cols, out + b * output_shape::size);
            } else if constexpr (by_columns_transposed<T> && std::is_same_v<Stored, T>) {
                // Y^T[N][F] = columns^T W (the columns as the transposed A), then transposed. (bfloat16
                // weights as B would need interleave_bfloat16's layout; they keep the path below.)
                geometry::columns(in + b * In::size, cols);
                T* by_position = cols + columns_size;  // the backward scratch's weight_work in training
                const detail::bias_activation_epilogue<Stored, Act> by_filter{params + weight_count};
                kernels::gemm<F, kernels::transposed>(N, Q, cols, N, params, F, by_position, F, by_filter);
                kernels::transpose<N, F>(by_position, out + b * output_shape::size);
            } else {
                geometry::columns(in + b * In::size, cols);
                kernels::gemm<N, kernels::transposed>(F, Q, params, F, cols, N, out + b * output_shape::size, N,
                                                      epilogue);
            }
        }
    }

    template <class T>
    static void backward(const T* params, const T* in, const T* out, T* d_out, T* d_in, T* d_params, std::size_t batch,
                         T* scratch) {
        static_assert(kernels::simd_width<T> <= kernels::simd_width<float>,
                      "scratch_size assumes float's vector width");
        static_assert(Act::derivative == derivative_from::output,
                      "typenet: a fused product's backward reads the activation's derivative from its output");
        T* cols = scratch;                        // the sample's columns, then its dcolumns
        T* weight_work = scratch + columns_size;  // dZ^T (GEMM path) or the row products' partial sums
        [[maybe_unused]] T* dz_wide = weight_work + weight_work_size;
        [[maybe_unused]] T* dcolumns_by_position = dz_wide + wide_gradient_size;
        [[maybe_unused]] T* weights_transposed = dcolumns_by_position + aligned_count<float>(N * Q);
        if constexpr (inputs_by_positions<T>)
            if (d_in != nullptr) kernels::transpose<Q, F>(params, weights_transposed);  // W^T[F][Q]
        T* d_b = d_params + weight_count;
        for (std::size_t f = 0; f < F; ++f) d_b[f] = T(0);
        if constexpr (weights_by_gemm<T>) {
            for (std::size_t i = 0; i < weight_count; ++i) d_params[i] = T(0);
        } else {
            for (std::size_t i = 0; i < kernels::row_products_size<T>(F, Q); ++i) weight_work[i] = T(0);
        }
        for (std::size_t b = 0; b < batch; ++b) {
            T* dz = d_out + b * output_shape::size;
            const T* y = out + b * output_shape::size;
            // dZ = act'(Y) * dY in place; db[f] += sum over positions (in vector lanes,
            // then across them: this pass touches every output value once).
            for (std::size_t f = 0; f < F; ++f)
                d_b[f] += detail::activation_gradient_sum<N, Act>(y + f * N, dz + f * N);
            if constexpr (weights_by_gemm<T>) {
                // dW[Q][F] += columns[Q][N] * dZ^T[N][F]: dZ^T is F x N, a third of the columns' size or less.
                kernels::transpose<F, N>(dz, weight_work);
                if constexpr (pointwise) {
                    kernels::gemm<F, kernels::row_major, true>(Q, N, in + b * In::size, N, weight_work, F, d_params, F);
                } else if constexpr (weights_by_sliding<T>) {
                    kernels::accumulate_sliding_filter_gradient<C, H, W, K, F>(in + b * In::size, weight_work,
                                                                               d_params);
                } else if constexpr (geometry::unpadded_unit_stride) {
                    // The columns read in place (im2col.hpp, patch_rows) rather than copied: for
                    // LeNet on AVX-512, the weight gradient's product alone 164 us a batch rather
                    // than 215 with the copy; whole epochs in turns, 18 pairs, 3 % faster (median).
                    kernels::gemm<F, typename geometry::patch_rows, true>(Q, N, in + b * In::size, 0, weight_work, F,
                                                                          d_params, F);
                } else {
                    geometry::columns(in + b * In::size, cols);
                    kernels::gemm<F, kernels::row_major, true>(Q, N, cols, N, weight_work, F, d_params, F);
                }
            } else if constexpr (pointwise) {
                kernels::accumulate_row_products<N>(F, Q, dz, N, in + b * In::size, N, weight_work);
            } else if constexpr (geometry::template reads_in_place<kernels::simd_width<T>>) {
                kernels::accumulate_row_products<N>(F, Q, dz, N, geometry::patches_of(in + b * In::size), weight_work);
            } else if constexpr (reads_wide<kernels::simd_width<T>>) {
                // The positions between output rows get zero gradients, so they add nothing.
                geometry::widen(dz, dz_wide, F);
                kernels::accumulate_row_products<N_wide>(F, Q, dz_wide, N_wide,
                                                         geometry::wide_patches_of(in + b * In::size), weight_work);
            } else {
                geometry::columns(in + b * In::size, cols);
                kernels::accumulate_row_products<N>(F, Q, dz, N, cols, N, weight_work);
            }
            if (d_in != nullptr) {
                if constexpr (pointwise) {
                    // dX[C][N] = W[C][F] * dZ[F][N], straight into the input gradient.
                    kernels::gemm<N>(Q, F, params, F, dz, N, d_in + b * In::size, N);
                } else if constexpr (inputs_by_sliding<T>) {
                    // dZ^T is in weight_work already: the weight gradient needed it.
                    kernels::sliding_input_gradient_of<C, H, W, K, F>(params, weight_work, d_in + b * In::size);
                } else if constexpr (inputs_by_positions<T>) {
                    kernels::gemm<Q, kernels::transposed>(N, F, dz, N, weights_transposed, Q, dcolumns_by_position, Q);
                    kernels::transpose<N, Q>(dcolumns_by_position, cols);
                    geometry::fold(cols, d_in + b * In::size);
                } else {
                    kernels::gemm<N>(Q, F, params, F, dz, N, cols, N);
                    geometry::fold(cols, d_in + b * In::size);
                }
            }
        }
        // Row products hold dW^T[f][q] as lane sums; the parameters are W[q][f].
        if constexpr (!weights_by_gemm<T>) kernels::reduce_row_products(F, Q, weight_work, d_params, 1, F);
    }
};

/// 2-D convolution: Filters output channels, a Kernel x Kernel window, zero Padding.
template <std::size_t Filters, std::size_t Kernel, std::size_t Stride, std::size_t Padding>
struct conv2d : layer_base {
    static constexpr std::string_view name = "conv2d";
    static constexpr std::string_view onnx_op = "Conv";
    /// Weights [C*K*K][Filters] then bias [Filters]: a per-channel affine map after it folds in.
    static constexpr bool absorbs_channel_affine = true;
    /// The stage with element-wise Act applied to the product in registers (network/fusion.hpp).
    template <class In, std::size_t Index, std::size_t ParamOffset, class Act>
    using with_epilogue = conv2d_stage<In, Filters, Kernel, Stride, Padding, Index, ParamOffset, Act>;
    template <class In, std::size_t Index, std::size_t ParamOffset>
    struct stage : conv2d_stage<In, Filters, Kernel, Stride, Padding, Index, ParamOffset, identity> {};
};

}  // namespace typenet
