#pragma once
// Element-wise layers from one formula each. A function class F derives from
// elementwise<F> and provides, over a lane type V (a scalar or an xsimd batch, see
// layers/lane_math.hpp):
//
//   static constexpr std::string_view name;         its stable name
//   static constexpr std::size_t flops_per_value;
//   static constexpr derivative_from derivative;    what backward_lane's first argument is
//   static constexpr init_rule initialization;      optional (glorot): how the layer before
//                                                   it is initialised
//   template <class V> static V forward_lane(V z);
//   template <class V> static V backward_lane(V x, V g);   g times the derivative at x, where
//                                                   x is the output y or the input z
//
// The same formulas run in the GEMM epilogue of the dense or conv2d layer before it
// (the fused plan, network/fusion.hpp), in the stand-alone stage below (the reference
// plan) and in scalar tails, so fused and unfused paths cannot drift. This is the
// whole of a built-in activation (layers/activations.hpp) and of a user's
// (examples/custom_layer.cpp).
#include <concepts>
#include <cstddef>
#include <string_view>

#include "../kernels/simd.hpp"
#include "lane_math.hpp"
#include "layer.hpp"

namespace typenet {

namespace protocol {
template <class F>
concept has_elementwise_facts = requires {
    { F::name } -> std::convertible_to<std::string_view>;
    { F::flops_per_value } -> std::convertible_to<std::size_t>;
    { F::derivative } -> std::convertible_to<derivative_from>;
};
template <class F, class V>
concept forward_lane_for = requires(V v) {
    { F::forward_lane(v) } -> std::convertible_to<V>;
};
template <class F, class V>
concept backward_lane_for = requires(V x, V g) {
    { F::backward_lane(x, g) } -> std::convertible_to<V>;
};
template <class F>
concept has_lane_formulas =
    forward_lane_for<F, float> && forward_lane_for<F, double> && forward_lane_for<F, kernels::simd<float>> &&
    backward_lane_for<F, float> && backward_lane_for<F, double> && backward_lane_for<F, kernels::simd<float>>;
}  // namespace protocol

namespace diagnostic {
struct elementwise_facts {};
struct forward_lane {};
struct backward_lane {};
}  // namespace diagnostic

template <class F>
struct elementwise : layer_base {
    static constexpr bool is_elementwise = true;

    template <class In, std::size_t Index, std::size_t ParamOffset>
    struct stage : stage_defaults {
        using at = diagnostic::at_layer<Index, F>;
        static_assert(diagnostic::check<protocol::has_elementwise_facts<F>, at,
                                        diagnostic::missing<diagnostic::elementwise_facts>>,
                      "typenet: element-wise layer: it needs static constexpr members name (std::string_view), "
                      "flops_per_value (std::size_t) and derivative (typenet::derivative_from)");
        static_assert(diagnostic::check < protocol::forward_lane_for<F, float> &&
                          protocol::forward_lane_for<F, double> && protocol::forward_lane_for<F, kernels::simd<float>>,
                      at, diagnostic::missing < diagnostic::forward_lane >>,
                      "typenet: element-wise layer: forward_lane must be `template <class V> static V "
                      "forward_lane(V z)`, valid for float, double and xsimd batches (layers/lane_math.hpp)");
        static_assert(diagnostic::check < protocol::backward_lane_for<F, float> &&
                          protocol::backward_lane_for<F, double> &&
                          protocol::backward_lane_for<F, kernels::simd<float>>,
                      at, diagnostic::missing < diagnostic::backward_lane >>,
                      "typenet: element-wise layer: backward_lane must be `template <class V> static V "
                      "backward_lane(V x, V g)`: g times the derivative at x (the output or the input, as "
                      "`derivative` says), for float, double and xsimd batches");

        using layer = F;
        using input_shape = In;
        using output_shape = In;
        static constexpr std::size_t layer_index = Index;
        static constexpr std::size_t param_offset = ParamOffset;
        static constexpr std::size_t flops = In::size * F::flops_per_value;

        template <class T>
        static void forward(const T*, const T* in, T* out, std::size_t batch, T*) {
            kernels::transform(in, out, batch * In::size, [](auto z) { return F::forward_lane(z); });
        }

        template <class T>
        static void backward(const T*, const T* in, const T* out, T* d_out, T* d_in, T*, std::size_t batch, T*) {
            if (d_in == nullptr) return;
            const T* at_x = F::derivative == derivative_from::output ? out : in;
            kernels::transform(at_x, d_out, d_in, batch * In::size,
                               [](auto x, auto g) { return F::backward_lane(x, g); });
        }
    };
};

/// An element-wise layer: a function class derived from elementwise<F>.
template <class L>
concept elementwise_layer = std::derived_from<L, layer_base> && requires {
    requires L::is_elementwise;
};

/// How the layer before element-wise L is initialised (Glorot unless L says otherwise).
template <class L>
constexpr init_rule initialization_for() {
    if constexpr (requires { L::initialization; })
        return L::initialization;
    else
        return init_rule::glorot;
}

}  // namespace typenet
