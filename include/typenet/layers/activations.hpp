#pragma once
// The built-in element-wise activations, each one formula over a lane type V and
// its derivative (layers/elementwise.hpp says what the members mean). relu, relu6, sigmoid,
// tanh_act and leaky_relu write the derivative through the output y, so backward needs
// only what forward wrote; gelu and silu through the input z.
#include <cstddef>
#include <string_view>

#include "elementwise.hpp"
#include "lane_math.hpp"

namespace typenet {

/// y = z (what a dense layer applies when no activation follows it).
struct identity : elementwise<identity> {
    static constexpr std::string_view name = "identity";
    static constexpr std::size_t flops_per_value = 0;
    static constexpr derivative_from derivative = derivative_from::output;
    template <class V>
    static V forward_lane(V z) {
        return z;
    }
    template <class V>
    static V backward_lane(V, V g) {
        return g;
    }
};

/// y = max(0, z)
struct relu : elementwise<relu> {
    static constexpr std::string_view name = "relu";
    static constexpr std::string_view onnx_op = "Relu";
    static constexpr std::size_t flops_per_value = 1;
    static constexpr derivative_from derivative = derivative_from::output;
    static constexpr init_rule initialization = init_rule::he;
    template <class V>
    static V forward_lane(V z) {
        return lane::max(z, V(0));
    }
    /// dy/dz = 1 where y > 0 (the gradient passes only where the unit was on).
    template <class V>
    static V backward_lane(V y, V g) {
        return lane::select(y > V(0), g, V(0));
    }
};

/// y = min(max(z, 0), 6): ReLU capped at 6 (MobileNet's), whose bounded range survives
/// low-precision storage of activations.
struct relu6 : elementwise<relu6> {
    static constexpr std::string_view name = "relu6";
    static constexpr std::string_view onnx_op = "Clip";  // min 0, max 6 (io/onnx_nodes.hpp checks them)
    static constexpr std::size_t flops_per_value = 2;
    static constexpr derivative_from derivative = derivative_from::output;
    static constexpr init_rule initialization = init_rule::he;
    template <class V>
    static V forward_lane(V z) {
        return lane::min(lane::max(z, V(0)), lane::constant<V>(6));
    }
    /// dy/dz = 1 where 0 < y < 6: both clipped ranges pass no gradient, and the output
    /// tells them apart from the linear range (y is exactly 0 or 6 there).
    template <class V>
    static V backward_lane(V y, V g) {
        return lane::select((y > V(0)) & (y < lane::constant<V>(6)), g, V(0));
    }
};

/// y = z for z > 0, else (Numerator / Denominator) z; the slope is a fraction because
/// template parameters of floating-point type are not portable to every compiler typenet
/// supports. It must lie in (0, 1]: the derivative is then read from the sign of y.
template <std::size_t Numerator = 1, std::size_t Denominator = 100>
struct leaky_relu : elementwise<leaky_relu<Numerator, Denominator>> {
    static_assert(Numerator >= 1 && Numerator <= Denominator,
                  "typenet: leaky_relu<Numerator, Denominator> needs a slope in (0, 1]");
    static constexpr std::string_view name = "leaky_relu";
    static constexpr std::string_view onnx_op = "LeakyRelu";
    static constexpr double slope = static_cast<double>(Numerator) / static_cast<double>(Denominator);
    static constexpr std::size_t flops_per_value = 2;
    static constexpr derivative_from derivative = derivative_from::output;
    static constexpr init_rule initialization = init_rule::he;
    template <class V>
    static V forward_lane(V z) {
        return lane::select(z > V(0), z, z * lane::constant<V>(slope));
    }
    template <class V>
    static V backward_lane(V y, V g) {
        return lane::select(y > V(0), g, g * lane::constant<V>(slope));
    }
};

/// y = 1 / (1 + e^-z)
struct sigmoid : elementwise<sigmoid> {
    static constexpr std::string_view name = "sigmoid";
    static constexpr std::string_view onnx_op = "Sigmoid";
    static constexpr std::size_t flops_per_value = 4;
    static constexpr derivative_from derivative = derivative_from::output;
    template <class V>
    static V forward_lane(V z) {
        return V(1) / (V(1) + lane::exp(-z));
    }
    /// dy/dz = y (1 - y)
    template <class V>
    static V backward_lane(V y, V g) {
        return g * y * (V(1) - y);
    }
};

/// y = tanh(z) (std::tanh is a function, so the layer cannot be called `tanh`).
struct tanh_act : elementwise<tanh_act> {
    static constexpr std::string_view name = "tanh_act";
    static constexpr std::string_view onnx_op = "Tanh";
    static constexpr std::size_t flops_per_value = 4;
    static constexpr derivative_from derivative = derivative_from::output;
    template <class V>
    static V forward_lane(V z) {
        return lane::tanh(z);
    }
    /// dy/dz = 1 - y^2
    template <class V>
    static V backward_lane(V y, V g) {
        return g * (V(1) - y * y);
    }
};

/// y = z Phi(z), Phi the standard normal distribution function (the exact GELU, as
/// PyTorch's default, not the tanh approximation).
struct gelu : elementwise<gelu> {
    static constexpr std::string_view name = "gelu";
    static constexpr std::size_t flops_per_value = 8;
    static constexpr derivative_from derivative = derivative_from::input;
    static constexpr init_rule initialization = init_rule::he;
    static constexpr double inv_sqrt2 = 0.70710678118654752440;
    static constexpr double inv_sqrt_2pi = 0.39894228040143267794;
    template <class V>
    static V forward_lane(V z) {
        return lane::constant<V>(0.5) * z * (V(1) + lane::erf(z * lane::constant<V>(inv_sqrt2)));
    }
    /// dy/dz = Phi(z) + z phi(z)
    template <class V>
    static V backward_lane(V z, V g) {
        const V cdf = lane::constant<V>(0.5) * (V(1) + lane::erf(z * lane::constant<V>(inv_sqrt2)));
        const V pdf = lane::constant<V>(inv_sqrt_2pi) * lane::exp(lane::constant<V>(-0.5) * z * z);
        return g * (cdf + z * pdf);
    }
};

/// y = z sigmoid(z) (also called swish).
struct silu : elementwise<silu> {
    static constexpr std::string_view name = "silu";
    static constexpr std::size_t flops_per_value = 5;
    static constexpr derivative_from derivative = derivative_from::input;
    static constexpr init_rule initialization = init_rule::he;
    template <class V>
    static V forward_lane(V z) {
        return z / (V(1) + lane::exp(-z));
    }
    /// dy/dz = s (1 + z (1 - s)), s = sigmoid(z)
    template <class V>
    static V backward_lane(V z, V g) {
        const V s = V(1) / (V(1) + lane::exp(-z));
        return g * s * (V(1) + z * (V(1) - s));
    }
};

}  // namespace typenet
