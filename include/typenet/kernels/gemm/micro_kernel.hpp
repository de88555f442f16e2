#pragma once
// The micro-kernel: an MR x NV-vector block of C held in registers while it walks
// the depth steps (all of them, or a list that leaves out steps known to add
// nothing), the epilogue applied to the registers before the single store; and the
// single row's column tail, every lane width in one pass.
#include <cstddef>
#include <cstdint>

#include "../simd.hpp"
#include "operands.hpp"

namespace typenet::kernels {

namespace detail {

// When B is a fixed-size array the compiler can see (the stack scratch of a batch-1
// predict), g++ notes that an absurdly large K would run past it and "invokes
// undefined behavior"; K is bounded by the layer's sizes, so the note is noise.
#if defined(__GNUC__) && !defined(__clang__)  // clang has no such warning, and warns about the unknown group
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Waggressive-loop-optimizations"
#endif

/// The depth steps a register block walks: every p in [0, K) ...
struct all_steps {
    std::size_t count;
    std::size_t operator[](std::size_t s) const { return s; }
};
/// ... or the listed ones (the others are known to add nothing; see gemm_skipping_zeros).
struct listed_steps {
    const std::uint16_t* steps;
    std::size_t count;
    std::size_t operator[](std::size_t s) const { return steps[s]; }
};

// Register block: MR rows, NV vectors of W lanes (V = simd) or NV scalars (V = T),
// along the depth steps `steps` (all_steps or listed_steps).
template <class V, std::size_t MR, std::size_t NV, class ALayout, bool Accumulate, class TA, class BOperand, class T,
          class Epilogue, class Steps>
inline void micro_kernel(Steps steps, const TA* a, std::size_t lda, std::size_t i0, const BOperand& b, std::size_t j0,
                         T* c, std::size_t ldc, const Epilogue& epilogue) {
    using TB = typename BOperand::value_type;
    constexpr std::size_t W = lane_width<V>;
    std::size_t column_at[NV];
#pragma GCC unroll 16
    for (std::size_t v = 0; v < NV; ++v) column_at[v] = b.column(j0 + v * W);
    V acc[MR][NV];
#pragma GCC unroll 16
    for (std::size_t r = 0; r < MR; ++r)
#pragma GCC unroll 16
        for (std::size_t v = 0; v < NV; ++v) acc[r][v] = V(T(0));

    for (std::size_t s = 0; s < steps.count; ++s) {
        const std::size_t p = steps[s];
        const TB* brow = b.row(p);
        V bv[NV];
        if constexpr (std::is_same_v<TB, bfloat16> && !is_scalar_lane_v<V>) {
#pragma GCC unroll 16
            for (std::size_t v = 0; v + 1 < NV; v += 2) load_interleaved_pair(brow + column_at[v], bv[v], bv[v + 1]);
            if constexpr (NV % 2 == 1) bv[NV - 1] = load_lane<V>(brow + column_at[NV - 1]);
        } else {
#pragma GCC unroll 16
            for (std::size_t v = 0; v < NV; ++v) bv[v] = load_lane<V>(brow + column_at[v]);
        }
        const auto ap = ALayout::step(a, lda, i0, p);  // a pointer, or what the layout needs to find A(i0 + r, p)
#pragma GCC unroll 16
        for (std::size_t r = 0; r < MR; ++r) {
            const V av(ALayout::in_step(ap, lda, r));
#pragma GCC unroll 16
            for (std::size_t v = 0; v < NV; ++v) acc[r][v] = mul_add(av, bv[v], acc[r][v]);
        }
    }

#pragma GCC unroll 16
    for (std::size_t r = 0; r < MR; ++r) {
        T* crow = c + (i0 + r) * ldc + j0;
#pragma GCC unroll 16
        for (std::size_t v = 0; v < NV; ++v) {
            V value = acc[r][v];
            if constexpr (Accumulate) value = value + load_lane<V>(crow + v * W);
            // V given: an epilogue may return the full vector its arithmetic made of a partial_lane.
            store_lane<V>(crow + v * W, epilogue(value, i0 + r, j0 + v * W));
        }
    }
}

// The column tail of a single row (batch-1 inference), every lane width in one pass
// over the depth: the half-width vector, the quarter-width one and the scalars that
// the tail needs (Rest < V's width) each keep one accumulator. Run one after another,
// as column_tail runs them for many rows, a row's tail is two or three dependent FMA
// chains in sequence, each waiting on the FMA latency at every step: the MLP's
// 128 -> 10 layer took a fifth of its batch-1 inference. Each column still sums its
// products in the same order, so the outputs are those of the batched product.
template <class V, std::size_t Rest, class ALayout, bool Accumulate, class TA, class BOperand, class T, class Epilogue,
          class Steps>
inline void one_row_tail(Steps steps, const TA* a, std::size_t lda, std::size_t i0, const BOperand& b, std::size_t j0,
                         T* c, const Epilogue& epilogue) {
    using TB = typename BOperand::value_type;
    using H1 = half_lane_t<V>;
    using H2 = half_lane_t<H1>;
    constexpr std::size_t w1 = lane_width<H1>, w2 = lane_width<H2>;
    constexpr bool take1 = !is_scalar_lane_v<H1> && Rest >= w1;
    constexpr std::size_t rest1 = Rest - (take1 ? w1 : 0);
    constexpr bool take2 = !is_scalar_lane_v<H2> && rest1 >= w2;
    constexpr std::size_t scalars = rest1 - (take2 ? w2 : 0);
    static_assert(scalars < 4, "one_row_tail: a tail this wide needs another lane width");
    constexpr std::size_t at2 = take1 ? w1 : 0, at_scalars = at2 + (take2 ? w2 : 0);
    const std::size_t col1 = b.column(j0), col2 = b.column(j0 + at2);
    std::size_t col_s[scalars > 0 ? scalars : 1];
    for (std::size_t r = 0; r < scalars; ++r) col_s[r] = b.column(j0 + at_scalars + r);
    H1 acc1(T(0));
    H2 acc2(T(0));
    T acc_s[scalars > 0 ? scalars : 1] = {};
    for (std::size_t s = 0; s < steps.count; ++s) {
        const std::size_t p = steps[s];
        const TB* brow = b.row(p);
        const T av = ALayout::in_step(ALayout::step(a, lda, i0, p), lda, 0);
        if constexpr (take1) acc1 = mul_add(H1(av), load_lane<H1>(brow + col1), acc1);
        if constexpr (take2) acc2 = mul_add(H2(av), load_lane<H2>(brow + col2), acc2);
#pragma GCC unroll 4
        for (std::size_t r = 0; r < scalars; ++r) acc_s[r] = mul_add(av, T(widen(brow[col_s[r]])), acc_s[r]);
    }
    T* crow = c + j0;
    if constexpr (take1) {
        H1 v = acc1;
        if constexpr (Accumulate) v = v + load_lane<H1>(crow);
        store_lane(crow, epilogue(v, i0, j0));
    }
    if constexpr (take2) {
        H2 v = acc2;
        if constexpr (Accumulate) v = v + load_lane<H2>(crow + at2);
        store_lane(crow + at2, epilogue(v, i0, j0 + at2));
    }
    for (std::size_t r = 0; r < scalars; ++r) {
        T v = acc_s[r];
        if constexpr (Accumulate) v = v + crow[at_scalars + r];
        crow[at_scalars + r] = epilogue(v, i0, j0 + at_scalars + r);
    }
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

/// Which depth steps each register block walks: all of them ...
struct every_step {
    all_steps operator()(std::size_t /*i0*/, std::size_t K) const { return {K}; }
};

}  // namespace detail

}  // namespace typenet::kernels
