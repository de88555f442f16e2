#pragma once
// Batch-1 inference from a parameter array: what model::predict runs, and what a
// header written by export_header calls on its static weights. It allocates
// nothing, throws nothing and needs no file I/O: the activations ping-pong
// between two stack buffers sized from the type (two of the largest layer output
// plus convolution scratch: about 60 KB for LeNet).
#include <array>
#include <cstddef>
#include <type_traits>

#include <boost/hana/for_each.hpp>

#include "../core/bfloat16.hpp"
#include "../core/classes.hpp"
#include "../core/storage.hpp"
#include "sequential.hpp"

namespace typenet {

/// Outputs of the network Arch for one input of Arch::input_size values, with the
/// parameters laid out as model<Arch, T>::parameters() lays them out and the
/// state (batch_norm running statistics) as model<Arch, T>::state() does (may be
/// null when Arch::state_count == 0). Inference mode: dropout is the identity.
/// The parameters may be stored as bfloat16 (P) for float inputs: the kernels
/// widen them as they load them and compute in float.
template <class Arch, class P, class T>
std::array<T, Arch::output_size> infer(const P* params, const T* state, const T* x) noexcept {
    static_assert(std::is_same_v<P, T> || (std::is_same_v<P, bfloat16> && std::is_same_v<T, float>),
                  "typenet: infer needs parameters of the input's type, or bfloat16 parameters with float inputs");
    using plan = typename Arch::fused_plan;
    constexpr std::size_t buffer_size = aligned_count<T>(plan::max_output_size > 0 ? plan::max_output_size : 1);
    alignas(storage_alignment) T buffers[2][buffer_size];
    // Kernel scratch (im2col columns of a convolution); one element when no stage needs any.
    alignas(storage_alignment) T scratch[plan::max_forward_scratch > 0 ? plan::max_forward_scratch : 1];
    const T* current = x;
    int next = 0;
    boost::hana::for_each(plan::types, [&](auto t) {
        using S = typename decltype(t)::type;
        if constexpr (S::contextual) {
            S::forward(params + S::param_offset, current, buffers[next], std::size_t{1}, scratch,
                       stage_context<T>{false, state + plan::state_offsets[S::position], nullptr, nullptr, nullptr});
            current = buffers[next];
            next ^= 1;
        } else if constexpr (!S::aliases_input) {
            if constexpr (S::parameter_count > 0)
                S::forward(params + S::param_offset, current, buffers[next], std::size_t{1}, scratch);
            else  // stages without parameters take (and ignore) a parameter pointer of the value type
                S::forward(static_cast<const T*>(nullptr), current, buffers[next], std::size_t{1}, scratch);
            current = buffers[next];
            next ^= 1;
        }
    });
    std::array<T, Arch::output_size> y;
    for (std::size_t i = 0; i < Arch::output_size; ++i) y[i] = current[i];
    return y;
}

/// infer for networks without state (what an exported, folded network is).
template <class Arch, class P, class T>
std::array<T, Arch::output_size> infer(const P* params, const T* x) noexcept {
    static_assert(Arch::state_count == 0,
                  "typenet: infer(params, x): this network has batch_norm state; call infer(params, state, x), or "
                  "fold it first (fold_for_inference)");
    return infer<Arch>(params, static_cast<const T*>(nullptr), x);
}

/// The class the network Arch predicts for one input.
template <class Arch, class P, class T>
std::size_t infer_class(const P* params, const T* x) noexcept {
    const auto y = infer<Arch>(params, x);
    return predicted_class<Arch::output_size>(y.data());
}

}  // namespace typenet
