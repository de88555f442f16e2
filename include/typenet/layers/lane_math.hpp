#pragma once
// Arithmetic over a lane type V: a scalar (float, double) or any xsimd batch the
// kernels use (full vectors, the narrower tails, masked partial vectors). An
// element-wise layer writes its formulas once with these, and the same text runs in
// a GEMM epilogue, in a stand-alone pass and in scalar tails (layers/elementwise.hpp).
// Public: user-defined activations use them as the built-in ones do.
#include <cmath>

#include <xsimd/xsimd.hpp>

#include "../kernels/simd.hpp"

namespace typenet::lane {

template <class V>
inline constexpr bool is_scalar = kernels::is_scalar_lane_v<V>;

/// V(c) for a constant c of any arithmetic type (keeps float formulas float).
template <class V, class C>
V constant(C c) {
    return V(static_cast<kernels::lane_value_t<V>>(c));
}

/// where(condition) a, else b, lane by lane: condition is a comparison of lanes (x > y).
template <class Mask, class V>
V select(const Mask& condition, const V& a, const V& b) {
    if constexpr (is_scalar<V>)
        return condition ? a : b;
    else
        return xsimd::select(condition, a, b);
}

template <class V>
V max(const V& a, const V& b) {
    if constexpr (is_scalar<V>)
        return a > b ? a : b;
    else
        return xsimd::max(a, b);
}
template <class V>
V min(const V& a, const V& b) {
    if constexpr (is_scalar<V>)
        return a < b ? a : b;
    else
        return xsimd::min(a, b);
}
template <class V>
V abs(const V& v) {
    if constexpr (is_scalar<V>)
        return std::abs(v);
    else
        return xsimd::abs(v);
}
template <class V>
V exp(const V& v) {
    if constexpr (is_scalar<V>)
        return std::exp(v);
    else
        return xsimd::exp(v);
}
template <class V>
V tanh(const V& v) {
    if constexpr (is_scalar<V>)
        return std::tanh(v);
    else
        return xsimd::tanh(v);
}
template <class V>
V erf(const V& v) {
    if constexpr (is_scalar<V>)
        return std::erf(v);
    else
        return xsimd::erf(v);
}

}  // namespace typenet::lane
