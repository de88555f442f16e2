#pragma once
// The product over its whole depth: the rows of the register block fitted to the
// A layout, and the depth in blocks of equal size so that each element of C is the
// same sequence of operations whatever the batch (a sample's outputs do not depend
// on the batch it is in).
#include <cstddef>

#include "block_sizes.hpp"
#include "operands.hpp"
#include "zero_skipping.hpp"

namespace typenet::kernels {

namespace detail {

// The rows of the register block for the usual Block (register_block). An A layout
// may fit them to its rows: one that needs blocks of its own shape says how many
// (im2col.hpp's position_rows: whole output rows, up to all the accumulators); one that
// fixes the number of rows at compile time (patch_rows: a convolution's patch) gets the
// largest block down to two thirds of the usual rows that divides them, so that no
// tail blocks of few rows reread B (LeNet's 150 patch rows go in blocks of 10, not
// 12 + 4 + 2; docs/gemm.md has the times).
// Such blocks are at most 16 rows: column_panel's row tails (which these layouts never
// have) are compiled for those.
template <class Block>
inline constexpr std::size_t layout_rows_limit = Block::max_rows < 16 ? Block::max_rows : 16;
template <class ALayout, class Block>
inline constexpr bool block_rows_fit = ALayout::template block_rows<layout_rows_limit<Block>> > 0;

template <class ALayout, class Block>
constexpr std::size_t block_rows_for() {
    if constexpr (requires { ALayout::template block_rows<Block::max_rows>; }) {
        static_assert(block_rows_fit<ALayout, Block>, "the layout's register blocks do not fit");
        return ALayout::template block_rows<layout_rows_limit<Block>>;
    } else if constexpr (requires { ALayout::rows; }) {
        for (std::size_t r = Block::rows; 3 * r >= 2 * Block::rows; --r)
            if (ALayout::rows % r == 0) return r;
    }
    return Block::rows;
}

// block.template operator()<Acc>(k0, d, e) for the depth blocks [k0, k0 + d) of K, `depth`
// steps each but the last: the first with Accumulate (as the product asks), the others
// adding to it, and the epilogue e only on the last, when the sums are complete.
template <bool Accumulate, class Block, class Epilogue>
inline void over_depth_blocks(std::size_t K, std::size_t depth, const Block& block, const Epilogue& epilogue) {
    if (K <= depth) {
        block.template operator()<Accumulate>(0, K, epilogue);
        return;
    }
    block.template operator()<Accumulate>(0, depth, no_epilogue{});
    std::size_t k0 = depth;
    for (; k0 + depth < K; k0 += depth) block.template operator()<true>(k0, depth, no_epilogue{});
    block.template operator()<true>(k0, K - k0, epilogue);
}

// The depth in blocks of equal size (784 = 4 x 196 rather than 3 x 256 + 16, whose
// last block would cost a whole pass over C for 16 steps). Every register-block
// shape goes through the same blocks, so each element of C is the same sequence of
// operations whatever M is: a sample's outputs do not depend on the batch it is in.
template <std::size_t N, class ALayout, bool Accumulate, std::size_t MR, std::size_t NV, bool SkipZeros, class TA,
          class BOperand, class T, class Epilogue>
inline void gemm_in_equal_depth_blocks(std::size_t M, std::size_t K, const TA* a, std::size_t lda, const BOperand& b,
                                       T* c, std::size_t ldc, const Epilogue& epilogue) {
    constexpr std::size_t KC = gemm_depth_block;
    const std::size_t blocks = (K + KC - 1) / KC;
    const std::size_t depth = (K + blocks - 1) / blocks;
    over_depth_blocks<Accumulate>(
        K, depth,
        [&]<bool Acc, class E>(std::size_t k0, std::size_t d, const E& e) {
            depth_block<N, ALayout, Acc, MR, NV, SkipZeros>(M, d, ALayout::from_column(a, lda, k0), lda, b.from_row(k0),
                                                            c, ldc, e);
        },
        epilogue);
}

// The product over its depth: in equal blocks (above), or in one for layouts that need it.
template <std::size_t N, class ALayout, bool Accumulate, std::size_t MR, std::size_t NV, bool SkipZeros = false,
          class TA, class BOperand, class T, class Epilogue>
inline void gemm_in_depth_blocks(std::size_t M, std::size_t K, const TA* a, std::size_t lda, const BOperand& b, T* c,
                                 std::size_t ldc, const Epilogue& epilogue) {
    // A layout that finds A(i, p) from the product's first step on (im2col.hpp's patch
    // tables) cannot start a block at another step: it declares whole_depth and gets one.
    constexpr bool whole_depth = requires { ALayout::whole_depth; };
    if (whole_depth || K <= gemm_depth_block)
        depth_block<N, ALayout, Accumulate, MR, NV, SkipZeros>(M, K, a, lda, b, c, ldc, epilogue);
    else if constexpr (!whole_depth)
        gemm_in_equal_depth_blocks<N, ALayout, Accumulate, MR, NV, SkipZeros>(M, K, a, lda, b, c, ldc, epilogue);
}

}  // namespace detail

}  // namespace typenet::kernels
