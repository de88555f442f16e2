#pragma once
// global_avg_pool: C x H x W -> C, the mean of each channel's feature map. The output is
// flat (shape<C>) rather than C x 1 x 1 so that a dense layer can follow it directly, as
// in the heads of residual and MobileNet-style networks; no flatten is needed.
// Backward spreads each channel's gradient evenly over its map: dx = g / (H * W).
#include <cstddef>
#include <string_view>

#include "../core/diagnostic.hpp"
#include "../kernels/simd.hpp"
#include "feature_maps.hpp"
#include "layer.hpp"

namespace typenet {

struct global_avg_pool : layer_base {
    static constexpr std::string_view name = "global_avg_pool";
    static constexpr std::string_view onnx_op = "GlobalAveragePool";

    template <class In, std::size_t Index, std::size_t ParamOffset>
    struct stage : stage_defaults {
        using layer = global_avg_pool;
        using at = diagnostic::at_layer<Index, layer>;
        static_assert(
            diagnostic::check<is_image_v<In>, at, diagnostic::received<In>, diagnostic::expects<diagnostic::rank<3>>>,
            "typenet: global_avg_pool needs an image input (channels x height x width)");

        static constexpr std::size_t C = detail::image_dims<In>::c;
        static constexpr std::size_t plane = detail::image_dims<In>::h * detail::image_dims<In>::w;

        using input_shape = In;
        using output_shape = shape<C>;
        static constexpr std::size_t layer_index = Index;
        static constexpr std::size_t param_offset = ParamOffset;
        static constexpr std::size_t flops = C * plane;  // the adds, and one scaling a channel

        template <class T>
        static void forward(const T*, const T* in, T* out, std::size_t batch, T*) {
            // Each map summed in vector lanes (kernels::sum adds them up in double): one pass
            // over the input, which is all this layer's cost.
            constexpr double inv = 1.0 / static_cast<double>(plane);
            for (std::size_t m = 0; m < batch * C; ++m)
                out[m] = static_cast<T>(kernels::sum(in + m * plane, plane) * inv);
        }

        template <class T>
        static void backward(const T*, const T*, const T*, T* d_out, T* d_in, T*, std::size_t batch, T*) {
            if (d_in == nullptr) return;
            using V = kernels::simd<T>;
            constexpr std::size_t W = V::size;
            constexpr std::size_t vector_end = plane - plane % W;
            const T inv = T(1) / static_cast<T>(plane);
            for (std::size_t m = 0; m < batch * C; ++m) {
                const T share = d_out[m] * inv;
                T* dx = d_in + m * plane;
                const V s(share);
                for (std::size_t i = 0; i < vector_end; i += W) kernels::store_lane(dx + i, s);
                for (std::size_t r = 0; r < plane % W; ++r) dx[vector_end + r] = share;
            }
        }
    };
};

}  // namespace typenet
