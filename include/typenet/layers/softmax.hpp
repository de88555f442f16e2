#pragma once
// softmax as a layer, for networks that must output probabilities (inference).
// For training a classifier, end the network with dense<classes> and use the
// softmax_cross_entropy loss instead: it fuses softmax and the log, which is both
// cheaper and numerically safe at extreme logits.
#include <cmath>
#include <cstddef>
#include <string_view>

#include "layer.hpp"

namespace typenet {

struct softmax : layer_base {
    static constexpr std::string_view name = "softmax";
    static constexpr std::string_view onnx_op = "Softmax";
    template <class In, std::size_t Index, std::size_t ParamOffset>
    struct stage : stage_defaults {
        static_assert(diagnostic::check<is_flat_v<In>, diagnostic::at_layer<Index, softmax>, diagnostic::received<In>,
                                        diagnostic::expects<diagnostic::rank<1>>>,
                      "typenet: softmax normalises a flat vector; put `flatten` before it");
        using layer = softmax;
        using input_shape = In;
        using output_shape = In;
        static constexpr std::size_t layer_index = Index;
        static constexpr std::size_t param_offset = ParamOffset;
        static constexpr std::size_t N = In::size;
        static constexpr std::size_t flops = 4 * N;

        template <class T>
        static void forward(const T*, const T* in, T* out, std::size_t batch, T*) {
            for (std::size_t b = 0; b < batch; ++b) {
                const T* z = in + b * N;
                T* y = out + b * N;
                T top = z[0];
                for (std::size_t j = 1; j < N; ++j) top = z[j] > top ? z[j] : top;
                T sum = 0;
                for (std::size_t j = 0; j < N; ++j) sum += (y[j] = std::exp(z[j] - top));
                for (std::size_t j = 0; j < N; ++j) y[j] /= sum;
            }
        }

        /// dz = y * (g - <g, y>)   (the softmax Jacobian applied to g)
        template <class T>
        static void backward(const T*, const T*, const T* out, T* d_out, T* d_in, T*, std::size_t batch, T*) {
            if (d_in == nullptr) return;
            for (std::size_t b = 0; b < batch; ++b) {
                const T* y = out + b * N;
                const T* g = d_out + b * N;
                T dot = 0;
                for (std::size_t j = 0; j < N; ++j) dot += g[j] * y[j];
                for (std::size_t j = 0; j < N; ++j) d_in[b * N + j] = y[j] * (g[j] - dot);
            }
        }
    };
};

}  // namespace typenet
