#pragma once
// What the layers over C x H x W feature maps share (conv2d, depthwise_conv2d, pooling,
// global_avg_pool): the dimensions of an input shape that may not be an image (so that a
// failed image check does not cascade), and the pass that turns a product's output
// gradient into its pre-activation gradient while summing it for the bias.
#include <cstddef>

#include "../core/shape.hpp"
#include "../kernels/simd.hpp"

namespace typenet::detail {

/// dz = act'(y) * dz over one feature map of N positions; returns the sum of the new dz.
template <std::size_t N, class Act, class T>
T activation_gradient_sum(const T* y, T* dz) {
    using V = kernels::simd<T>;
    constexpr std::size_t W = V::size;
    constexpr std::size_t vector_end = N - N % W;
    V sums(T(0));
    for (std::size_t n = 0; n < vector_end; n += W) {
        const V g = Act::backward_lane(kernels::load_lane<V>(y + n), kernels::load_lane<V>(dz + n));
        kernels::store_lane(dz + n, g);
        sums += g;
    }
    T sum = xsimd::hadd(sums);
    for (std::size_t r = 0; r < N % W; ++r) {
        dz[vector_end + r] = Act::backward_lane(y[vector_end + r], dz[vector_end + r]);
        sum += dz[vector_end + r];
    }
    return sum;
}

template <class In>
struct image_dims {
    static constexpr std::size_t c = 1, h = 1, w = 1;
};
template <std::size_t C, std::size_t H, std::size_t W>
struct image_dims<shape<C, H, W>> {
    static constexpr std::size_t c = C, h = H, w = W;
};

}  // namespace typenet::detail
