#pragma once
// What a layer's GEMM does to a block of its product while the block is still in
// registers (kernels/gemm.hpp calls epilogue(lane, row, first_column)): the bias
// add and the activation, fused into the product's single store.
// Stored: how the bias is stored (the value type, or bfloat16 for reduced-precision inference).
#include <cstddef>

#include "../kernels/simd.hpp"

namespace typenet::detail {

/// A bias per column of the product: dense layers (Y = X W, a row per sample), and
/// convolutions computed position by position (a row per output position, a column per filter).
template <class Stored, class Act>
struct bias_activation_epilogue {
    const Stored* bias;
    template <class V>
    V operator()(V acc, std::size_t /*row*/, std::size_t column) const {
        return Act::forward_lane(acc + kernels::load_lane<V>(bias + column));
    }
};

/// A bias per row of the product: convolutions computed filter by filter (Y = W^T columns).
template <class Stored, class Act>
struct channel_bias_activation_epilogue {
    const Stored* bias;
    template <class V>
    V operator()(V acc, std::size_t row, std::size_t /*column*/) const {
        return Act::forward_lane(acc + V(widen(bias[row])));
    }
};

}  // namespace typenet::detail
