#pragma once
// Two layers defined outside typenet, with its public protocol only
// (docs/writing-a-layer.md walks through both):
//   softsign        an activation, y = z / (1 + |z|), one formula for scalars and SIMD
//                   batches plus its derivative; fused into the product before it like
//                   a built-in activation
//   channel_scale   a layer with parameters: y = a[c] x + b[c] for every value of channel c
// They live in namespace user, not typenet; export_header includes this header from the
// headers it writes (`header`), so an exported model with these layers compiles.
#include <array>
#include <cstddef>
#include <string_view>

#include <typenet/embedded.hpp>

namespace user {

struct softsign : typenet::elementwise<softsign> {
    static constexpr std::string_view name = "softsign";
    static constexpr std::string_view header = "custom/custom_layers.hpp";
    static constexpr std::size_t flops_per_value = 3;
    /// The derivative 1 / (1 + |z|)^2 equals (1 - |y|)^2: backward needs only the output,
    /// so the fused stage keeps nothing more than relu's does.
    static constexpr typenet::derivative_from derivative = typenet::derivative_from::output;
    template <class V>
    static V forward_lane(V z) {
        return z / (V(1) + typenet::lane::abs(z));
    }
    template <class V>
    static V backward_lane(V y, V g) {
        const V s = V(1) - typenet::lane::abs(y);
        return g * s * s;
    }
};

/// A copy of relu written in user code: bench/custom_activation times it against the
/// built-in relu, which it must match (both fuse into the same epilogue).
struct user_relu : typenet::elementwise<user_relu> {
    static constexpr std::string_view name = "user_relu";
    static constexpr std::string_view header = "custom/custom_layers.hpp";
    static constexpr std::size_t flops_per_value = 1;
    static constexpr typenet::derivative_from derivative = typenet::derivative_from::output;
    static constexpr typenet::init_rule initialization = typenet::init_rule::he;
    template <class V>
    static V forward_lane(V z) {
        return typenet::lane::max(z, V(0));
    }
    template <class V>
    static V backward_lane(V y, V g) {
        return typenet::lane::select(y > V(0), g, V(0));
    }
};

/// y = a[c] x + b[c], c the channel (the first dimension of an image, each value of a vector).
struct channel_scale : typenet::layer_base {
    static constexpr std::string_view name = "channel_scale";
    static constexpr std::string_view header = "custom/custom_layers.hpp";

    template <class In, std::size_t Index, std::size_t ParamOffset>
    struct stage : typenet::stage_defaults {
        using layer = channel_scale;
        using input_shape = In;
        using output_shape = In;
        static constexpr std::size_t layer_index = Index;
        static constexpr std::size_t param_offset = ParamOffset;
        static constexpr std::size_t channels = In::rank == 3 ? In::dims[0] : In::size;
        static constexpr std::size_t per_channel = In::size / channels;
        static constexpr std::size_t parameter_count = 2 * channels;  // a[C], then b[C]
        static constexpr std::size_t flops = 2 * In::size;

        /// a = 1, b = 0: the identity, whatever rule the nonlinearity after it asks for.
        template <class T>
        static void initialize(T* params, typenet::random_engine&, typenet::init_rule) {
            for (std::size_t c = 0; c < channels; ++c) {
                params[c] = T(1);
                params[channels + c] = T(0);
            }
        }
        template <class F>
        static void describe_tensors(F&& f) {
            f("scale", std::size_t{0}, std::array<std::size_t, 1>{channels});
            f("shift", channels, std::array<std::size_t, 1>{channels});
        }

        template <class Stored, class T>
        static void forward(const Stored* params, const T* in, T* out, std::size_t batch, T*) {
            for (std::size_t s = 0; s < batch; ++s)
                for (std::size_t c = 0; c < channels; ++c) {
                    const T a = typenet::widen(params[c]), b = typenet::widen(params[channels + c]);
                    const std::size_t first = s * In::size + c * per_channel;
                    for (std::size_t i = first; i < first + per_channel; ++i) out[i] = a * in[i] + b;
                }
        }

        /// d_a[c] = sum of g x over channel c, d_b[c] = sum of g, d_in = a g.
        template <class T>
        static void backward(const T* params, const T* in, const T*, T* d_out, T* d_in, T* d_params, std::size_t batch,
                             T*) {
            for (std::size_t c = 0; c < 2 * channels; ++c) d_params[c] = T(0);
            for (std::size_t s = 0; s < batch; ++s)
                for (std::size_t c = 0; c < channels; ++c) {
                    const std::size_t first = s * In::size + c * per_channel;
                    for (std::size_t i = first; i < first + per_channel; ++i) {
                        d_params[c] += d_out[i] * in[i];
                        d_params[channels + c] += d_out[i];
                        if (d_in != nullptr) d_in[i] = params[c] * d_out[i];
                    }
                }
        }
    };
};

}  // namespace user
