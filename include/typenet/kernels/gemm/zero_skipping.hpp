#pragma once
// A depth block that skips, for each register block of rows, the depth steps at
// which those rows of A are all zero (gemm_skipping_zeros); where too few steps
// would be skipped, the plain block runs instead.
#include <cstddef>
#include <cstdint>

#include "block_sizes.hpp"
#include "nonzero_steps.hpp"
#include "panels.hpp"

namespace typenet::kernels {

namespace detail {

/// An epilogue applied to rows that start at row `first` of the whole product.
template <class Epilogue>
struct row_offset_epilogue {
    const Epilogue& epilogue;
    std::size_t first;
    template <class V>
    V operator()(V acc, std::size_t row, std::size_t column) const {
        return epilogue(acc, first + row, column);
    }
};

/// ... or, for the register block of rows starting at i0, the steps listed for it.
template <std::size_t MR>
struct listed_steps_of {
    const std::uint16_t (*lists)[gemm_depth_block];
    const std::size_t* counts;
    listed_steps operator()(std::size_t i0, std::size_t /*K*/) const { return {lists[i0 / MR], counts[i0 / MR]}; }
};

/// Register blocks of rows whose lists of depth steps are kept at once.
inline constexpr std::size_t listed_row_blocks = 16;

/// Lists the depth steps of the register blocks in rows [i0, i0 + rows) (see
/// nonzero_steps) into lists and counts; returns how many steps they keep in all.
template <class ALayout, std::size_t MR, class TA>
inline std::size_t list_nonzero_steps(const TA* a, std::size_t lda, std::size_t i0, std::size_t rows, std::size_t K,
                                      std::uint16_t (*lists)[gemm_depth_block], std::size_t* counts) {
    std::size_t kept = 0;
    for (std::size_t r = 0, block = 0; r < rows; r += MR, ++block) {
        counts[block] = nonzero_steps<ALayout>(a, lda, i0 + r, rows - r < MR ? rows - r : MR, K, lists[block]);
        kept += counts[block];
    }
    return kept;
}

// gemm_block, skipping the depth steps at which a register block's rows of A are
// all zero. Rows go in chunks of listed_row_blocks register blocks: the steps of
// each block are listed once, then gemm_block walks the chunk panel by panel as
// usual, each block along its own list. Returns false, having done nothing, when
// the first chunk would skip less than one step in eight (inputs without zeros
// worth skipping): the plain product, which walks its steps without an index, is
// then faster. Never inlined: inlined next to the plain product, the two register
// blocks compete for registers and g++ spills an accumulator (44 against
// 81 GFLOP/s measured).
template <std::size_t N, class ALayout, bool Accumulate, std::size_t MR, std::size_t NV, class TA, class BOperand,
          class T, class Epilogue>
[[gnu::noinline]] bool gemm_block_skipping_zeros(std::size_t M, std::size_t K, const TA* a, std::size_t lda,
                                                 const BOperand& b, T* c, std::size_t ldc, const Epilogue& epilogue) {
    constexpr std::size_t chunk = listed_row_blocks * MR;
    std::uint16_t lists[listed_row_blocks][gemm_depth_block];
    std::size_t counts[listed_row_blocks];
    for (std::size_t i0 = 0; i0 < M; i0 += chunk) {
        const std::size_t rows = M - i0 < chunk ? M - i0 : chunk;
        const std::size_t kept = list_nonzero_steps<ALayout, MR>(a, lda, i0, rows, K, lists, counts);
        if (i0 == 0 && 8 * kept > 7 * ((rows + MR - 1) / MR) * K) return false;
        gemm_block<N, ALayout, Accumulate, MR, NV>(rows, K, ALayout::from_row(a, lda, i0), lda, b, c + i0 * ldc, ldc,
                                                   row_offset_epilogue<Epilogue>{epilogue, i0},
                                                   listed_steps_of<MR>{lists, counts});
    }
    return true;
}

template <std::size_t N, class ALayout, bool Accumulate, std::size_t MR, std::size_t NV, bool SkipZeros, class TA,
          class BOperand, class T, class Epilogue>
inline void depth_block(std::size_t M, std::size_t K, const TA* a, std::size_t lda, const BOperand& b, T* c,
                        std::size_t ldc, const Epilogue& epilogue) {
    if constexpr (SkipZeros)
        if (gemm_block_skipping_zeros<N, ALayout, Accumulate, MR, NV>(M, K, a, lda, b, c, ldc, epilogue)) return;
    gemm_block<N, ALayout, Accumulate, MR, NV>(M, K, a, lda, b, c, ldc, epilogue);
}

}  // namespace detail

}  // namespace typenet::kernels
