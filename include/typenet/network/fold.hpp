#pragma once
// Folding for inference: the architecture without its training-only layers, and
// the parameters that make it compute what the original computes at inference.
//
// Each layer says what it is at inference (protocol.hpp, L::inference): dropout is
// the identity and is dropped; batch_norm is a per-channel affine map of the outputs
// z = W x + b of the layer before it (sequential enforces that this layer absorbs such
// maps), and its stage's fold_into merges it into that layer's weights and bias. The
// folded network has no state and runs one GEMM per layer as before; it is what
// export_header writes.
#include <cmath>
#include <cstddef>

#include <boost/hana/for_each.hpp>

#include "model.hpp"
#include "sequential.hpp"

namespace typenet {

namespace detail {
template <class L>
inline constexpr bool is_training_only_v = inference_role<L>() != layer_at_inference::kept;

template <class Done, class... Rest>
struct fold_layers;
template <class Input, class... Kept>
struct fold_layers<sequential<Input, Kept...>> {
    using type = sequential<Input, Kept...>;
};
template <class Input, class... Kept, class L, class... Rest>
struct fold_layers<sequential<Input, Kept...>, L, Rest...> {
    using type = typename std::conditional_t<is_training_only_v<L>, fold_layers<sequential<Input, Kept...>, Rest...>,
                                             fold_layers<sequential<Input, Kept..., L>, Rest...>>::type;
};

template <class Arch>
struct folded;
template <class Input, class... Layers>
struct folded<sequential<Input, Layers...>> {
    using type = typename fold_layers<sequential<Input>, Layers...>::type;
};
}  // namespace detail

/// The inference architecture of Arch: Arch without the layers that vanish or fold at inference.
template <class Arch>
using folded_t = typename detail::folded<Arch>::type;

/// The model of folded_t<Arch> whose outputs equal m's inference outputs (up to rounding).
template <class Arch, class T>
model<folded_t<Arch>, T> fold_for_inference(const model<Arch, T>& m) {
    using Folded = folded_t<Arch>;
    model<Folded, T> out;
    T* dst = out.parameters().data();
    const T* src = m.parameters().data();
    const T* state = m.state().data();
    std::size_t written = 0, last_block = 0, last_count = 0;
    boost::hana::for_each(Arch::reference_plan::types, [&](auto t) {
        using S = typename decltype(t)::type;
        constexpr layer_at_inference role = inference_role<typename S::layer>();
        if constexpr (role == layer_at_inference::folds_into_previous) {
            // The previous block with parameters is the layer this folds into.
            S::fold_into(dst + last_block, last_count, src + S::param_offset,
                         state + Arch::reference_plan::state_offsets[S::position]);
        } else if constexpr (role == layer_at_inference::kept && S::parameter_count > 0) {
            std::copy(src + S::param_offset, src + S::param_offset + S::parameter_count, dst + written);
            last_block = written;
            last_count = S::parameter_count;
            written += S::parameter_count;
        }
    });
    return out;
}

}  // namespace typenet
