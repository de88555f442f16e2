#pragma once
// sequential<input<...>, L...>: the architecture as a type. It holds no data; it is
// where every shape, size and cost of the network is computed, at compile time.
#include <cstddef>
#include <type_traits>

#include "../core/diagnostic.hpp"
#include "../layers/batch_norm.hpp"
#include "../layers/dropout.hpp"
#include "../layers/input.hpp"
#include "plan.hpp"

namespace typenet {

namespace diagnostic {
template <class Layer>
struct preceded_by {};
}  // namespace diagnostic

namespace detail {
template <class L>
inline constexpr bool is_weighted_linear_v = false;  // dense or conv2d: what batch_norm folds into
template <std::size_t U>
inline constexpr bool is_weighted_linear_v<dense<U>> = true;
template <std::size_t F, std::size_t K, std::size_t S, std::size_t P>
inline constexpr bool is_weighted_linear_v<conv2d<F, K, S, P>> = true;

/// batch_norm must directly follow dense or conv2d (Prev = void: it is first).
template <std::size_t Index, class Prev, class... Layers>
struct batch_norm_placement : std::true_type {};
template <std::size_t Index, class Prev, class L, class... Rest>
struct batch_norm_placement<Index, Prev, L, Rest...> : batch_norm_placement<Index + 1, L, Rest...> {
    static_assert(!std::is_same_v<L, batch_norm> ||
                      diagnostic::check<is_weighted_linear_v<Prev>, diagnostic::at_layer<Index, L>,
                                        diagnostic::preceded_by<Prev>>,
                  "typenet: batch_norm must directly follow a dense<N> or conv2d<...> layer (it normalises that "
                  "layer's outputs and is folded into its weights for inference); place it before the activation");
};
}  // namespace detail

template <class Input, class... Layers>
struct sequential {
    static_assert(is_input_v<Input>,
                  "typenet: the first type of sequential<...> must be its input shape, input<N> or input<C, H, W>");
    static_assert(sizeof...(Layers) >= 1, "typenet: sequential<input<...>> needs at least one layer");

    static_assert(detail::batch_norm_placement<0, void, Layers...>::value);
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
};

template <class A>
inline constexpr bool is_sequential_v = false;
template <class I, class... L>
inline constexpr bool is_sequential_v<sequential<I, L...>> = true;

}  // namespace typenet
