#pragma once
// The one fusion rule: a layer that accepts an epilogue (dense, conv2d, a user's
// product: protocol.hpp, with_epilogue) followed by any element-wise layer runs as one
// stage, the activation applied to the product while it is still in registers.
//
// Activations whose derivative reads the output (relu, sigmoid, tanh, leaky_relu) fuse
// in training as in inference: backward folds the derivative into the bias-gradient
// pass. Those whose derivative reads the input (gelu, silu) fuse the same way for
// inference; in training the stage keeps the product's pre-activations z in the
// workspace (a contextual stage's saved buffer), applies the activation in one pass over
// them, and backward multiplies by the derivative at z before the product's own backward.
#include <cstddef>

#include "../kernels/simd.hpp"
#include "../layers/activations.hpp"
#include "../layers/elementwise.hpp"
#include "../layers/layer.hpp"
#include "../layers/protocol.hpp"

namespace typenet::detail {

/// Producer then Act (derivative from the input): in-register at inference, the
/// pre-activations kept for backward in training. Fused is the producer's stage with
/// Act in its epilogue, Plain the same with identity.
template <class Fused, class Plain, class Act>
struct keeping_preactivations : Plain {
    static_assert(!Plain::contextual, "typenet: fusion: the producer of a fused stage cannot be contextual itself");
    using activation = Act;
    static constexpr std::size_t flops = Fused::flops;
    static constexpr bool contextual = true;
    static constexpr std::size_t saved_size(std::size_t batch) { return batch * Plain::output_shape::size; }

    template <class Stored, class T>
    static void forward(const Stored* params, const T* in, T* out, std::size_t batch, T* scratch,
                        const stage_context<T>& ctx) {
        if (!ctx.training) {
            Fused::forward(params, in, out, batch, scratch);
            return;
        }
        Plain::forward(params, in, ctx.saved, batch, scratch);
        kernels::transform(static_cast<const T*>(ctx.saved), out, saved_size(batch),
                           [](auto z) { return Act::forward_lane(z); });
    }

    template <class T>
    static void backward(const T* params, const T* in, const T*, T* d_out, T* d_in, T* d_params, std::size_t batch,
                         T* scratch, const stage_context<T>& ctx) {
        kernels::transform(static_cast<const T*>(ctx.saved), static_cast<const T*>(d_out), d_out, saved_size(batch),
                           [](auto z, auto g) { return Act::backward_lane(z, g); });
        Plain::backward(params, in, ctx.saved, d_out, d_in, d_params, batch, scratch);
    }
};

template <class L, class Act, class In, std::size_t Index, std::size_t Offset>
struct fused_stage {
    using type = typename L::template with_epilogue<In, Index, Offset, Act>;
};
template <class L, class Act, class In, std::size_t Index, std::size_t Offset>
requires(Act::derivative == derivative_from::input) struct fused_stage<L, Act, In, Index, Offset> {
    using type = keeping_preactivations<typename L::template with_epilogue<In, Index, Offset, Act>,
                                        typename L::template with_epilogue<In, Index, Offset, identity>, Act>;
};

/// Whether layer L followed by layer Next runs as one fused stage.
template <class L, class Next>
inline constexpr bool fuses_v = accepts_epilogue<L>&& elementwise_layer<Next>;

}  // namespace typenet::detail
