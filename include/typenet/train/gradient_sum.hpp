#pragma once
// The sum of the threads' gradients over one slice of the parameters, checked for
// NaN and infinity in the same pass: a step reads each gradient once here, where a
// copy, an add per further part and a separate check read the slice three times.
#include <cstddef>

#include "../kernels/simd.hpp"

namespace typenet {

/// sum[i] = parts[0][i] + parts[1][i] + ... (in that order) for i in [begin, end);
/// returns whether every sum is finite (see kernels::all_finite for the test).
template <class T>
bool add_checking_finite(const T* const* parts, std::size_t count, std::size_t begin, std::size_t end, T* sum) {
    using V = kernels::simd<T>;
    constexpr std::size_t W = kernels::simd_width<T>;
    const V zero(T(0));
    V check(T(0));
    std::size_t i = begin;
    for (; i + W <= end; i += W) {
        V v = kernels::load_lane<V>(parts[0] + i);
        for (std::size_t p = 1; p < count; ++p) v = v + kernels::load_lane<V>(parts[p] + i);
        kernels::store_lane(sum + i, v);
        check = check + v * zero;
    }
    T tail_check = xsimd::hadd(check);
    for (; i < end; ++i) {
        T v = parts[0][i];
        for (std::size_t p = 1; p < count; ++p) v += parts[p][i];
        sum[i] = v;
        tail_check += v * T(0);
    }
    return tail_check == T(0);
}

}  // namespace typenet
