#pragma once
// Unfolding image patches into matrices, so a convolution becomes one GEMM.
//
// For an input of C x H x W, a K x K kernel, stride S and zero padding P, with
// Q = C*K*K patch values and N = OH*OW output positions:
//   columns  [Q][N]  column n is the patch under output position n  (forward: Y = W^T * columns)
//   fold     adds a [Q][N] matrix back onto the input positions      (input gradient; col2im)
//   patches_of  the columns read in place, without copying, where the shapes allow
// Every size is a template argument, so the loops are bounded at compile time.
#include <array>
#include <cstddef>

#include "simd.hpp"

namespace typenet::kernels {

template <std::size_t C, std::size_t H, std::size_t W, std::size_t K, std::size_t S, std::size_t P>
struct convolution_geometry {
    static constexpr std::size_t out_h = (H + 2 * P - K) / S + 1;
    static constexpr std::size_t out_w = (W + 2 * P - K) / S + 1;
    static constexpr std::size_t patch = C * K * K;          // Q
    static constexpr std::size_t positions = out_h * out_w;  // N

    /// Input coordinate of kernel offset k at output coordinate o (negative in the padding).
    static constexpr std::ptrdiff_t source(std::size_t o, std::size_t k) {
        return static_cast<std::ptrdiff_t>(o * S + k) - static_cast<std::ptrdiff_t>(P);
    }

    /// The output coordinates [first, last) whose source for kernel offset k lies
    /// inside [0, extent). Loops over that range need no bounds test per element
    /// (with a per-element test there, g++ 12 -O3 produced wrong columns that -O1
    /// and UBSan builds did not).
    static constexpr std::size_t first_inside(std::size_t k) { return k >= P ? 0 : (P - k + S - 1) / S; }
    static constexpr std::size_t last_inside(std::size_t k, std::size_t extent, std::size_t out) {
        // source(o, k) < extent  <=>  o * S < extent + P - k
        if (k >= extent + P) return 0;
        const std::size_t bound = extent + P - k;
        const std::size_t last = (bound + S - 1) / S;
        return last < out ? last : out;
    }

    /// Without padding and at stride 1 the columns are the image itself, shifted: every
    /// way of reading them in place below needs it.
    static constexpr bool unpadded_unit_stride = P == 0 && S == 1;
    /// There, output position n = (oy, ox) reads every patch row at oy * W + ox from
    /// that row's offset.
    static constexpr std::size_t image_offset(std::size_t n) { return n / out_w * W + n % out_w; }

    /// Whether the columns can be read in place from the image (patches_of) by kernels
    /// that load `width` consecutive columns at a time: the positions of one output row
    /// are consecutive in every input row, so a vector that stays within one output
    /// row is one load from the image. Where output rows are as wide as the input's (a
    /// 1 x 1 kernel), position n is at image offset n and any vector is one load, whatever
    /// the width (7 x 7 maps in 16-float vectors).
    template <std::size_t width>
    static constexpr bool reads_in_place = unpadded_unit_stride && (out_w % width == 0 || out_w == W);

    /// Offset in the image of patch row q = (c, ki, kj) at output position 0.
    static constexpr std::array<std::size_t, patch> patch_offsets = [] {
        std::array<std::size_t, patch> offsets{};
        for (std::size_t c = 0; c < C; ++c)
            for (std::size_t ki = 0; ki < K; ++ki)
                for (std::size_t kj = 0; kj < K; ++kj) offsets[(c * K + ki) * K + kj] = (c * H + ki) * W + kj;
        return offsets;
    }();

    /// The columns matrix of image x, read in place: a GEMM operand (kernels/gemm.hpp,
    /// row_major_operand) and a row-products operand. Over the output positions [Q][N]
    /// (Wide = false; only where reads_in_place holds for the width the kernel loads),
    /// or over the wide positions [Q][wide_positions] described below (Wide = true).
    template <class T, bool Wide>
    struct patch_operand {
        using value_type = T;
        const T* x;
        const std::size_t* offsets;
        const T* row(std::size_t q) const { return x + offsets[q]; }
        /// Output position n at image_offset(n) from the row's start; wide position j at j.
        static constexpr std::size_t column(std::size_t n) { return Wide ? n : image_offset(n); }
        patch_operand from_row(std::size_t q0) const { return {x, offsets + q0}; }
    };
    template <class T>
    static patch_operand<T, false> patches_of(const T* x) {
        return {x, patch_offsets.data()};
    }

    /// The columns read in place as the A operand of a GEMM (kernels/gemm.hpp, which
    /// takes A through a layout): A(q, n) = columns[q][n], patch rows q by output
    /// positions n, so that the product walks the positions as its depth. A block's
    /// rows q sit at their patch offsets, found from the table once per block and
    /// step. For a convolution's weight gradient dW[Q][F] += columns dZ^T without
    /// copying the columns first: in LeNet's second convolution that copy took 70-110 us
    /// of the backward pass's 235-290 a batch. Stride 1 and no padding only. The depth
    /// (N) in one block (whole_depth), since a block starting at position p0 would be
    /// found by shifting the image only where p0 starts an output row.
    struct patch_rows {
        static constexpr std::size_t rows = patch;  ///< the GEMM fits its register blocks to them (gemm.hpp)
        static constexpr bool whole_depth = true;
        template <class T>
        struct step_of_rows {
            const T* at;            ///< the image at position p's offset (patch row 0's value at p)
            std::size_t first_row;  ///< the block's first patch row
        };
        template <class T>
        static step_of_rows<T> step(const T* x, std::size_t, std::size_t i0, std::size_t p) {
            return {x + image_offset(p), i0};
        }
        template <class T>
        static auto in_step(step_of_rows<T> s, std::size_t, std::size_t r) {
            return ::typenet::widen(s.at[patch_offsets[s.first_row + r]]);  // not the member widen below
        }
    };

    /// The columns' transpose read in place as the A operand of a GEMM: A(n, q) =
    /// columns[q][n], output positions n by patch rows q, so that the product
    /// Y^T[N][F] = A * W[Q][F] walks the patch as its depth, with the filters as its
    /// columns: a forward pass whose output rows are not whole vectors (LeNet's second
    /// convolution: 8 wide, 16 filters) without copying its columns. Register blocks
    /// are whole output rows (block_rows), so row r of a block is at a fixed offset from
    /// its first, (r / out_w) * W + r % out_w, known at compile time, and each step adds
    /// patch row q's offset from the table: the broadcasts are loads from one pointer.
    /// Stride 1 and no padding only (as patch_rows); the depth (Q) in one block
    /// (whole_depth), since the table is indexed from the product's first step.
    struct position_rows {
        static constexpr bool whole_depth = true;
        /// The rows of the GEMM's register blocks, at most max_rows: the most whole output
        /// rows that fit and divide the output's height (so no block is a tail); 0 if not one fits.
        template <std::size_t max_rows>
        static constexpr std::size_t block_rows = [] {
            for (std::size_t k = out_h; k >= 1; --k)
                if (out_h % k == 0 && k * out_w <= max_rows) return k * out_w;
            return std::size_t{0};
        }();
        template <class T>
        static const T* step(const T* x, std::size_t, std::size_t n0, std::size_t q) {
            return x + patch_offsets[q] + image_offset(n0);  // n0 starts an output row: blocks are whole rows
        }
        template <class T>
        static auto in_step(const T* at, std::size_t, std::size_t r) {
            return ::typenet::widen(at[image_offset(r)]);  // from the row's start, as n0 is one
        }
    };

    /// "Wide" positions, for kernels whose vectors would cross output rows (LeNet's
    /// 24-wide first convolution in 16-float AVX-512 vectors): without padding and at
    /// stride 1, position n = oy * W + ox runs over whole input rows, ox < W rather
    /// than ox < out_w. Patch row q then reads the image from offset q on, every
    /// vector is one load from the image, and a product over the wide positions costs
    /// W / out_w times the work (28 / 24 for LeNet's first convolution) but no copy of
    /// the columns (58 KB a sample there, more than L1). The positions with ox >=
    /// out_w are not outputs: forward drops them (compact), backward gives them zero
    /// gradients (widen). The last row stops at out_w, so no read passes the image.
    static constexpr std::size_t wide_positions = (out_h - 1) * W + out_w;

    /// The columns over wide positions, read in place (column j is position j, so any
    /// vector is consecutive values).
    template <class T>
    static patch_operand<T, true> wide_patches_of(const T* x) {
        return {x, patch_offsets.data()};
    }

    /// out[m][N] = the output positions of wide[m][wide_positions], for `maps` maps.
    template <class T>
    static void compact(const T* wide, T* out, std::size_t maps) {
        for (std::size_t m = 0; m < maps; ++m)
            for (std::size_t oy = 0; oy < out_h; ++oy)
                for (std::size_t ox = 0; ox < out_w; ++ox)
                    out[(m * out_h + oy) * out_w + ox] = wide[m * wide_positions + oy * W + ox];
    }
    /// wide[m][wide_positions] = g[m][N] at the output positions and 0 between them.
    template <class T>
    static void widen(const T* g, T* wide, std::size_t maps) {
        for (std::size_t m = 0; m < maps; ++m)
            for (std::size_t oy = 0; oy < out_h; ++oy) {
                T* row = wide + m * wide_positions + oy * W;
                for (std::size_t ox = 0; ox < out_w; ++ox) row[ox] = g[(m * out_h + oy) * out_w + ox];
                if (oy + 1 < out_h)
                    for (std::size_t ox = out_w; ox < W; ++ox) row[ox] = T(0);
            }
    }

    template <class T>
    static void columns(const T* x, T* cols) {
        if constexpr (unpadded_unit_stride) {
            // Every patch row is whole runs of out_w consecutive pixels, copied in
            // vectors (LeNet's second convolution: 94 -> 54 us a batch of 64).
            for (std::size_t q = 0; q < patch; ++q)
                for (std::size_t oy = 0; oy < out_h; ++oy) {
                    copy_run<out_w>(cols + q * positions + oy * out_w, x + patch_offsets[q] + oy * W);
                }
            return;
        }
        for (std::size_t c = 0; c < C; ++c)
            for (std::size_t ki = 0; ki < K; ++ki)
                for (std::size_t kj = 0; kj < K; ++kj) {
                    T* row = cols + ((c * K + ki) * K + kj) * positions;
                    const std::size_t x_lo = first_inside(kj), x_hi = last_inside(kj, W, out_w);
                    for (std::size_t oy = 0; oy < out_h; ++oy) {
                        T* dst = row + oy * out_w;
                        const std::ptrdiff_t iy = source(oy, ki);
                        if (iy < 0 || iy >= static_cast<std::ptrdiff_t>(H) || x_lo >= x_hi) {
                            for (std::size_t ox = 0; ox < out_w; ++ox) dst[ox] = T(0);
                            continue;
                        }
                        const T* src = x + (c * H + static_cast<std::size_t>(iy)) * W;
                        for (std::size_t ox = 0; ox < x_lo; ++ox) dst[ox] = T(0);
                        for (std::size_t ox = x_lo; ox < x_hi; ++ox) dst[ox] = src[ox * S + kj - P];
                        for (std::size_t ox = x_hi; ox < out_w; ++ox) dst[ox] = T(0);
                    }
                }
    }

    /// dx (zeroed here) += the columns matrix folded back onto the image.
    template <class T>
    static void fold(const T* cols, T* dx) {
        for (std::size_t i = 0; i < C * H * W; ++i) dx[i] = T(0);
        if constexpr (unpadded_unit_stride) {
            // Runs of out_w values added onto image rows. Horizontal offset kj outermost:
            // patch rows q and q + 1 (kj and kj + 1) add onto the same image row shifted
            // by one value, and a vector load of what the last iteration just stored, at
            // another alignment, cannot take it from the store buffer and waits for it.
            for (std::size_t kj = 0; kj < K; ++kj)
                for (std::size_t c = 0; c < C; ++c)
                    for (std::size_t ki = 0; ki < K; ++ki) {
                        const T* row = cols + ((c * K + ki) * K + kj) * positions;
                        for (std::size_t oy = 0; oy < out_h; ++oy)
                            add_run<out_w>(dx + (c * H + oy + ki) * W + kj, row + oy * out_w);
                    }
            return;
        }
        for (std::size_t c = 0; c < C; ++c)
            for (std::size_t ki = 0; ki < K; ++ki)
                for (std::size_t kj = 0; kj < K; ++kj) {
                    const T* row = cols + ((c * K + ki) * K + kj) * positions;
                    const std::size_t x_lo = first_inside(kj), x_hi = last_inside(kj, W, out_w);
                    for (std::size_t oy = 0; oy < out_h; ++oy) {
                        const std::ptrdiff_t iy = source(oy, ki);
                        if (iy < 0 || iy >= static_cast<std::ptrdiff_t>(H)) continue;
                        T* dst = dx + (c * H + static_cast<std::size_t>(iy)) * W;
                        for (std::size_t ox = x_lo; ox < x_hi; ++ox) dst[ox * S + kj - P] += row[oy * out_w + ox];
                    }
                }
    }
};

}  // namespace typenet::kernels
