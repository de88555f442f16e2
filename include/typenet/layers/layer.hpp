#pragma once
// What makes a type a layer. Every layer tag derives from layer_base and provides
//
//   template <class In, std::size_t Index, std::size_t ParamOffset> struct stage;
//
// the layer bound to an input shape at a position of the network. The stage
// computes output_shape (with static_asserts naming Index, the layer and In when
// the input does not fit), parameter_count, flops, scratch_size, and the static
// functions forward/backward over batched row-major buffers:
//
//   forward (params, in, out, batch, scratch)
//   backward(params, in, out, d_out, d_in, d_params, batch, scratch)
//
// scratch holds scratch_size values (forward needs only forward_scratch_size).
//
// backward may overwrite d_out (it is dead afterwards), must write d_in when it is
// not null, and overwrites (does not accumulate into) its slice of d_params.
#include <cstddef>
#include <type_traits>

#include "../core/diagnostic.hpp"
#include "../core/shape.hpp"

namespace typenet {

struct layer_base {};

template <class L>
inline constexpr bool is_layer_v = std::is_base_of_v<layer_base, L>;

/// Stages without parameters or scratch inherit these defaults.
struct stage_defaults {
    static constexpr std::size_t parameter_count = 0;
    static constexpr std::size_t scratch_size = 0;
    static constexpr std::size_t forward_scratch_size = 0;
    /// True when the output is the input buffer reinterpreted (flatten): no copy, no pass.
    static constexpr bool aliases_input = false;
};

}  // namespace typenet
