#pragma once
// Compile-time tensor shapes. A shape is a type; everything a network needs to
// know about sizes is derived from these types, so nothing is measured at run time.
#include <array>
#include <cstddef>

namespace typenet {

/// The shape of one sample (the batch dimension is never part of it).
template <std::size_t... Dims>
struct shape {
    static_assert(sizeof...(Dims) >= 1, "typenet: a shape needs at least one dimension");
    static constexpr std::size_t rank = sizeof...(Dims);
    static constexpr std::size_t size = (Dims * ...);
    static constexpr std::array<std::size_t, rank> dims{Dims...};
};

template <class S>
inline constexpr bool is_shape_v = false;
template <std::size_t... D>
inline constexpr bool is_shape_v<shape<D...>> = true;

/// A flat vector of N values.
template <std::size_t N>
using vector_shape = shape<N>;

/// An image of C channels, H rows and W columns (stored channel-major).
template <std::size_t C, std::size_t H, std::size_t W>
using image_shape = shape<C, H, W>;

template <class S>
inline constexpr bool is_flat_v = is_shape_v<S>&& S::rank == 1;
template <class S>
inline constexpr bool is_image_v = is_shape_v<S>&& S::rank == 3;

}  // namespace typenet
