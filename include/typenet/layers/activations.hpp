#pragma once
// Element-wise activations. Each one is written once, over a lane type V (a scalar
// or an xsimd batch), as two formulas:
//   forward_lane(z)      the activation
//   backward_lane(y, g)  the incoming gradient g times the derivative, expressed
//                        through the output y, so backward needs only the output
//                        (which is what a fused dense+activation keeps).
// The same formulas run in the GEMM epilogue of a fused dense layer and in the
// stand-alone stage below; the stand-alone stage is the unfused reference path.
#include <cstddef>

#include <xsimd/xsimd.hpp>

#include "../kernels/simd.hpp"
#include "layer.hpp"

namespace typenet {

namespace detail {

/// The stage shared by every element-wise activation Act.
template <class Act>
struct elementwise_activation : layer_base {
    static constexpr bool is_elementwise_activation = true;

    template <class In, std::size_t Index, std::size_t ParamOffset>
    struct stage : stage_defaults {
        using layer = Act;
        using input_shape = In;
        using output_shape = In;
        static constexpr std::size_t layer_index = Index;
        static constexpr std::size_t param_offset = ParamOffset;
        static constexpr std::size_t flops = In::size * Act::flops_per_value;

        template <class T>
        static void forward(const T*, const T* in, T* out, std::size_t batch, T*) {
            kernels::transform(in, out, batch * In::size, [](auto z) { return Act::forward_lane(z); });
        }

        template <class T>
        static void backward(const T*, const T*, const T* out, T* d_out, T* d_in, T*, std::size_t batch, T*) {
            if (d_in == nullptr) return;
            kernels::transform(out, d_out, d_in, batch * In::size,
                               [](auto y, auto g) { return Act::backward_lane(y, g); });
        }
    };
};

template <class V>
V select_positive(V y, V g) {
    if constexpr (kernels::is_scalar_lane_v<V>) return y > V(0) ? g : V(0);
    else return xsimd::select(y > V(0), g, V(0));
}

}  // namespace detail

template <class L>
inline constexpr bool is_elementwise_activation_v = requires { requires L::is_elementwise_activation; };

/// y = z (what a dense layer applies when no activation follows it).
struct identity : detail::elementwise_activation<identity> {
    static constexpr std::size_t flops_per_value = 0;
    template <class V>
    static V forward_lane(V z) { return z; }
    template <class V>
    static V backward_lane(V, V g) { return g; }
};

/// y = max(0, z)
struct relu : detail::elementwise_activation<relu> {
    static constexpr std::size_t flops_per_value = 1;
    template <class V>
    static V forward_lane(V z) {
        if constexpr (kernels::is_scalar_lane_v<V>) return z > V(0) ? z : V(0);
        else return xsimd::max(z, V(0));
    }
    /// dy/dz = 1 where y > 0 (the gradient passes only where the unit was on).
    template <class V>
    static V backward_lane(V y, V g) { return detail::select_positive(y, g); }
};

/// y = 1 / (1 + e^-z)
struct sigmoid : detail::elementwise_activation<sigmoid> {
    static constexpr std::size_t flops_per_value = 4;
    template <class V>
    static V forward_lane(V z) {
        using std::exp;
        if constexpr (kernels::is_scalar_lane_v<V>) return V(1) / (V(1) + exp(-z));
        else return V(1) / (V(1) + xsimd::exp(-z));
    }
    /// dy/dz = y (1 - y)
    template <class V>
    static V backward_lane(V y, V g) { return g * y * (V(1) - y); }
};

/// y = tanh(z)
struct tanh_act : detail::elementwise_activation<tanh_act> {
    static constexpr std::size_t flops_per_value = 4;
    template <class V>
    static V forward_lane(V z) {
        using std::tanh;
        if constexpr (kernels::is_scalar_lane_v<V>) return tanh(z);
        else return xsimd::tanh(z);
    }
    /// dy/dz = 1 - y^2
    template <class V>
    static V backward_lane(V y, V g) { return g * (V(1) - y * y); }
};

/// Short name for tanh_act (std::tanh is a function, so the layer cannot be `tanh`).
using tanh_ = tanh_act;

}  // namespace typenet
