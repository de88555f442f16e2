#pragma once
#include <cstddef>

#include "../core/shape.hpp"

namespace typenet {

/// The input of a network: input<N> for a vector, input<C, H, W> for an image.
template <std::size_t... Dims>
struct input {
    static_assert(sizeof...(Dims) == 1 || sizeof...(Dims) == 3,
                  "typenet: input<...> takes one dimension (a vector, input<N>) or three (an image, input<C, H, W>); "
                  "for a grey H x W image write input<1, H, W>");
    static_assert(((Dims > 0) && ...), "typenet: every dimension of input<...> must be at least 1");
    using shape_type = shape<Dims...>;
};

template <class T>
inline constexpr bool is_input_v = false;
template <std::size_t... D>
inline constexpr bool is_input_v<input<D...>> = true;

}  // namespace typenet
