#pragma once
// The forward and backward passes: a compile-time fold over the plan's stages,
// forwards and then in reverse. Each step is a direct, inlinable call to a
// stage's static function; there is no graph, no virtual call, no allocation.
//
// pass_mode says whether a pass trains (dropout draws masks, batch_norm uses the
// batch's statistics) or infers (dropout is the identity, batch_norm uses the
// running statistics in the model's state block). Only contextual stages see it.
#include <cstddef>
#include <stdexcept>

#include <boost/hana/for_each.hpp>
#include <boost/hana/reverse.hpp>

#include "../core/random.hpp"
#include "workspace.hpp"

namespace typenet {

template <class T>
struct pass_mode {
    bool training = false;
    const T* state = nullptr;      ///< the model's state block (model::state()); needed when the network has state
    T* running = nullptr;          ///< training: update running statistics here (usually == state); null: don't
    random_engine* rng = nullptr;  ///< training: dropout masks; null: reuse the masks saved by the last pass

    static pass_mode inference(const T* state) { return {false, state, nullptr, nullptr}; }
};

namespace detail {
template <class S, class T, class WS>
stage_context<T> context_for(const pass_mode<T>& mode, WS& ws) {
    constexpr std::size_t offset = WS::plan::state_offsets[S::position];
    return {mode.training, mode.state ? mode.state + offset : nullptr, mode.running ? mode.running + offset : nullptr,
            ws.saved(S::position), mode.rng};
}

/// Runs stage S forward (a contextual stage with its context).
template <class S, class T, class WS>
void forward_stage(const T* params, WS& ws, std::size_t batch, const pass_mode<T>& mode) {
    if constexpr (S::contextual)
        S::forward(params + S::param_offset, ws.activation(S::position), ws.stage_output(S::position), batch,
                   ws.scratch(), context_for<S>(mode, ws));
    else
        S::forward(params + S::param_offset, ws.activation(S::position), ws.stage_output(S::position), batch,
                   ws.scratch());
}

template <class Plan, class T>
void check_mode(const pass_mode<T>& mode) {
    if constexpr (Plan::state_count > 0)
        if (!mode.training && mode.state == nullptr)
            throw std::invalid_argument(
                "forward_pass: this network has batch_norm; inference needs the model's state "
                "(pass_mode::inference(m.state().data()))");
}
}  // namespace detail

/// Runs every stage on `batch` samples at `input`; activations stay in ws.
template <class Arch, class T, execution Mode>
void forward_pass(const T* params, workspace<Arch, T, Mode>& ws, const T* input, std::size_t batch,
                  bool want_input_gradient = false, const pass_mode<T>& mode = {}) {
    using plan = typename workspace<Arch, T, Mode>::plan;
    detail::check_mode<plan>(mode);
    ws.bind(input, want_input_gradient);
    boost::hana::for_each(plan::types, [&](auto t) {
        using S = typename decltype(t)::type;
        if constexpr (!S::aliases_input) detail::forward_stage<S>(params, ws, batch, mode);
    });
}

/// Propagates ws.output_gradient() (set by a loss) back through every stage,
/// overwriting ws.parameter_gradients(); also fills the input gradient if the
/// forward pass asked for it. Contextual stages use what the (training) forward saved.
template <class Arch, class T, execution Mode>
void backward_pass(const T* params, workspace<Arch, T, Mode>& ws, std::size_t batch) {
    using plan = typename workspace<Arch, T, Mode>::plan;
    T* d_params = ws.parameter_gradients().data();
    boost::hana::for_each(boost::hana::reverse(plan::types), [&](auto t) {
        using S = typename decltype(t)::type;
        constexpr std::size_t p = S::position;
        if constexpr (S::contextual)
            S::backward(params + S::param_offset, ws.activation(p), ws.activation(p + 1), ws.gradient(p + 1),
                        ws.gradient(p), d_params + S::param_offset, batch, ws.scratch(),
                        stage_context<T>{true, nullptr, nullptr, ws.saved(p), nullptr});
        else if constexpr (!S::aliases_input)
            S::backward(params + S::param_offset, ws.activation(p), ws.activation(p + 1), ws.gradient(p + 1),
                        ws.gradient(p), d_params + S::param_offset, batch, ws.scratch());
    });
}

}  // namespace typenet
