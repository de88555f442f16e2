#pragma once
// Wide zero-skipping products on AVX-512 in pairs of rows. Blocks of six rows skip
// a step only where all six are zero (a sixth of the steps of Fashion-MNIST images in
// the first layer); two rows are both zero at a third of the steps. A block of 2 rows
// x 8 vectors (16 accumulators) walks only those, and needs its block of B in L1 to
// keep up with its FMAs (8 loads of B for 16 FMAs): the depth goes in blocks of at
// most pair_depth_block steps (80 x 128 floats, 40 KB of a 48 KB L1) and the rows in
// chunks of pair_chunk_rows, each chunk through every depth block while the next
// chunk's rows are prefetched. The measurements that chose these sizes: docs/gemm.md.
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "../simd.hpp"
#include "block_sizes.hpp"
#include "depth_blocks.hpp"
#include "micro_kernel.hpp"
#include "nonzero_steps.hpp"
#include "operands.hpp"

namespace typenet::kernels {

namespace detail {

inline constexpr std::size_t pair_depth_block = 80;
inline constexpr std::size_t pair_chunk_rows = 32;
inline constexpr std::size_t pair_vectors = 8;
/// Rows whose pairs decide whether the zeros are worth skipping (see gemm_row_pairs_skipping_zeros).
inline constexpr std::size_t pairs_sampled_rows = 8;

/// Whether gemm_skipping_zeros of N columns of T (B stored as TB) runs in pairs of rows:
/// AVX-512's 32 registers (16 accumulators, 8 vectors of B, two broadcasts), B in T, and
/// N in whole panels of pair_vectors vectors.
template <std::size_t N, class T, class TB>
inline constexpr bool runs_in_row_pairs = vector_registers == 32 &&
                                          std::is_same_v<T, TB>&& N % (pair_vectors * simd_width<T>) == 0;

/// Prefetches lines [from, to) of rows [0, rows) of A (row-major, K values a row), counted
/// row by row: the next chunk's rows, a few lines per register block of this one.
template <class TA>
inline void prefetch_rows(const TA* a, std::size_t lda, std::size_t K, std::size_t rows, std::size_t from,
                          std::size_t to) {
    constexpr std::size_t line = 64 / sizeof(TA);
    const std::size_t lines_per_row = (K + line - 1) / line,
                      end = to < rows * lines_per_row ? to : rows * lines_per_row;
    // One division a call: with one a line, the address took a sixteenth of the MLP's first layer.
    std::size_t row = from / lines_per_row, line_in_row = from % lines_per_row;
    for (std::size_t l = from; l < end; ++l) {
        __builtin_prefetch(a + row * lda + line_in_row * line, 0, 3);
        if (++line_in_row == lines_per_row) line_in_row = 0, ++row;
    }
}

// One depth block [k0, k0 + depth) of the rows in [i0, i0 + rows): each pair (and an odd
// last row alone) lists the steps where it is not all zero and walks them in every panel.
template <std::size_t N, bool Accumulate, class TA, class TB, class T, class Epilogue>
inline void row_pairs_depth_block(std::size_t i0, std::size_t rows, std::size_t k0, std::size_t depth, const TA* a,
                                  std::size_t lda, const row_major_operand<TB>& b, T* c, std::size_t ldc,
                                  const Epilogue& epilogue, const TA* next, std::size_t next_rows, std::size_t K,
                                  std::size_t& prefetched, std::size_t prefetch_step) {
    using V = simd<T>;
    constexpr std::size_t panel = pair_vectors * simd_width<T>;
    const TA* ak = row_major::from_column(a, lda, k0);
    const auto bk = b.from_row(k0);
    std::uint16_t steps[pair_depth_block + 8];  // nonzero_steps writes eight at a time
    for (std::size_t i = i0; i < i0 + rows; i += 2) {
        if (next != nullptr) {
            prefetch_rows(next, lda, K, next_rows, prefetched, prefetched + prefetch_step);
            prefetched += prefetch_step;
        }
        const std::size_t height = i0 + rows - i < 2 ? 1 : 2;
        const listed_steps listed{steps, nonzero_steps<row_major>(ak, lda, i, height, depth, steps)};
        for (std::size_t j0 = 0; j0 < N; j0 += panel) {
            if (height == 2)
                micro_kernel<V, 2, pair_vectors, row_major, Accumulate>(listed, ak, lda, i, bk, j0, c, ldc, epilogue);
            else
                micro_kernel<V, 1, pair_vectors, row_major, Accumulate>(listed, ak, lda, i, bk, j0, c, ldc, epilogue);
        }
    }
}

/// Whether the pairs of rows [0, rows), in depth blocks of `depth`, skip at least one step in eight.
template <class TA>
inline bool pairs_skip_enough(const TA* a, std::size_t lda, std::size_t rows, std::size_t K, std::size_t depth) {
    std::uint16_t steps[pair_depth_block + 8];
    std::size_t kept = 0, all = 0;
    for (std::size_t i = 0; i < rows; i += 2) {
        const std::size_t height = rows - i < 2 ? 1 : 2;
        for (std::size_t k0 = 0; k0 < K; k0 += depth) {
            const std::size_t d = K - k0 < depth ? K - k0 : depth;
            kept += nonzero_steps<row_major>(a + k0, lda, i, height, d, steps);
            all += d;
        }
    }
    return 8 * kept <= 7 * all;
}

template <std::size_t N, bool Accumulate, class TA, class TB, class T, class Epilogue>
inline void gemm_row_pairs_skipping_zeros(std::size_t M, std::size_t K, const TA* a, std::size_t lda,
                                          const row_major_operand<TB>& b, T* c, std::size_t ldc,
                                          const Epilogue& epilogue) {
    // Depth blocks of whole groups of eight steps (nonzero_steps lists eight at a time),
    // as equal as that allows: 784 = 9 x 80 + 64.
    const std::size_t groups = (K + 7) / 8, blocks = (groups + pair_depth_block / 8 - 1) / (pair_depth_block / 8);
    const std::size_t depth = 8 * ((groups + blocks - 1) / blocks);
    // Inputs without zeros worth skipping (the pairs of the first rows would skip fewer
    // than one step in eight): the usual 6-row blocks, over the same depth blocks and
    // without lists. A dense 784 -> 128 first layer at batch 64 ran at 85 GFLOP/s in
    // pairs, which list every step and hold half the rows of a 6-row block. Each element
    // still sums its non-zero products in the same order, plus zeros: the outputs are
    // those of the pairs.
    if (M > 1 && !pairs_skip_enough(a, lda, M < pairs_sampled_rows ? M : pairs_sampled_rows, K, depth)) {
        using block = register_block<T, N>;
        over_depth_blocks<Accumulate>(
            K, depth,
            [&]<bool Acc, class E>(std::size_t k0, std::size_t d, const E& e) {
                gemm_block<N, row_major, Acc, block::rows, block::vectors>(M, d, a + k0, lda, b.from_row(k0), c, ldc,
                                                                           e);
            },
            epilogue);
        return;
    }
    for (std::size_t i0 = 0; i0 < M; i0 += pair_chunk_rows) {
        const std::size_t rows = M - i0 < pair_chunk_rows ? M - i0 : pair_chunk_rows;
        const std::size_t next_rows = M - i0 - rows < pair_chunk_rows ? M - i0 - rows : pair_chunk_rows;
        const TA* next = next_rows > 0 ? a + (i0 + rows) * lda : nullptr;
        // The next chunk's lines, spread over this chunk's register blocks.
        const std::size_t lines = next_rows * ((K * sizeof(TA) + 63) / 64);
        const std::size_t calls = blocks * ((rows + 1) / 2);
        const std::size_t step = (lines + calls - 1) / calls;
        std::size_t prefetched = 0;
        over_depth_blocks<Accumulate>(
            K, depth,
            [&]<bool Acc, class E>(std::size_t k0, std::size_t d, const E& e) {
                row_pairs_depth_block<N, Acc>(i0, rows, k0, d, a, lda, b, c, ldc, e, next, next_rows, K, prefetched,
                                              step);
            },
            epilogue);
    }
}

}  // namespace detail

}  // namespace typenet::kernels
