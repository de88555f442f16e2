#pragma once
// The layer protocol, as C++20 concepts, and the checks that name what a type used
// as a layer lacks. docs/writing-a-layer.md walks through it with an example.
//
// A layer L (derived from layer_base) provides
//   L::name                                  its stable name ("dense"): weight files,
//                                            fingerprints and reports spell the layer as
//                                            name<template arguments>
//   template <class In, size_t Index, size_t ParamOffset> struct L::stage
//                                            the layer bound to input shape In at layer
//                                            Index, its parameters at ParamOffset
// and it may state facts the rest of the library reads (all optional):
//   L::keeps_initialization_rule   true: the layer before it is initialised for the
//                                  nonlinearity after it (batch_norm, dropout)
//   L::absorbs_channel_affine      true: a per-channel y = s z + t after it folds into its
//                                  weights [Q][C] and bias [C] (dense, conv2d)
//   L::inference                   how folding for inference treats it (layer_at_inference)
//   template <class In, size_t Index, size_t ParamOffset, class Act> L::with_epilogue
//                                  the stage with element-wise Act applied in its product's
//                                  epilogue: any element-wise layer after L fuses into it
//   L::onnx_op                     the ONNX op it imports from (io/onnx.hpp)
//   template <class In, size_t Index, size_t ParamOffset> L::fusing_stage
//                                  the stage a fused plan runs instead of `stage` (a block:
//                                  its body fused; blocks/)
//   L::at_inference                the layer it becomes at inference, when that is another
//                                  type (a block with batch_norm in its body); its stage then
//                                  gives fold_parameters(src, state, dst) -> values written
//                                  (network/inference_form.hpp)
//
// A stage S (concept layer_stage; stage_defaults supplies the zeros) provides
//   layer, input_shape, output_shape, layer_index, param_offset, parameter_count, flops,
//   scratch_size (values of scratch backward needs), forward_scratch_size, aliases_input,
//   state_count, contextual, saved_size(batch), and
//     forward (params, in, out, batch, scratch)
//     backward(params, in, out, d_out, d_in, d_params, batch, scratch)
//   over batched row-major buffers (a contextual stage takes a stage_context<T> more:
//   see layer.hpp). backward may overwrite d_out, writes d_in unless it is null, and
//   overwrites (never accumulates into) its slice of d_params. With parameters it also
//   provides initialize(params, rng, init_rule) and describe_tensors(visitor); with
//   state, initialize_state(state).
#include <concepts>
#include <cstddef>
#include <string_view>

#include "../core/diagnostic.hpp"
#include "../core/random.hpp"
#include "../core/shape.hpp"
#include "layer.hpp"

namespace typenet {

/// How folding for inference (network/fold.hpp) treats a layer.
enum class layer_at_inference {
    kept,                 ///< runs as in training
    identity,             ///< dropped: the identity at inference (dropout)
    folds_into_previous,  ///< merged into the layer before it, which absorbs_channel_affine (batch_norm)
};

namespace protocol {

/// What describe_tensors is called with in the protocol check: (name, offset, dims).
struct tensor_visitor_probe {
    template <class Dims>
    void operator()(const char*, std::size_t, const Dims&) const {}
};

template <class S>
concept has_stage_constants = requires {
    typename S::layer;
    typename S::input_shape;
    typename S::output_shape;
    { S::layer_index } -> std::convertible_to<std::size_t>;
    { S::param_offset } -> std::convertible_to<std::size_t>;
    { S::parameter_count } -> std::convertible_to<std::size_t>;
    { S::flops } -> std::convertible_to<std::size_t>;
    { S::scratch_size } -> std::convertible_to<std::size_t>;
    { S::forward_scratch_size } -> std::convertible_to<std::size_t>;
    { S::state_count } -> std::convertible_to<std::size_t>;
    { S::aliases_input } -> std::convertible_to<bool>;
    { S::contextual } -> std::convertible_to<bool>;
    { S::saved_size(std::size_t{1}) } -> std::convertible_to<std::size_t>;
};

template <class S, class T>
concept has_plain_passes = requires(const T* c, T* p, std::size_t n) {
    S::forward(c, c, p, n, p);
    S::backward(c, c, c, p, p, p, n, p);
};
template <class S, class T>
concept has_contextual_passes = requires(const T* c, T* p, std::size_t n, const stage_context<T>& ctx) {
    S::forward(c, c, p, n, p, ctx);
    S::backward(c, c, c, p, p, p, n, p, ctx);
};
template <class S, class T>
concept has_passes = (S::contextual && has_contextual_passes<S, T>) || (!S::contextual && has_plain_passes<S, T>);

template <class S, class T>
concept has_parameter_rules = S::parameter_count == 0 || requires(T* p, random_engine& rng) {
    S::initialize(p, rng, init_rule::glorot);
    S::describe_tensors(tensor_visitor_probe{});
};
template <class S, class T>
concept has_state_rule = S::state_count == 0 || requires(T* p) {
    S::initialize_state(p);
};

}  // namespace protocol

/// A type that can be written in sequential<...>: see the file comment.
template <class L>
concept layer = std::derived_from<L, layer_base> && requires {
    { L::name } -> std::convertible_to<std::string_view>;
    typename L::template stage<shape<1>, 0, 0>;
};

/// A layer bound to its input: what the planner, passes and readers rely on.
template <class S>
concept layer_stage = protocol::has_stage_constants<S> && protocol::has_passes<S, float> &&
    protocol::has_passes<S, double> && protocol::has_parameter_rules<S, float> &&
    protocol::has_parameter_rules<S, double> && protocol::has_state_rule<S, float>;

/// A layer that accepts an element-wise layer into its product's epilogue.
template <class L>
concept accepts_epilogue = layer<L> && requires {
    typename L::template with_epilogue<shape<1>, 0, 0, void>;
};

template <class L>
inline constexpr bool keeps_initialization_rule_v = requires {
    requires L::keeps_initialization_rule;
};
template <class L>
inline constexpr bool absorbs_channel_affine_v = requires {
    requires L::absorbs_channel_affine;
};
template <class L>
constexpr layer_at_inference inference_role() {
    if constexpr (requires { L::inference; })
        return L::inference;
    else
        return layer_at_inference::kept;
}

namespace diagnostic {
struct forward_and_backward {};
struct initialize_and_describe_tensors {};
struct initialize_state {};
struct stage_constants {};
}  // namespace diagnostic

namespace detail {

/// What stands in for a stage that cannot be bound: it passes the shape on, so that
/// the one message about the layer is not buried under follow-on errors.
template <class L, class In, std::size_t Index, std::size_t ParamOffset>
struct stand_in_stage : stage_defaults {
    using layer = L;
    using input_shape = In;
    using output_shape = In;
    static constexpr std::size_t layer_index = Index;
    static constexpr std::size_t param_offset = ParamOffset;
    static constexpr std::size_t flops = 0;
    template <class T>
    static void forward(const T*, const T*, T*, std::size_t, T*) {}
    template <class T>
    static void backward(const T*, const T*, const T*, T*, T*, T*, std::size_t, T*) {}
};

/// A stage that breaks the protocol: says which part.
template <class S, class L, class In, std::size_t Index, std::size_t ParamOffset>
struct protocol_violation : stand_in_stage<L, In, Index, ParamOffset> {
    using at = diagnostic::at_layer<Index, L>;
    static_assert(
        diagnostic::check<protocol::has_stage_constants<S>, at, diagnostic::missing<diagnostic::stage_constants>>,
        "typenet: layer protocol: this layer's stage lacks one of layer, input_shape, output_shape, "
        "layer_index, param_offset, parameter_count, flops (derive it from stage_defaults for the "
        "zeros; layers/protocol.hpp lists them)");
    static_assert(!protocol::has_stage_constants<S> ||
                      diagnostic::check < protocol::has_passes<S, float> && protocol::has_passes<S, double>,
                  at, diagnostic::missing < diagnostic::forward_and_backward >>,
                  "typenet: layer protocol: this layer's stage has no forward(params, in, out, batch, scratch) "
                  "and backward(params, in, out, d_out, d_in, d_params, batch, scratch) for float and double "
                  "(contextual stages: one stage_context<T> more)");
    static_assert(!protocol::has_stage_constants<S> ||
                      diagnostic::check<protocol::has_parameter_rules<S, float>, at,
                                        diagnostic::missing<diagnostic::initialize_and_describe_tensors>>,
                  "typenet: layer protocol: a stage with parameters needs initialize(params, rng, init_rule) "
                  "and describe_tensors(visitor)");
    static_assert(!protocol::has_stage_constants<S> ||
                      diagnostic::check<protocol::has_state_rule<S, float>, at,
                                        diagnostic::missing<diagnostic::initialize_state>>,
                  "typenet: layer protocol: a stage with state (state_count > 0) needs initialize_state(state)");
};

/// A type in sequential<...> that is no layer at all: the same, for the whole type.
template <class L, class In, std::size_t Index, std::size_t ParamOffset>
struct not_a_layer_stage : stand_in_stage<L, In, Index, ParamOffset> {
    static_assert(diagnostic::check<std::derived_from<L, layer_base>, diagnostic::at_layer<Index, L>>,
                  "typenet: this type in sequential<...> is not a layer (layers derive from typenet::layer_base: "
                  "dense<N>, relu, conv2d<...>, ...; a nested sequential is not allowed: list its layers instead)");
    static_assert(
        !std::derived_from<L, layer_base> ||
            diagnostic::check<requires { L::name; }, diagnostic::at_layer<Index, L>, diagnostic::missing<struct name>>,
        "typenet: layer protocol: this layer has no `static constexpr std::string_view name` (its stable "
        "name in weight files and reports)");
    static_assert(
        !std::derived_from<L, layer_base> || !requires { L::name; } ||
            diagnostic::check<false, diagnostic::at_layer<Index, L>, diagnostic::missing<struct stage>>,
        "typenet: layer protocol: this layer has no member template "
        "`template <class In, std::size_t Index, std::size_t ParamOffset> struct stage`");
};

/// The stage a plan runs for L: a fused plan runs L's fusing_stage where it has one
/// (a block, whose body is then fused too).
template <class L, class In, std::size_t Index, std::size_t ParamOffset, bool Fuse>
struct stage_of {
    using type = typename L::template stage<In, Index, ParamOffset>;
};
template <class L, class In, std::size_t Index, std::size_t ParamOffset>
requires requires { typename L::template fusing_stage<In, Index, ParamOffset>; }
struct stage_of<L, In, Index, ParamOffset, true> {
    using type = typename L::template fusing_stage<In, Index, ParamOffset>;
};

/// L bound at a position of the network, or the stand-in that reports why it cannot be.
template <class L, class In, std::size_t Index, std::size_t ParamOffset, bool Fuse = false>
struct bind_layer {
    using type = not_a_layer_stage<L, In, Index, ParamOffset>;
};
template <layer L, class In, std::size_t Index, std::size_t ParamOffset, bool Fuse>
struct bind_layer<L, In, Index, ParamOffset, Fuse> {
    using bound = typename stage_of<L, In, Index, ParamOffset, Fuse>::type;
    using type = std::conditional_t<layer_stage<bound>, bound, protocol_violation<bound, L, In, Index, ParamOffset>>;
};

}  // namespace detail

}  // namespace typenet
