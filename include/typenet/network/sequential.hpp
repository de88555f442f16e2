#pragma once
// sequential<input<...>, L...>: the architecture as a type. It holds no data; it is
// where every shape, size and cost of the network is computed, at compile time.
#include <array>
#include <cstddef>
#include <string_view>
#include <type_traits>

#include "../core/diagnostic.hpp"
#include "../layers/elementwise.hpp"
#include "../layers/input.hpp"
#include "../layers/protocol.hpp"
#include "plan.hpp"

namespace typenet {

namespace diagnostic {
template <class Layer>
struct preceded_by {};
template <class Layer>
struct same_name_as {};
}  // namespace diagnostic

namespace detail {

/// A layer that folds into the layer before it at inference (batch_norm) must follow one
/// that absorbs a per-channel affine map (dense, conv2d). Prev = void: it is first.
template <std::size_t Index, class Prev, class... Layers>
struct folding_placement : std::true_type {};
template <std::size_t Index, class Prev, class L, class... Rest>
struct folding_placement<Index, Prev, L, Rest...> : folding_placement<Index + 1, L, Rest...> {
    static_assert(inference_role<L>() != layer_at_inference::folds_into_previous ||
                      diagnostic::check<absorbs_channel_affine_v<Prev>, diagnostic::at_layer<Index, L>,
                                        diagnostic::preceded_by<Prev>>,
                  "typenet: batch_norm must directly follow a dense<N> or conv2d<...> layer (it normalises that "
                  "layer's outputs and is folded into its weights for inference); place it before the activation");
};

/// Whether A and B are instances of one template over sizes (dense<8> and dense<16>)
/// or over types (two residual<...> blocks).
template <class A, class B>
inline constexpr bool same_template_v = false;
template <template <std::size_t...> class L, std::size_t... M, std::size_t... N>
inline constexpr bool same_template_v<L<M...>, L<N...>> = true;
template <template <class...> class L, class... M, class... N>
inline constexpr bool same_template_v<L<M...>, L<N...>> = true;

template <class A, class B>
constexpr bool names_collide() {
    if constexpr (std::is_same_v<A, B> || same_template_v<A, B> || !layer<A> || !layer<B>)
        return false;
    else
        return std::string_view(A::name) == std::string_view(B::name);
}

/// Two different layers of one network may not share a stable name: weight files and
/// fingerprints would not tell them apart. One check per pair, so that the note names both.
template <std::size_t Index, class L, class Other>
struct distinct_name_pair : std::true_type {
    static_assert(
        diagnostic::check<!names_collide<L, Other>(), diagnostic::at_layer<Index, L>, diagnostic::same_name_as<Other>>,
        "typenet: two different layers of this network have the same stable name (`name`); weight files "
        "could not tell them apart: give one of them a name of its own");
};
template <std::size_t Index, class... Layers>
struct distinct_names : std::true_type {};
template <std::size_t Index, class L, class... Rest>
struct distinct_names<Index, L, Rest...> : distinct_names<Index + 1, Rest...> {
    static_assert((distinct_name_pair<Index, L, Rest>::value && ...));
};

/// For each layer, the rule its weights are drawn by: the initialization of the first
/// element-wise layer after it, looking through layers that keep the rule
/// (batch_norm, dropout); Glorot where a layer with weights comes first. At the end of
/// the list, `after`: the rule of what follows (a block's body: the nonlinearity after the block).
template <class... Layers>
constexpr std::array<init_rule, sizeof...(Layers)> initialization_rules(init_rule after = init_rule::glorot) {
    constexpr std::size_t n = sizeof...(Layers);
    constexpr std::array<bool, n + 1> elementwise{elementwise_layer<Layers>..., false};
    constexpr std::array<bool, n + 1> transparent{keeps_initialization_rule_v<Layers>..., false};
    constexpr std::array<init_rule, n + 1> own{[] {
                                                   if constexpr (elementwise_layer<Layers>)
                                                       return initialization_for<Layers>();
                                                   else
                                                       return init_rule::glorot;
                                               }()...,
                                               init_rule::glorot};
    std::array<init_rule, n> rules{};
    for (std::size_t i = 0; i < n; ++i) {
        std::size_t j = i + 1;
        while (j < n && transparent[j]) ++j;
        rules[i] = j == n ? after : elementwise[j] ? own[j] : init_rule::glorot;
    }
    return rules;
}

}  // namespace detail

template <class Input, class... Layers>
struct sequential {
    static_assert(is_input_v<Input>,
                  "typenet: the first type of sequential<...> must be its input shape, input<N> or input<C, H, W>");
    static_assert(sizeof...(Layers) >= 1, "typenet: sequential<input<...>> needs at least one layer");

    static_assert(detail::folding_placement<0, void, Layers...>::value);
    static_assert(detail::distinct_names<0, Layers...>::value);
    using input_shape = typename Input::shape_type;

    /// The stages that run the network, fused or one per layer.
    template <execution Mode>
    using plan = typename detail::make_plan<Mode == execution::fused, 0, input_shape, 0, 0, Layers...>::type;
    using reference_plan = plan<execution::reference>;
    using fused_plan = plan<execution::fused>;

    using output_shape = typename detail::last_stage<reference_plan>::type::output_shape;

    static constexpr std::size_t layer_count = sizeof...(Layers);
    static constexpr std::size_t input_size = input_shape::size;
    static constexpr std::size_t output_size = output_shape::size;
    /// Trainable values (weights and biases) in all layers.
    static constexpr std::size_t parameter_count = reference_plan::parameter_count;
    /// Bytes of parameters in element type T.
    template <class T>
    static constexpr std::size_t parameter_bytes = parameter_count * sizeof(T);
    /// Non-trainable state values (batch_norm running statistics), stored apart from the parameters.
    static constexpr std::size_t state_count = reference_plan::state_count;
    /// Floating-point operations of one forward pass of one sample (a multiply-add counts 2).
    static constexpr std::size_t flops = reference_plan::flops;
    /// How each layer's weights are initialised (indexed like Layers; see layers/initialization.hpp).
    static constexpr std::array<init_rule, layer_count> initialization_rules =
        detail::initialization_rules<Layers...>();
};

template <class A>
inline constexpr bool is_sequential_v = false;
template <class I, class... L>
inline constexpr bool is_sequential_v<sequential<I, L...>> = true;

}  // namespace typenet
