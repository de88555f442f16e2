#pragma once
// The few SIMD helpers every kernel shares. A "lane type" V is either a scalar T
// or an xsimd::batch<T>; writing formulas once over V lets the same activation
// code run inside a GEMM epilogue (in registers), in a stand-alone element-wise
// pass, and in the scalar tail of both, so fused and unfused paths cannot drift.
#include <cstddef>
#include <type_traits>

#include <xsimd/xsimd.hpp>

namespace typenet::kernels {

template <class T>
using simd = xsimd::batch<T>;

template <class T>
inline constexpr std::size_t simd_width = simd<T>::size;

template <class V>
inline constexpr bool is_scalar_lane_v = std::is_arithmetic_v<V>;

template <class V>
struct lane_value {
    using type = typename V::value_type;
};
template <class V>
    requires std::is_arithmetic_v<V>
struct lane_value<V> {
    using type = V;
};
template <class V>
using lane_value_t = typename lane_value<V>::type;

/// Number of values in one lane: 1 for scalars, the vector width for batches.
template <class V>
inline constexpr std::size_t lane_width = sizeof(V) / sizeof(lane_value_t<V>);

/// Loads one lane (scalar or vector) from unaligned memory.
template <class V>
inline V load_lane(const lane_value_t<V>* p) {
    if constexpr (is_scalar_lane_v<V>) return *p;
    else return V::load_unaligned(p);
}

template <class V>
inline void store_lane(lane_value_t<V>* p, V v) {
    if constexpr (is_scalar_lane_v<V>) *p = v;
    else v.store_unaligned(p);
}

template <class V>
inline V mul_add(V a, V b, V c) {
    if constexpr (is_scalar_lane_v<V>) return a * b + c;
    else return xsimd::fma(a, b, c);
}

/// out[i] = f(in[i]) for i < n, vectorised, scalar tail. f is generic over lanes.
template <class T, class F>
inline void transform(const T* in, T* out, std::size_t n, F f) {
    constexpr std::size_t W = simd_width<T>;
    const std::size_t vector_end = n - n % W;
    for (std::size_t i = 0; i < vector_end; i += W) store_lane(out + i, f(load_lane<simd<T>>(in + i)));
    // The tail is shorter than one vector; bounding it by W (not n) tells the compiler so.
    for (std::size_t r = 0; r < n % W; ++r) out[vector_end + r] = f(in[vector_end + r]);
}

/// out[i] = f(a[i], b[i]).
template <class T, class F>
inline void transform(const T* a, const T* b, T* out, std::size_t n, F f) {
    constexpr std::size_t W = simd_width<T>;
    const std::size_t vector_end = n - n % W;
    for (std::size_t i = 0; i < vector_end; i += W)
        store_lane(out + i, f(load_lane<simd<T>>(a + i), load_lane<simd<T>>(b + i)));
    for (std::size_t r = 0; r < n % W; ++r) out[vector_end + r] = f(a[vector_end + r], b[vector_end + r]);
}

}  // namespace typenet::kernels
