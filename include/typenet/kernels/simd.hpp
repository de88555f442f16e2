#pragma once
// The few SIMD helpers every kernel shares. A "lane type" V is either a scalar T
// or an xsimd::batch<T>; writing formulas once over V lets the same activation
// code run inside a GEMM epilogue (in registers), in a stand-alone element-wise
// pass, and in the scalar tail of both, so fused and unfused paths cannot drift.
#include <cmath>
#include <cstddef>
#include <type_traits>

#include <xsimd/xsimd.hpp>

#include "../core/bfloat16.hpp"

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

/// The lane of half V's width: a narrower xsimd batch of this CPU (AVX-512 16 floats ->
/// AVX 8 -> SSE 4), or the scalar where there is none. Column tails shorter than a
/// vector run in these instead of one value at a time.
template <class V>
struct half_lane {
    using type = V;
};
template <class T, class A>
struct half_lane<xsimd::batch<T, A>> {
    using sized = xsimd::make_sized_batch_t<T, xsimd::batch<T, A>::size / 2>;
    using type = std::conditional_t<std::is_void_v<sized> || xsimd::batch<T, A>::size <= 2, T, sized>;
};
template <class V>
using half_lane_t = typename half_lane<V>::type;

/// Number of values in one lane: 1 for scalars, the vector width for batches.
template <class V>
inline constexpr std::size_t lane_width = sizeof(V) / sizeof(lane_value_t<V>);

/// The first Lanes values of a full vector V (AVX-512): the column tail of a product
/// in one masked vector, where half, quarter and single lanes would each need a pass
/// of their own (a 10-class output: 8 lanes, then 2 scalars with a broadcast each).
/// Arithmetic is V's (it converts back on assignment); only load_lane and store_lane
/// differ, and they touch Lanes values, never the memory after them. The other
/// lanes hold whatever the arithmetic makes of zeros and are never stored.
template <class V, std::size_t Lanes>
struct partial_lane : V {
    static_assert(Lanes > 0 && Lanes < V::size, "partial_lane: a tail holds fewer values than a vector");
    static constexpr std::size_t lanes = Lanes;
    static constexpr unsigned mask = (1u << Lanes) - 1;  ///< the lanes loads and stores touch
    using V::V;
    partial_lane(const V& v) : V(v) {}  // NOLINT: implicit, as the results of V's operators come back
};
template <class V>
inline constexpr bool is_partial_lane_v = false;
template <class V, std::size_t Lanes>
inline constexpr bool is_partial_lane_v<partial_lane<V, Lanes>> = true;

#if defined(__AVX512F__)
/// Whether this build holds column tails in partial_lane (AVX-512's masked loads and stores).
inline constexpr bool has_partial_lanes = true;
#else
inline constexpr bool has_partial_lanes = false;
#endif

/// Loads one lane (scalar or vector) from unaligned memory.
template <class V>
inline V load_lane(const lane_value_t<V>* p) {
    if constexpr (is_scalar_lane_v<V>) {
        return *p;
    } else if constexpr (is_partial_lane_v<V>) {
#if defined(__AVX512F__)
        using T = lane_value_t<V>;
        static_assert(sizeof(V) == 64, "partial_lane: AVX-512 vectors only");
        if constexpr (std::is_same_v<T, float>)
            return V(_mm512_maskz_loadu_ps(static_cast<__mmask16>(V::mask), p));
        else
            return V(_mm512_maskz_loadu_pd(static_cast<__mmask8>(V::mask), p));
#else
        static_assert(!is_partial_lane_v<V>, "partial_lane needs AVX-512");
#endif
    } else {
        return V::load_unaligned(p);
    }
}

/// Loads one lane of float from bfloat16 storage, widening as it loads (the
/// reduced-precision inference path: weights stream at half the bytes).
template <class V>
inline V load_lane(const bfloat16* p) {
    static_assert(std::is_same_v<lane_value_t<V>, float>, "bfloat16 widens to float lanes only");
    if constexpr (is_scalar_lane_v<V>) {
        return to_float(*p);
    } else {
#if defined(__AVX512F__)
        if constexpr (V::size == 16) {
            const __m256i half = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
            return V(_mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(half), 16)));
        }
#endif
#if defined(__AVX2__)
        if constexpr (V::size == 8) {
            const __m128i half = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
            return V(_mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(half), 16)));
        }
#endif
#if defined(__SSE4_1__)
        if constexpr (V::size == 4) {
            const __m128i half = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
            return V(_mm_castsi128_ps(_mm_slli_epi32(_mm_cvtepu16_epi32(half), 16)));
        }
#endif
        alignas(64) float wide[V::size];
        for (std::size_t i = 0; i < V::size; ++i) wide[i] = to_float(p[i]);
        return V::load_aligned(wide);
    }
}

#if defined(__AVX512F__)
inline constexpr bool has_lane_sums_16 = true;
/// Lane i of the result: the sum of v[i]'s 16 lanes. A tree of shuffles between pairs of
/// vectors, 30 shuffles and 15 adds for the 16 sums. (xsimd 8.1's haddp, which should do
/// this, returns them in the wrong lanes on AVX-512: 2 and 4, 3 and 5, ... swapped.)
inline __m512 lane_sums_16(const __m512* v) {
    __m512 halves[8], quarters[4];
    // Quarter q of halves[i]: v[2i]'s quarters q and q + 2 added (q = 0, 1), then v[2i + 1]'s.
    for (int i = 0; i < 8; ++i)
        halves[i] = _mm512_add_ps(_mm512_shuffle_f32x4(v[2 * i], v[2 * i + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                                  _mm512_shuffle_f32x4(v[2 * i], v[2 * i + 1], _MM_SHUFFLE(3, 2, 3, 2)));
    // Quarter j of quarters[i]: four lanes whose sum is that of v[4i + j].
    for (int i = 0; i < 4; ++i)
        quarters[i] = _mm512_add_ps(_mm512_shuffle_f32x4(halves[2 * i], halves[2 * i + 1], _MM_SHUFFLE(2, 0, 2, 0)),
                                    _mm512_shuffle_f32x4(halves[2 * i], halves[2 * i + 1], _MM_SHUFFLE(3, 1, 3, 1)));
    // Within each quarter j: lane i the sum of v[4i + j]...
    const __m512 pairs01 =
        _mm512_add_ps(_mm512_unpacklo_ps(quarters[0], quarters[1]), _mm512_unpackhi_ps(quarters[0], quarters[1]));
    const __m512 pairs23 =
        _mm512_add_ps(_mm512_unpacklo_ps(quarters[2], quarters[3]), _mm512_unpackhi_ps(quarters[2], quarters[3]));
    const __m512 sums =
        _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(pairs01), _mm512_castps_pd(pairs23))),
                      _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(pairs01), _mm512_castps_pd(pairs23))));
    // ... so lane 4j + i holds v[4i + j]'s sum: one permutation puts v[m]'s in lane m.
    return _mm512_permutexvar_ps(_mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15), sums);
}
#else
inline constexpr bool has_lane_sums_16 = false;
#endif

/// Two lanes of float from 2 * width bfloat16 values stored interleaved: value
/// 2i holds column i of the first lane and value 2i + 1 column i of the second
/// (see interleave_bfloat16). One load and two single-cycle bit operations widen
/// both lanes, about half the work of widening each lane as it loads, which
/// matters on CPUs without AVX-512 BF16: otherwise the widening, not the halved
/// memory traffic, sets the speed.
template <class V>
inline void load_interleaved_pair(const bfloat16* p, V& first, V& second) {
    static_assert(std::is_same_v<lane_value_t<V>, float> && !is_scalar_lane_v<V>);
#if defined(__AVX512F__)
    if constexpr (V::size == 16) {
        const __m512i both = _mm512_loadu_si512(p);
        first = V(_mm512_castsi512_ps(_mm512_slli_epi32(both, 16)));
        second = V(_mm512_castsi512_ps(_mm512_and_si512(both, _mm512_set1_epi32(static_cast<int>(0xffff0000u)))));
        return;
    }
#endif
#if defined(__AVX2__)
    if constexpr (V::size == 8) {
        const __m256i both = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
        first = V(_mm256_castsi256_ps(_mm256_slli_epi32(both, 16)));
        second = V(_mm256_castsi256_ps(_mm256_and_si256(both, _mm256_set1_epi32(static_cast<int>(0xffff0000u)))));
        return;
    }
#endif
#if defined(__SSE2__)
    if constexpr (V::size == 4) {
        const __m128i both = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        first = V(_mm_castsi128_ps(_mm_slli_epi32(both, 16)));
        second = V(_mm_castsi128_ps(_mm_and_si128(both, _mm_set1_epi32(static_cast<int>(0xffff0000u)))));
        return;
    }
#endif
    alignas(64) float a[V::size], b[V::size];
    for (std::size_t i = 0; i < V::size; ++i) {
        a[i] = to_float(p[2 * i]);
        b[i] = to_float(p[2 * i + 1]);
    }
    first = V::load_aligned(a);
    second = V::load_aligned(b);
}

/// The layout load_interleaved_pair reads: a K x N row-major float matrix rounded
/// to bfloat16, each row's columns grouped by 2 * width; in every group that lies
/// wholly within the vector part of the row (the first N - N % width columns),
/// column g + i goes to position g + 2i and column g + width + i to g + 2i + 1.
/// Other columns stay in place. The GEMM pairs exactly those vectors (its column
/// panels are an even number of vectors wide), so no layout flag is needed.
/// The vector width interleave_bfloat16 groups columns by: this build's, so a layout
/// written by one build is read right only by a build with the same width. Exported
/// bfloat16 headers check it (export_header.hpp).
inline constexpr std::size_t bfloat16_layout_width = simd_width<float>;

inline void interleave_bfloat16(const float* from, std::size_t K, std::size_t N, bfloat16* to) {
    constexpr std::size_t W = simd_width<float>;
    const std::size_t vector_end = N - N % W;
    for (std::size_t k = 0; k < K; ++k) {
        const float* row = from + k * N;
        bfloat16* out = to + k * N;
        std::size_t j = 0;
        for (; j + 2 * W <= vector_end; j += 2 * W)
            for (std::size_t i = 0; i < W; ++i) {
                out[j + 2 * i] = to_bfloat16(row[j + i]);
                out[j + 2 * i + 1] = to_bfloat16(row[j + W + i]);
            }
        const std::size_t rest = N - j;  // counted from 0: g++ then sees the loop is short
        for (std::size_t r = 0; r < rest; ++r) out[j + r] = to_bfloat16(row[j + r]);
    }
}

template <class V>
inline void store_lane(lane_value_t<V>* p, V v) {
    if constexpr (is_scalar_lane_v<V>) {
        *p = v;
    } else if constexpr (is_partial_lane_v<V>) {
#if defined(__AVX512F__)
        if constexpr (std::is_same_v<lane_value_t<V>, float>)
            _mm512_mask_storeu_ps(p, static_cast<__mmask16>(V::mask), v);
        else
            _mm512_mask_storeu_pd(p, static_cast<__mmask8>(V::mask), v);
#else
        static_assert(!is_partial_lane_v<V>, "partial_lane needs AVX-512");
#endif
    } else {
        v.store_unaligned(p);
    }
}

/// a * b + c. Where the CPU has FMA, scalar lanes use it explicitly, as vector
/// lanes do: left to -ffp-contract, g++ fuses `a * b + c` in some inlining
/// contexts and not in others, and the same column tail then rounds differently
/// from one call site to the next.
template <class V>
inline V mul_add(V a, V b, V c) {
    if constexpr (is_scalar_lane_v<V>) {
#if defined(__FMA__)
        return std::fma(a, b, c);
#else
        return a * b + c;
#endif
    } else {
        // Explicit FMA instructions: xsimd 8.1 has no AVX-512 kernel for fma, nor one for
        // the narrower batches (half_lane) an AVX-512 build picks, and its generic x * y + z
        // is fused only where g++ contracts it (-O2 and up). The -O1 sanitizer build
        // rounded those lanes differently from scalar ones: a masked column tail
        // (partial_lane) differently from the same columns in half lanes and scalars.
        using T = lane_value_t<V>;
        [[maybe_unused]] constexpr bool is_float = std::is_same_v<T, float>;
        [[maybe_unused]] constexpr bool is_double = std::is_same_v<T, double>;
#if defined(__AVX512F__)
        if constexpr (sizeof(V) == 64 && is_float) return V(_mm512_fmadd_ps(a, b, c));
        if constexpr (sizeof(V) == 64 && is_double) return V(_mm512_fmadd_pd(a, b, c));
#endif
#if defined(__FMA__)
        if constexpr (sizeof(V) == 32 && is_float) return V(_mm256_fmadd_ps(a, b, c));
        if constexpr (sizeof(V) == 32 && is_double) return V(_mm256_fmadd_pd(a, b, c));
        if constexpr (sizeof(V) == 16 && is_float) return V(_mm_fmadd_ps(a, b, c));
        if constexpr (sizeof(V) == 16 && is_double) return V(_mm_fmadd_pd(a, b, c));
#endif
        return xsimd::fma(a, b, c);
    }
}

/// dst[i] += src[i] (Add) or dst[i] = src[i] for i < n, n known at compile time: whole
/// vectors, then the rest in the narrower lanes that fit (half_lane), then scalars.
/// For the short runs of convolutions (an output row of 8 or 24 values): left to the
/// compiler, the 8-value adds of LeNet's col2im were not vectorised (117 us a batch
/// of 64 against 47 with these lanes).
template <std::size_t n, bool Add, class V, class T>
inline void run_lanes(T* dst, const T* src) {
    if constexpr (n == 0) {
        return;
    } else if constexpr (is_scalar_lane_v<V>) {
        for (std::size_t r = 0; r < n; ++r) dst[r] = Add ? dst[r] + src[r] : src[r];
    } else {
        constexpr std::size_t W = lane_width<V>;
        constexpr std::size_t vector_end = n - n % W;
        for (std::size_t i = 0; i < vector_end; i += W)
            store_lane(dst + i, Add ? load_lane<V>(dst + i) + load_lane<V>(src + i) : load_lane<V>(src + i));
        run_lanes<n % W, Add, half_lane_t<V>>(dst + vector_end, src + vector_end);
    }
}
template <std::size_t n, class T>
inline void add_run(T* dst, const T* src) {
    run_lanes<n, true, simd<T>>(dst, src);
}
template <std::size_t n, class T>
inline void copy_run(T* dst, const T* src) {
    run_lanes<n, false, simd<T>>(dst, src);
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

/// Whether every x[i] is finite: x * 0 is 0 for a finite x and NaN for NaN or an
/// infinity, and a sum of zeros stays 0. Four vector sums instead of one scalar
/// chain: a training step checks every gradient, and the chain of 100 000
/// dependent adds was 15 % of an MLP step.
template <class T>
inline bool all_finite(const T* x, std::size_t n) {
    constexpr std::size_t W = simd_width<T>;
    const std::size_t block_end = n - n % (4 * W);
    const simd<T> zero(T(0));
    simd<T> a0(T(0)), a1(T(0)), a2(T(0)), a3(T(0));
    for (std::size_t i = 0; i < block_end; i += 4 * W) {
        a0 += load_lane<simd<T>>(x + i) * zero;
        a1 += load_lane<simd<T>>(x + i + W) * zero;
        a2 += load_lane<simd<T>>(x + i + 2 * W) * zero;
        a3 += load_lane<simd<T>>(x + i + 3 * W) * zero;
    }
    T acc = xsimd::hadd((a0 + a1) + (a2 + a3));
    for (std::size_t i = block_end; i < n; ++i) acc += x[i] * T(0);
    return acc == T(0);
}

/// Sums of one contiguous run for statistics (batch_norm): lanes accumulate in T
/// over one run (a feature map of at most a few thousand values), the caller
/// adds the runs up in double. One accumulator per lane instead of one scalar
/// double chain: the chain's add latency, not the loads, set the old speed.
template <class T>
inline double sum(const T* x, std::size_t n) {
    constexpr std::size_t W = simd_width<T>;
    const std::size_t vector_end = n - n % W;
    simd<T> acc(T(0));
    for (std::size_t i = 0; i < vector_end; i += W) acc += load_lane<simd<T>>(x + i);
    double total = static_cast<double>(xsimd::hadd(acc));
    for (std::size_t r = 0; r < n % W; ++r) total += static_cast<double>(x[vector_end + r]);
    return total;
}

/// Sum of (x[i] - centre)^2.
template <class T>
inline double sum_squared_deviations(const T* x, std::size_t n, T centre) {
    constexpr std::size_t W = simd_width<T>;
    const std::size_t vector_end = n - n % W;
    const simd<T> c(centre);
    simd<T> acc(T(0));
    for (std::size_t i = 0; i < vector_end; i += W) {
        const simd<T> d = load_lane<simd<T>>(x + i) - c;
        acc = mul_add(d, d, acc);
    }
    double total = static_cast<double>(xsimd::hadd(acc));
    for (std::size_t r = 0; r < n % W; ++r) {
        const double d = static_cast<double>(x[vector_end + r]) - static_cast<double>(centre);
        total += d * d;
    }
    return total;
}

/// Adds sum g[i] to sum_g and sum g[i] (x[i] - centre) to sum_gx, in one pass.
template <class T>
inline void add_sum_and_centered_dot(const T* g, const T* x, std::size_t n, T centre, double& sum_g, double& sum_gx) {
    constexpr std::size_t W = simd_width<T>;
    const std::size_t vector_end = n - n % W;
    const simd<T> c(centre);
    simd<T> acc_g(T(0)), acc_gx(T(0));
    for (std::size_t i = 0; i < vector_end; i += W) {
        const simd<T> gi = load_lane<simd<T>>(g + i);
        acc_g += gi;
        acc_gx = mul_add(gi, load_lane<simd<T>>(x + i) - c, acc_gx);
    }
    sum_g += static_cast<double>(xsimd::hadd(acc_g));
    sum_gx += static_cast<double>(xsimd::hadd(acc_gx));
    for (std::size_t r = 0; r < n % W; ++r) {
        const double gr = static_cast<double>(g[vector_end + r]);
        sum_g += gr;
        sum_gx += gr * (static_cast<double>(x[vector_end + r]) - static_cast<double>(centre));
    }
}

}  // namespace typenet::kernels
