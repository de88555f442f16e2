#pragma once
// dense<N>: the affine layer y = W x + b with N outputs, optionally fused with
// the element-wise activation that follows it in the network.
//
// Parameter layout (one contiguous slice of the model's parameters):
//   W  [inputs][N]  row-major: row k holds the weights from input k to every output,
//                   so the forward product Y = X * W streams W row by row
//   b  [N]
#include <array>
#include <cstddef>
#include <string_view>
#include <type_traits>

#include "../core/random.hpp"
#include "../kernels/gemm.hpp"
#include "../kernels/transpose.hpp"
#include "activations.hpp"
#include "epilogues.hpp"
#include "initialization.hpp"
#include "layer.hpp"

namespace typenet {

template <std::size_t Units>
struct dense;

namespace detail {

/// dZ = act'(Y) * dY in place, and db = column sums of dZ, in one pass over dY.
template <std::size_t N, class Act, class T>
void activation_gradient_and_bias(const T* y, T* dy, T* db, std::size_t batch) {
    for (std::size_t j = 0; j < N; ++j) db[j] = T(0);
    for (std::size_t b = 0; b < batch; ++b) {
        const T* yr = y + b * N;
        T* gr = dy + b * N;
        constexpr std::size_t W = kernels::simd_width<T>;
        std::size_t j = 0;
        for (; j + W <= N; j += W) {
            using V = kernels::simd<T>;
            const V dz = Act::backward_lane(kernels::load_lane<V>(yr + j), kernels::load_lane<V>(gr + j));
            kernels::store_lane(gr + j, dz);
            kernels::store_lane(db + j, kernels::load_lane<V>(db + j) + dz);
        }
        for (; j < N; ++j) {
            gr[j] = Act::backward_lane(yr[j], gr[j]);
            db[j] += gr[j];
        }
    }
}

}  // namespace detail

/// The dense layer bound to input shape In at layer Index, with activation Act
/// fused into it (identity when the layer stands alone).
template <class In, std::size_t Units, std::size_t Index, std::size_t ParamOffset, class Act = identity>
struct dense_stage : stage_defaults {
    static_assert(diagnostic::check<(Units >= 1), diagnostic::at_layer<Index, dense<Units>>>,
                  "typenet: dense<N> needs at least one output (N >= 1)");
    static_assert(diagnostic::check<is_flat_v<In>, diagnostic::at_layer<Index, dense<Units>>, diagnostic::received<In>,
                                    diagnostic::expects<diagnostic::rank<1>>>,
                  "typenet: dense<N> needs a flat (rank-1) input but received an image; put `flatten` before it");

    using layer = dense<Units>;
    using activation = Act;
    using input_shape = In;
    using output_shape = shape<Units>;
    static constexpr std::size_t layer_index = Index;
    static constexpr std::size_t param_offset = ParamOffset;
    static constexpr std::size_t inputs = In::size;
    static constexpr std::size_t outputs = Units;
    static constexpr std::size_t weight_count = inputs * outputs;
    static constexpr std::size_t parameter_count = weight_count + outputs;
    static constexpr std::size_t flops = 2 * inputs * outputs + outputs + outputs * Act::flops_per_value;
    /// Room for W^T, which the input gradient dX = dZ W^T reads row by row.
    static constexpr std::size_t scratch_size = weight_count;
    /// Whether the products skip zero inputs (kernels::gemm_skipping_zeros): in the first
    /// layer with parameters, in float. Double networks (gradient checks) keep the plain
    /// product: their steps are listed by scalar code, and they would compile it for nothing.
    template <class T>
    static constexpr bool skips_zero_inputs = param_offset == 0 && std::is_same_v<T, float>;

    /// See initialization.hpp: He before a ReLU, Glorot otherwise; bias 0.
    template <class T>
    static void initialize(T* params, random_engine& rng, init_rule rule) {
        initialize_weights(params, weight_count, inputs, outputs, rule, rng);
        for (std::size_t i = 0; i < outputs; ++i) params[weight_count + i] = T(0);
    }

    /// Names and dimensions of the tensors in this stage's parameter slice.
    template <class F>
    static void describe_tensors(F&& f) {
        f("weights", std::size_t{0}, std::array<std::size_t, 2>{inputs, outputs});
        f("bias", weight_count, std::array<std::size_t, 1>{outputs});
    }

    /// bfloat16 inference reads W with its rows interleaved for the GEMM (network/reduced_precision.hpp).
    static void interleave_bfloat16(const float* from, bfloat16* to) noexcept {
        kernels::interleave_bfloat16(from, inputs, outputs, to);
    }

    /// Stored is the parameters' storage: T, or bfloat16 for reduced-precision inference.
    template <class Stored, class T>
    static void forward(const Stored* params, const T* in, T* out, std::size_t batch, T*) {
        const Stored* w = params;
        const Stored* b = params + weight_count;
        const detail::bias_activation_epilogue<Stored, Act> epilogue{b};
        // The first layer with parameters reads the data: see backward.
        if constexpr (skips_zero_inputs<T>)
            kernels::gemm_skipping_zeros<outputs>(batch, inputs, in, inputs, w, outputs, out, outputs, epilogue);
        else
            kernels::gemm<outputs>(batch, inputs, in, inputs, w, outputs, out, outputs, epilogue);
    }

    template <class T>
    static void backward(const T* params, const T* in, const T* out, T* d_out, T* d_in, T* d_params, std::size_t batch,
                         T* scratch) {
        static_assert(Act::derivative == derivative_from::output,
                      "typenet: a fused product's backward reads the activation's derivative from its output");
        T* d_w = d_params;
        T* d_b = d_params + weight_count;
        detail::activation_gradient_and_bias<outputs, Act>(out, d_out, d_b, batch);
        // dW[inputs x outputs] = X^T dZ. The first layer with parameters reads the data
        // itself (through parameter-free layers at most), where an image's background
        // zeroes whole runs of inputs in many samples; its product skips them.
        if constexpr (skips_zero_inputs<T>)
            kernels::gemm_skipping_zeros<outputs, kernels::transposed>(inputs, batch, in, inputs, d_out, outputs, d_w,
                                                                       outputs);
        else
            kernels::gemm<outputs, kernels::transposed>(inputs, batch, in, inputs, d_out, outputs, d_w, outputs);
        if (d_in != nullptr) {
            kernels::transpose<inputs, outputs>(params, scratch);
            // dX[batch x inputs] = dZ W^T
            kernels::gemm<inputs>(batch, outputs, d_out, outputs, scratch, inputs, d_in, inputs);
        }
    }
};

/// Affine layer y = W x + b with Units outputs.
template <std::size_t Units>
struct dense : layer_base {
    static constexpr std::string_view name = "dense";
    static constexpr std::string_view onnx_op = "Gemm";
    /// Weights [inputs][Units] then bias [Units]: a per-unit affine map after it folds in.
    static constexpr bool absorbs_channel_affine = true;
    static constexpr std::size_t units = Units;
    /// The stage with element-wise Act applied to the product in registers (network/fusion.hpp).
    template <class In, std::size_t Index, std::size_t ParamOffset, class Act>
    using with_epilogue = dense_stage<In, Units, Index, ParamOffset, Act>;
    template <class In, std::size_t Index, std::size_t ParamOffset>
    struct stage : dense_stage<In, Units, Index, ParamOffset, identity> {};
};

}  // namespace typenet
