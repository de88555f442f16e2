#pragma once
// Register-blocked matrix product with a fused epilogue.
//
//   C[M x N] (=|+=) epilogue( A[M x K] * B[K x N] )
//
// C is row-major; B is row-major or, through an operand (row_major_operand; the
// image patches of im2col.hpp), any layout whose vectors are consecutive values;
// A is row-major or transposed (A(i,p) = a[p*lda + i]), which covers the three
// products of a dense layer without copies:
//   forward   Y  = X  * W        (A = X,   row-major)
//   weights   dW = X^T * dZ      (A = X,   transposed)
//   inputs    dX = dZ * W^T      (B = W^T, transposed once into scratch)
// N is a compile-time constant so every column tail is resolved at compile time.
// The micro-kernel keeps an MR x (NV * simd width) block of C in registers while
// it walks K, and applies the epilogue (bias, activation) to those registers
// before the single store: that is the fusion of dense+activation.
// An epilogue is called as epilogue(lane, row, first_column) and returns the lane to store.
//
// A and B may be stored as bfloat16 (weights of the reduced-precision inference
// path): they are widened to C's type as they are loaded, and the sums stay in it.
// A bfloat16 B must be laid out by interleave_bfloat16 (simd.hpp), which lets
// the kernel widen two vectors from one load.
//
// gemm_skipping_zeros is the same product for an A with many zeros (image data):
// each register block walks only the depth steps where its rows of A are not all zero.
//
// The parts, each in kernels/gemm/: operands.hpp (how A and B are read),
// block_sizes.hpp (register and depth blocks), micro_kernel.hpp, panels.hpp (one depth
// block across the columns), nonzero_steps.hpp and zero_skipping.hpp (the skipping
// product), depth_blocks.hpp (the whole depth), row_pairs.hpp (AVX-512's pairs of rows);
// this header chooses among them. Measurements behind the choices: docs/gemm.md.
#include <cstddef>
#include <type_traits>

#include "gemm/block_sizes.hpp"
#include "gemm/depth_blocks.hpp"
#include "gemm/operands.hpp"
#include "gemm/row_pairs.hpp"

namespace typenet::kernels {

namespace detail {

// gemm and gemm_skipping_zeros.
template <std::size_t N, class ALayout, bool Accumulate, bool SkipZeros, class TA, class BOperand, class T,
          class Epilogue>
inline void gemm(std::size_t M, std::size_t K, const TA* a, std::size_t lda, const BOperand& b, T* c, std::size_t ldc,
                 const Epilogue& epilogue) {
    using TB = typename BOperand::value_type;
    // Wide products that skip zeros run in pairs of rows where they can, a single row too:
    // its depth blocks and sums are then those it has in any batch.
    if constexpr (SkipZeros && std::is_same_v<ALayout, row_major> && runs_in_row_pairs<N, T, TB>) {
        gemm_row_pairs_skipping_zeros<N, Accumulate>(M, K, a, lda, b, c, ldc, epilogue);
        return;
    }
    // One row (inference, a forward product): wide register blocks. Only forward
    // products take this path, which keeps the extra instantiations few.
    if constexpr (std::is_same_v<ALayout, row_major> && !Accumulate) {
        if (M == 1) {
            gemm_in_depth_blocks<N, ALayout, false, 1, gemv_vectors_per_block, SkipZeros>(M, K, a, lda, b, c, ldc,
                                                                                          epilogue);
            return;
        }
    }
    using block = register_block<T, N>;
    gemm_in_depth_blocks<N, ALayout, Accumulate, block_rows_for<ALayout, block>(), block::vectors, SkipZeros>(
        M, K, a, lda, b, c, ldc, epilogue);
}

}  // namespace detail

/// C[M x N] (=|+=) epilogue(A[M x K] * B[K x N]) with B given as an operand (row_major_operand, or
/// one that reads B in place); see the file comment.
template <std::size_t N, class ALayout = row_major, bool Accumulate = false, class TA, class BOperand, class T,
          class Epilogue = no_epilogue>
requires requires { typename BOperand::value_type; }
inline void gemm(std::size_t M, std::size_t K, const TA* a, std::size_t lda, const BOperand& b, T* c, std::size_t ldc,
                 const Epilogue& epilogue = {}) {
    detail::gemm<N, ALayout, Accumulate, false>(M, K, a, lda, b, c, ldc, epilogue);
}

/// gemm (B row-major) that skips, for each register block of rows, the depth steps
/// at which those rows of A are all zero. The result is gemm's (a zero times a
/// finite b adds nothing; only the sign of a zero sum may differ). Worth it when A
/// is image data with zero backgrounds. On Fashion-MNIST, in the weight gradient
/// X^T dZ of a first layer, 31 % of the steps of 6-pixel blocks have all six pixels
/// zero; in its forward product X W, 16 % of the steps of 6-sample blocks, a third of
/// those of 2-sample blocks (which row-major products 128 columns wide take on AVX-512:
/// detail::runs_in_row_pairs; their depth blocks are their own, so their values are
/// gemm's to rounding), and half the steps of one sample. Listing the steps takes a
/// load per step and row block (transposed A) or per eight steps and row (row-major A),
/// shared by all column panels; where fewer than one step in eight would be skipped
/// (inputs without zeros), the plain product runs instead and only the listing of the
/// first rows is lost.
template <std::size_t N, class ALayout = row_major, bool Accumulate = false, class TA, class TB, class T,
          class Epilogue = no_epilogue>
inline void gemm_skipping_zeros(std::size_t M, std::size_t K, const TA* a, std::size_t lda, const TB* b,
                                std::size_t ldb, T* c, std::size_t ldc, const Epilogue& epilogue = {}) {
    detail::gemm<N, ALayout, Accumulate, true>(M, K, a, lda, row_major_operand<TB>{b, ldb}, c, ldc, epilogue);
}

/// C[M x N] (=|+=) epilogue(A[M x K] * B[K x N]) with B row-major (leading dimension ldb).
template <std::size_t N, class ALayout = row_major, bool Accumulate = false, class TA, class TB, class T,
          class Epilogue = no_epilogue>
inline void gemm(std::size_t M, std::size_t K, const TA* a, std::size_t lda, const TB* b, std::size_t ldb, T* c,
                 std::size_t ldc, const Epilogue& epilogue = {}) {
    gemm<N, ALayout, Accumulate>(M, K, a, lda, row_major_operand<TB>{b, ldb}, c, ldc, epilogue);
}
}  // namespace typenet::kernels
