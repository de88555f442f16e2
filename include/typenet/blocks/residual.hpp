#pragma once
// residual<Body...>: y = x + body(x), the identity shortcut of a ResNet block.
// residual<projection<P...>, Body...>: y = shortcut(x) + body(x), for a body that changes
// the shape (a strided 1x1 conv2d and batch_norm on the shortcut, say).
//
//   sequential<input<1, 28, 28>, conv2d<16, 3, 1, 1>, batch_norm, relu,
//              residual<conv2d<16, 3, 1, 1>, batch_norm, relu, conv2d<16, 3, 1, 1>, batch_norm>, relu,
//              residual<projection<conv2d<32, 1, 2>, batch_norm>,
//                       conv2d<32, 3, 2, 1>, batch_norm, relu, conv2d<32, 3, 1, 1>, batch_norm>, relu, ...>
//
// A block is a layer (layers/protocol.hpp): a contextual stage whose saved buffer holds
// its body's activations and gradients (blocks/chain.hpp). Backward gives the output
// gradient to the body and to the shortcut and adds the two input gradients: the
// identity shortcut's gradient is added to the body's input gradient in one pass.
// Parameters: the body's, then the projection's (the order of PyTorch's BasicBlock).
#include <algorithm>
#include <cstddef>
#include <string_view>
#include <type_traits>

#include "../core/diagnostic.hpp"
#include "../kernels/simd.hpp"
#include "../network/inference_form.hpp"
#include "chain.hpp"

namespace typenet {

/// The shortcut of a residual block whose body changes the shape: residual<projection<P...>, Body...>.
template <class... Layers>
struct projection {
    static constexpr std::string_view name = "projection";
    using at_inference = typename detail::fold_layers<projection<>, Layers...>::type;
};

template <class... Body>
struct residual;

namespace diagnostic {
template <class Shape>
struct body_output {};
template <class Shape>
struct projection_output {};
}  // namespace diagnostic

namespace detail {

template <class... Layers>
struct type_list {};

/// A residual's parts: its shortcut's layers (none: the identity) and its body's.
template <class... Body>
struct residual_parts {
    using shortcut = type_list<>;
    using body = type_list<Body...>;
};
template <class... P, class... Body>
struct residual_parts<projection<P...>, Body...> {
    using shortcut = type_list<P...>;
    using body = type_list<Body...>;
};

/// The chain of a type list; the identity's (no layers) is a chain of nothing.
template <bool Fuse, class In, class List>
struct chain_of;
template <bool Fuse, class In, class... L>
struct chain_of<Fuse, In, type_list<L...>> {
    using type = chain<Fuse, In, L...>;
};
/// The identity shortcut: no parameters, no buffers; its output is the block's input.
template <bool Fuse, class In>
struct chain_of<Fuse, In, type_list<>> {
    struct type {
        using output_shape = In;
        static constexpr std::size_t parameter_count = 0, state_count = 0, flops = 0, scratch_size = 0;
        template <class T>
        static constexpr std::size_t training_size(std::size_t) {
            return 0;
        }
        template <class T>
        static constexpr std::size_t inference_size = 0;
    };
};

template <bool Fuse, class Layer, class In, std::size_t Index, std::size_t ParamOffset>
struct residual_stage;
template <bool Fuse, class... Body, class In, std::size_t Index, std::size_t ParamOffset>
struct residual_stage<Fuse, residual<Body...>, In, Index, ParamOffset> : stage_defaults {
    using layer = residual<Body...>;
    using parts = residual_parts<Body...>;
    static constexpr bool identity_shortcut = std::is_same_v<typename parts::shortcut, type_list<>>;
    using body = typename chain_of<Fuse, In, typename parts::body>::type;
    using shortcut = typename chain_of<Fuse, In, typename parts::shortcut>::type;

    using at = diagnostic::at_layer<Index, layer>;
    // Checked once, in the reference plan's stage (the fused plan's has the same shapes).
    static_assert(Fuse || !identity_shortcut ||
                      diagnostic::check<std::is_same_v<typename body::output_shape, In>, at, diagnostic::received<In>,
                                        diagnostic::body_output<typename body::output_shape>>,
                  "typenet: residual<Body...>: the body's output shape is not the block's input shape, so the "
                  "two cannot be added; give the block a shortcut that reaches the body's shape: "
                  "residual<projection<conv2d<...>, batch_norm>, Body...>");
    static_assert(Fuse || identity_shortcut ||
                      diagnostic::check<std::is_same_v<typename body::output_shape, typename shortcut::output_shape>,
                                        at, diagnostic::projection_output<typename shortcut::output_shape>,
                                        diagnostic::body_output<typename body::output_shape>>,
                  "typenet: residual<projection<...>, Body...>: the projection's output shape is not the body's, "
                  "so the two cannot be added");

    using input_shape = In;
    using output_shape = typename body::output_shape;
    static constexpr std::size_t layer_index = Index;
    static constexpr std::size_t param_offset = ParamOffset;
    static constexpr std::size_t parameter_count = body::parameter_count + shortcut::parameter_count;
    static constexpr std::size_t state_count = body::state_count + shortcut::state_count;
    static constexpr std::size_t flops = body::flops + shortcut::flops + output_shape::size;
    static constexpr bool contextual = true;
    static constexpr std::size_t scratch_size = std::max(body::scratch_size, shortcut::scratch_size);
    // Sizes in floats, the most values of any element type (aligned_count, core/storage.hpp).
    static constexpr std::size_t inner_scratch = aligned_count<float>(scratch_size);
    static constexpr std::size_t forward_scratch_size =
        inner_scratch + body::template inference_size<float> + shortcut::template inference_size<float>;
    /// The body's region, the projection's, and the projection's input gradient.
    static constexpr std::size_t saved_size(std::size_t batch) {
        return body::template training_size<float>(batch) + shortcut::template training_size<float>(batch) +
               (identity_shortcut ? 0 : aligned_count<float>(batch * In::size));
    }

    template <class T>
    static void initialize(T* params, random_engine& rng, init_rule after) {
        if constexpr (body::parameter_count > 0) body::initialize(params, rng, after);
        if constexpr (shortcut::parameter_count > 0) shortcut::initialize(params + body::parameter_count, rng, after);
    }
    template <class T>
    static void initialize_state(T* state) {
        if constexpr (body::state_count > 0) body::initialize_state(state);
        if constexpr (shortcut::state_count > 0) shortcut::initialize_state(state + body::state_count);
    }
    template <class F>
    static void describe_tensors(F&& f) {
        body::template describe<false>("body.", 0, f);
        if constexpr (!identity_shortcut) shortcut::template describe<false>("projection.", body::parameter_count, f);
    }
    template <class F>
    static void describe_state(F&& f) {
        body::template describe<true>("body.", 0, f);
        if constexpr (!identity_shortcut) shortcut::template describe<true>("projection.", body::state_count, f);
    }
    template <class T>
    static std::size_t fold_parameters(const T* src, const T* state, T* dst) {
        std::size_t n = fold_plan_parameters<typename body::plan>(src, state, dst);
        if constexpr (!identity_shortcut)
            n += fold_plan_parameters<typename shortcut::plan>(src + body::parameter_count, state + body::state_count,
                                                               dst + n);
        return n;
    }
    static void interleave_bfloat16(const float* from, bfloat16* to) {
        body::interleave_bfloat16(from, to);
        if constexpr (!identity_shortcut)
            shortcut::interleave_bfloat16(from + body::parameter_count, to + body::parameter_count);
    }

    template <class Stored, class T>
    static void forward(const Stored* params, const T* in, T* out, std::size_t batch, T* scratch,
                        const stage_context<T>& ctx) {
        // Through a workspace the saved buffer holds everything backward will read; batch-1
        // inference (no saved buffer) keeps the activations in the forward scratch.
        const bool keep = ctx.saved != nullptr;
        T* region = keep ? ctx.saved : scratch + inner_scratch;
        const typename body::template layout<T> b(in, nullptr, region, batch, keep);
        body::forward(params, b, batch, scratch, ctx);
        const std::size_t n = batch * output_shape::size;
        if constexpr (identity_shortcut) {
            kernels::transform(static_cast<const T*>(b.output()), in, out, n, [](auto u, auto v) { return u + v; });
        } else {
            T* rest = region + (keep ? body::template training_size<T>(batch) : body::template inference_size<T>);
            const typename shortcut::template layout<T> s(in, nullptr, rest, batch, keep);
            shortcut::forward(params + body::parameter_count, s, batch, scratch, shifted(ctx, body::state_count));
            kernels::transform(static_cast<const T*>(b.output()), static_cast<const T*>(s.output()), out, n,
                               [](auto u, auto v) { return u + v; });
        }
    }

    template <class T>
    static void backward(const T* params, const T* in, const T*, T* d_out, T* d_in, T* d_params, std::size_t batch,
                         T* scratch, const stage_context<T>& ctx) {
        const std::size_t n = batch * output_shape::size;
        T* region = ctx.saved;
        typename body::template layout<T> b(in, d_in, region, batch, true);
        // The body's backward may overwrite its output gradient; the shortcut still needs it.
        copy_values(static_cast<const T*>(d_out), b.output_gradient(), n);
        body::backward(params, b, d_params, batch, scratch);
        if constexpr (identity_shortcut) {
            if (d_in != nullptr)
                kernels::transform(static_cast<const T*>(d_in), static_cast<const T*>(d_out), d_in, n,
                                   [](auto u, auto v) { return u + v; });
        } else {
            T* rest = region + body::template training_size<T>(batch);
            T* d_shortcut = d_in == nullptr ? nullptr : rest + shortcut::template training_size<T>(batch);
            typename shortcut::template layout<T> s(in, d_shortcut, rest, batch, true);
            // The block's own output gradient: the projection is its last reader.
            if constexpr (last_stage<typename shortcut::plan>::type::aliases_input)
                copy_values(static_cast<const T*>(d_out), s.output_gradient(), n);
            else
                s.gradient[shortcut::stages] = d_out;
            shortcut::backward(params + body::parameter_count, s, d_params + body::parameter_count, batch, scratch);
            if (d_in != nullptr)
                kernels::transform(static_cast<const T*>(d_in), static_cast<const T*>(d_shortcut), d_in,
                                   batch * In::size, [](auto u, auto v) { return u + v; });
        }
    }

private:
    template <class T>
    static stage_context<T> shifted(const stage_context<T>& ctx, std::size_t state_offset) {
        return {ctx.training, ctx.state ? ctx.state + state_offset : nullptr,
                ctx.running ? ctx.running + state_offset : nullptr, nullptr, ctx.rng};
    }
};

}  // namespace detail

template <class... Body>
struct residual : layer_base {
    static constexpr std::string_view name = "residual";
    /// The same block with batch_norm folded and dropout dropped in its body and projection.
    using at_inference = typename detail::fold_layers<residual<>, Body...>::type;
    template <class In, std::size_t Index, std::size_t ParamOffset>
    struct stage : detail::residual_stage<false, residual, In, Index, ParamOffset> {};
    template <class In, std::size_t Index, std::size_t ParamOffset>
    struct fusing_stage : detail::residual_stage<true, residual, In, Index, ParamOffset> {};
};

}  // namespace typenet
