#pragma once
// One block of the depth across the whole product: every column panel of NV
// vectors (micro-kernels down the rows, then one row-tail block), the columns left
// over in half and quarter vectors and scalars.
#include <cstddef>

#include "../simd.hpp"
#include "micro_kernel.hpp"

namespace typenet::kernels {

namespace detail {

// All rows [0, M) for the columns [j0, j0 + NV*W): full MR blocks, then one tail block.
template <class V, std::size_t MR, std::size_t NV, class ALayout, bool Accumulate, class TA, class BOperand, class T,
          class Epilogue, class StepsOf = every_step>
inline void column_panel(std::size_t M, std::size_t K, const TA* a, std::size_t lda, const BOperand& b, std::size_t j0,
                         T* c, std::size_t ldc, const Epilogue& epilogue, const StepsOf& steps_of = {}) {
    std::size_t i = 0;
    for (; i + MR <= M; i += MR)
        micro_kernel<V, MR, NV, ALayout, Accumulate>(steps_of(i, K), a, lda, i, b, j0, c, ldc, epilogue);
    const std::size_t rest = M - i;
    if (rest == 0) return;
    // The row tail in blocks of 8, 4, 2 and 1 rows (those below MR): four kernels at
    // most instead of one per height, MR - 1, which with 12-row blocks made the test
    // programs' compile time grow by half. The tail is a small part of any product,
    // and blocks of rows do not change what any element sums.
    static_assert(MR <= 16, "column_panel: row tails are split into blocks of at most 8 rows");
    const auto tail_block = [&]<std::size_t H>() {
        if constexpr (H < MR)
            if (rest & H) {
                micro_kernel<V, H, NV, ALayout, Accumulate>(steps_of(i, K), a, lda, i, b, j0, c, ldc, epilogue);
                i += H;
            }
    };
    tail_block.template operator()<8>();
    tail_block.template operator()<4>();
    tail_block.template operator()<2>();
    tail_block.template operator()<1>();
}

// The last Rest (< lane width of V) columns, from j0: in vectors of half, then a quarter
// of V's width where they fill one, the rest as scalars. With AVX-512's 16 floats a
// vector, a 10-wide output (a classifier) or the 8 columns left of 120 would otherwise
// all be scalars (the 84 -> 10 layer ran 2.8x slower than with AVX2's 8-wide vectors).
template <class V, std::size_t MR, std::size_t Rest, class ALayout, bool Accumulate, class TA, class BOperand, class T,
          class Epilogue, class StepsOf>
inline void column_tail(std::size_t M, std::size_t K, const TA* a, std::size_t lda, const BOperand& b, std::size_t j0,
                        T* c, std::size_t ldc, const Epilogue& epilogue, const StepsOf& steps_of) {
    using TB = typename BOperand::value_type;
    if constexpr (Rest > 0 && has_partial_lanes && std::is_same_v<TB, T> && !is_scalar_lane_v<V> &&
                  lane_width<V> == simd_width<T>) {
        // One pass of masked vectors (AVX-512). The MLP's 128 -> 10 layer at batch 256
        // took 6 % of a batch of inference as an 8-lane pass and a pass of two scalars.
        column_panel<partial_lane<V, Rest>, MR, 1, ALayout, Accumulate>(M, K, a, lda, b, j0, c, ldc, epilogue,
                                                                        steps_of);
    } else if constexpr (Rest > 0) {
        using H = half_lane_t<V>;
        constexpr std::size_t HW = lane_width<H>;
        if constexpr (is_scalar_lane_v<H>) {
            column_panel<H, MR, Rest, ALayout, Accumulate>(M, K, a, lda, b, j0, c, ldc, epilogue, steps_of);
        } else if constexpr (Rest >= HW) {
            column_panel<H, MR, 1, ALayout, Accumulate>(M, K, a, lda, b, j0, c, ldc, epilogue, steps_of);
            column_tail<H, MR, Rest - HW, ALayout, Accumulate>(M, K, a, lda, b, j0 + HW, c, ldc, epilogue, steps_of);
        } else {
            column_tail<H, MR, Rest, ALayout, Accumulate>(M, K, a, lda, b, j0, c, ldc, epilogue, steps_of);
        }
    }
}

// One block of the K dimension: all column panels, all rows, with register
// blocks of MR rows x NV vectors.
template <std::size_t N, class ALayout, bool Accumulate, std::size_t MR, std::size_t NV, class TA, class BOperand,
          class T, class Epilogue, class StepsOf = every_step>
inline void gemm_block(std::size_t M, std::size_t K, const TA* a, std::size_t lda, const BOperand& b, T* c,
                       std::size_t ldc, const Epilogue& epilogue, const StepsOf& steps_of = {}) {
    using V = simd<T>;
    constexpr std::size_t W = V::size;
    constexpr std::size_t panel = NV * W;
    constexpr std::size_t full_panels = N / panel;
    constexpr std::size_t tail_vectors = (N % panel) / W;
    constexpr std::size_t tail_scalars = N % W;

    for (std::size_t jp = 0; jp < full_panels; ++jp)
        column_panel<V, MR, NV, ALayout, Accumulate>(M, K, a, lda, b, jp * panel, c, ldc, epilogue, steps_of);
    if constexpr (tail_vectors > 0)
        column_panel<V, MR, tail_vectors, ALayout, Accumulate>(M, K, a, lda, b, full_panels * panel, c, ldc, epilogue,
                                                               steps_of);
    if constexpr (MR == 1 && tail_scalars > 0) {
        for (std::size_t i = 0; i < M; ++i)
            one_row_tail<V, tail_scalars, ALayout, Accumulate>(steps_of(i, K), a, lda, i, b, N - tail_scalars,
                                                               c + i * ldc, epilogue);
    } else {
        column_tail<V, MR, tail_scalars, ALayout, Accumulate>(M, K, a, lda, b, N - tail_scalars, c, ldc, epilogue,
                                                              steps_of);
    }
}

}  // namespace detail

}  // namespace typenet::kernels
