#pragma once
// sequential<input<...>, L...>: the architecture as a type. It holds no data; it is
// where every shape, size and cost of the network is computed, at compile time.
#include <cstddef>

#include "../core/diagnostic.hpp"
#include "../layers/input.hpp"
#include "plan.hpp"

namespace typenet {

template <class Input, class... Layers>
struct sequential {
    static_assert(is_input_v<Input>,
                  "typenet: the first type of sequential<...> must be its input shape, input<N> or input<C, H, W>");
    static_assert(sizeof...(Layers) >= 1, "typenet: sequential<input<...>> needs at least one layer");

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
    /// Floating-point operations of one forward pass of one sample (a multiply-add counts 2).
    static constexpr std::size_t flops = reference_plan::flops;
};

template <class A>
inline constexpr bool is_sequential_v = false;
template <class I, class... L>
inline constexpr bool is_sequential_v<sequential<I, L...>> = true;

}  // namespace typenet
