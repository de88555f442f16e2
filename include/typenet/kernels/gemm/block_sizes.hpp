#pragma once
// The GEMM's block sizes: how deep a block of B is (so it stays in L1), how many
// registers the instruction set has, and from them the register block of C a product
// of N columns keeps while it walks the depth. Why each size is what it is, with the
// measurements behind it: docs/gemm.md.
#include <cstddef>

#include "../simd.hpp"

namespace typenet::kernels {

/// Depth of one K block. A block of B (gemm_depth_block rows of one column panel,
/// 16 KB in float) then stays in L1 while every row block of A passes over it;
/// without blocking, a 784-deep panel strided across a 128-wide weight matrix
/// touches ~100 pages per pass and the kernel runs at half speed.
inline constexpr std::size_t gemm_depth_block = 256;

/// Vector registers of the instruction set the kernels are compiled for: 32 with
/// AVX-512, 16 with AVX2/AVX/SSE on x86-64.
#if XSIMD_WITH_AVX512F
inline constexpr std::size_t vector_registers = 32;
#else
inline constexpr std::size_t vector_registers = 16;
#endif

/// The register block of a product with N columns of T: MR rows x NV vectors of C
/// held as accumulators while the kernel walks the depth. Three quarters of the
/// registers hold accumulators (12 of AVX2's 16, 24 of AVX-512's 32), the rest the
/// vectors of B and a broadcast of A. Blocks are as wide as N allows up to a sixth of
/// the accumulators (2 vectors on AVX2, 4 on AVX-512: fewer broadcasts of A per FMA,
/// while at least six rows share each vector of B), and as tall as the rest allows,
/// at most 12 rows: a narrow product (LeNet's 16 filters are one AVX-512 vector) gets
/// 12 x 1, twelve independent FMA chains, rather than 6 x 1, which waits on the FMA
/// latency.
template <class T, std::size_t N>
struct register_block {
    static constexpr std::size_t accumulators = vector_registers * 3 / 4;
    static constexpr std::size_t full_vectors = N / simd_width<T>;
    static constexpr std::size_t max_vectors = accumulators / 6;
    static constexpr std::size_t vectors = full_vectors == 0            ? 1
                                           : full_vectors < max_vectors ? full_vectors
                                                                        : max_vectors;
    static constexpr std::size_t max_rows = accumulators / vectors;  ///< as many as the accumulators allow
    static constexpr std::size_t rows = max_rows < 12 ? max_rows : 12;
};
/// The usual block (the MLP's 128-wide layers): 6 rows x 2 vectors on AVX2, 6 x 4 on AVX-512.
inline constexpr std::size_t gemm_rows_per_block = register_block<float, 128>::rows;
inline constexpr std::size_t gemm_vectors_per_block = register_block<float, 128>::vectors;

namespace detail {

// A single row (batch-1 inference) gets its own blocking: with one row, a 6x2
// block degenerates to 2 accumulator chains and the kernel waits on FMA latency;
// 8 vectors across give 8 independent chains.
inline constexpr std::size_t gemv_vectors_per_block = 8;

}  // namespace detail

}  // namespace typenet::kernels
