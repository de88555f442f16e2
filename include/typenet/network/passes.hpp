#pragma once
// The forward and backward passes: a compile-time fold over the plan's stages,
// forwards and then in reverse. Each step is a direct, inlinable call to a
// stage's static function; there is no graph, no virtual call, no allocation.
#include <cstddef>

#include <boost/hana/for_each.hpp>
#include <boost/hana/reverse.hpp>

#include "workspace.hpp"

namespace typenet {

/// Runs every stage on `batch` samples at `input`; activations stay in ws.
template <class Arch, class T, execution Mode>
void forward_pass(const T* params, workspace<Arch, T, Mode>& ws, const T* input, std::size_t batch,
                  bool want_input_gradient = false) {
    using plan = typename workspace<Arch, T, Mode>::plan;
    ws.bind(input, want_input_gradient);
    boost::hana::for_each(plan::types, [&](auto t) {
        using S = typename decltype(t)::type;
        if constexpr (!S::aliases_input)
            S::forward(params + S::param_offset, ws.activation(S::position), ws.stage_output(S::position), batch,
                       ws.scratch());
    });
}

/// Propagates ws.output_gradient() (set by a loss) back through every stage,
/// overwriting ws.parameter_gradients(); also fills the input gradient if the
/// forward pass asked for it.
template <class Arch, class T, execution Mode>
void backward_pass(const T* params, workspace<Arch, T, Mode>& ws, std::size_t batch) {
    using plan = typename workspace<Arch, T, Mode>::plan;
    T* d_params = ws.parameter_gradients().data();
    boost::hana::for_each(boost::hana::reverse(plan::types), [&](auto t) {
        using S = typename decltype(t)::type;
        constexpr std::size_t p = S::position;
        if constexpr (!S::aliases_input)
            S::backward(params + S::param_offset, ws.activation(p), ws.activation(p + 1), ws.gradient(p + 1),
                        ws.gradient(p), d_params + S::param_offset, batch, ws.scratch());
    });
}

}  // namespace typenet
