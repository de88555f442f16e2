#pragma once
// Folding for inference: the architecture without its training-only layers, and
// the parameters that make it compute what the original computes at inference.
//
// Each layer says what it is at inference (protocol.hpp, L::inference): dropout is
// the identity and is dropped; batch_norm is a per-channel affine map of the outputs
// z = W x + b of the layer before it (sequential enforces that this layer absorbs such
// maps), and its stage's fold_into merges it into that layer's weights and bias. The
// folded network has no state and runs one GEMM per layer as before; it is what
// export_header writes. Blocks fold their bodies the same way (inference_form.hpp).
#include <cmath>
#include <cstddef>

#include <boost/hana/for_each.hpp>

#include "inference_form.hpp"
#include "model.hpp"
#include "sequential.hpp"

namespace typenet {

namespace detail {
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
    detail::fold_plan_parameters<typename Arch::reference_plan>(m.parameters().data(), m.state().data(),
                                                                out.parameters().data());
    return out;
}

}  // namespace typenet
