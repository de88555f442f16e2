// The register-blocked GEMM against a naive triple loop, for the layouts and the
// awkward sizes (row tails, column tails of vectors and of scalars) layers produce.
#include <catch2/catch.hpp>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <typenet/kernels/gemm.hpp>
#include <typenet/kernels/transpose.hpp>
#include <typenet/kernels/row_products.hpp>
#include <typenet/kernels/simd.hpp>
#include <typenet/core/random.hpp>

#include "support.hpp"

using test_support::random_values;

using namespace typenet;

namespace {

// C = A * B with A(i,p) = a[i*K+p] (row-major) or a[p*M+i] (transposed).
template <class T>
std::vector<T> naive(std::size_t M, std::size_t K, std::size_t N, const std::vector<T>& a, bool a_transposed,
                     const std::vector<T>& b) {
    std::vector<T> c(M * N);
    for (std::size_t i = 0; i < M; ++i)
        for (std::size_t j = 0; j < N; ++j) {
            double s = 0;
            for (std::size_t p = 0; p < K; ++p) s += double(a_transposed ? a[p * M + i] : a[i * K + p]) * b[p * N + j];
            c[i * N + j] = static_cast<T>(s);
        }
    return c;
}

template <class T>
double max_abs_diff(const std::vector<T>& x, const std::vector<T>& y) {
    double m = 0;
    for (std::size_t i = 0; i < x.size(); ++i) m = std::max(m, std::fabs(double(x[i]) - double(y[i])));
    return m;
}

template <std::size_t N, class T>
void check_sizes(std::size_t M, std::size_t K, double tolerance) {
    const auto a = random_values<T>(M * K, 1 + M + K);
    const auto b = random_values<T>(K * N, 2 + N);
    std::vector<T> c(M * N, T(99));
    kernels::gemm<N>(M, K, a.data(), K, b.data(), N, c.data(), N);
    CHECK(max_abs_diff(c, naive(M, K, N, a, false, b)) < tolerance);

    // A transposed: a holds K x M.
    std::vector<T> ct(M * N, T(99));
    kernels::gemm<N, kernels::transposed>(M, K, a.data(), M, b.data(), N, ct.data(), N);
    CHECK(max_abs_diff(ct, naive(M, K, N, a, true, b)) < tolerance);

    // Accumulate: C += A * B.
    std::vector<T> acc(M * N, T(1));
    kernels::gemm<N, kernels::row_major, true>(M, K, a.data(), K, b.data(), N, acc.data(), N);
    auto expected = naive(M, K, N, a, false, b);
    for (auto& v : expected) v += T(1);
    CHECK(max_abs_diff(acc, expected) < tolerance);
}

}  // namespace

TEST_CASE("the program runs the instruction set it was built for", "[kernels][isa]") {
    // The per-level builds (tests/CMakeLists.txt, "isa LEVEL: ...") pass their level in
    // TYPENET_TEST_ISA: xsimd must have picked that level's vectors, or the build's flags
    // did not reach the kernels. The native build says what it runs.
    const std::string arch = xsimd::default_arch::name();
    const std::size_t floats = xsimd::batch<float>::size;
#ifdef TYPENET_TEST_ISA
    const std::string level = TYPENET_TEST_ISA;
    INFO("built for " << level << "; xsimd runs " << arch << " with " << floats << " floats a vector");
    if (level == "sse2")
        CHECK((arch == "sse2" && floats == 4));
    else if (level == "avx2")
        CHECK((arch == "fma3+avx2" && floats == 8));
    else if (level == "avx512")
        CHECK((arch == "avx512bw" && floats == 16));
    else
        FAIL("unknown level " << level);
#else
    WARN("native build: xsimd runs " << arch << " with " << floats << " floats a vector");
    CHECK(floats >= 4);
#endif
}

TEST_CASE("gemm matches a naive product (float)", "[kernels]") {
    for (std::size_t M : {1, 2, 5, 6, 7, 13, 64}) {
        CAPTURE(M);
        check_sizes<1, float>(M, 3, 1e-5);
        check_sizes<3, float>(M, 17, 1e-5);
        check_sizes<10, float>(M, 128, 1e-4);
        check_sizes<16, float>(M, 1, 1e-6);
        check_sizes<37, float>(M, 33, 1e-5);
        check_sizes<128, float>(M, 784, 1e-3);
        // Column tails in narrower vectors: 24 = 16 + 8 and 12 = 8 + 4 on AVX-512, 8 + 4 on AVX2.
        check_sizes<24, float>(M, 20, 1e-5);
        check_sizes<12, float>(M, 9, 1e-5);
    }
}

// The column tail (on AVX-512 one masked vector, kernels::partial_lane) writes its
// columns and nothing after them: C rows lie ldc > N apart, with guard values between.
template <std::size_t N, class T>
void check_tail_stays_in_its_columns(std::size_t M, std::size_t K) {
    constexpr std::size_t guard = 7;
    constexpr T sentinel = T(-12345);
    const std::size_t ldc = N + guard;
    const auto a = random_values<T>(M * K, 31 + M);
    const auto b = random_values<T>(K * N, 32 + N);
    std::vector<T> c(M * ldc, sentinel);
    kernels::gemm<N, kernels::row_major, false>(M, K, a.data(), K, b.data(), N, c.data(), ldc);
    kernels::gemm<N, kernels::row_major, true>(M, K, a.data(), K, b.data(), N, c.data(), ldc);
    const auto product = naive(M, K, N, a, false, b);
    std::size_t guards_kept = 0;
    double worst = 0;
    for (std::size_t i = 0; i < M; ++i) {
        for (std::size_t j = 0; j < N; ++j)
            worst = std::max(worst, std::fabs(double(c[i * ldc + j]) - 2 * double(product[i * N + j])));
        for (std::size_t j = N; j < ldc; ++j) guards_kept += c[i * ldc + j] == sentinel;
    }
    CAPTURE(M, K, N);
    CHECK(guards_kept == M * guard);
    CHECK(worst < 1e-4);
}

TEST_CASE("gemm's column tails write their columns and nothing past them", "[kernels]") {
    for (std::size_t M : {1, 3, 12, 29}) {
        check_tail_stays_in_its_columns<10, float>(M, 128);
        check_tail_stays_in_its_columns<3, float>(M, 5);
        check_tail_stays_in_its_columns<37, float>(M, 17);
        check_tail_stays_in_its_columns<84, float>(M, 120);
        check_tail_stays_in_its_columns<9, double>(M, 11);
        check_tail_stays_in_its_columns<14, double>(M, 6);
    }
}

TEST_CASE("gemm matches a naive product (double)", "[kernels]") {
    for (std::size_t M : {1, 4, 6, 11}) {
        CAPTURE(M);
        check_sizes<2, double>(M, 5, 1e-12);
        check_sizes<9, double>(M, 31, 1e-12);
        check_sizes<20, double>(M, 64, 1e-12);
        check_sizes<14, double>(M, 7, 1e-12);
    }
}

TEST_CASE("add_run and copy_run handle every length up to a few vectors", "[kernels]") {
    // Whole vectors, then half and quarter vectors, then scalars: each length takes a
    // different mix, and nothing past the run is touched.
    auto check = []<std::size_t n>() {
        CAPTURE(n);
        const auto src = random_values<float>(n + 1, 50 + n);
        auto dst = random_values<float>(n + 1, 90 + n);
        const auto before = dst;
        kernels::add_run<n>(dst.data(), src.data());
        for (std::size_t i = 0; i < n; ++i) CHECK(dst[i] == before[i] + src[i]);
        CHECK(dst[n] == before[n]);
        kernels::copy_run<n>(dst.data(), src.data());
        for (std::size_t i = 0; i < n; ++i) CHECK(dst[i] == src[i]);
        CHECK(dst[n] == before[n]);
    };
    [&]<std::size_t... n>(std::index_sequence<n...>) { (check.template operator()<n + 1>(), ...); }
    (std::make_index_sequence<40>{});
}

namespace {

// A transposed (K x M) with runs of zeros along each step, as an image's background
// gives them: step p zeroes a run of rows whose start and length vary with p, and
// every seventh step is zero throughout. Some -0.0 too: zero, so skipped.
std::vector<float> runs_of_zeros(std::size_t M, std::size_t K, std::uint64_t seed) {
    auto a = random_values<float>(M * K, seed);
    for (std::size_t p = 0; p < K; ++p) {
        const std::size_t start = (p * 5) % (M + 1), length = p % 7 == 0 ? M : (p * 11) % (M + 3);
        for (std::size_t i = start; i < std::min(M, start + length); ++i) a[p * M + i] = (i + p) % 3 ? 0.0f : -0.0f;
    }
    return a;
}

// The same values row-major (M x K): a row is a sample, its zero runs lie along the steps.
std::vector<float> row_major_copy(const std::vector<float>& transposed, std::size_t M, std::size_t K) {
    std::vector<float> a(M * K);
    for (std::size_t p = 0; p < K; ++p)
        for (std::size_t i = 0; i < M; ++i) a[i * K + p] = transposed[p * M + i];
    return a;
}

// gemm_skipping_zeros against gemm on the same operands: equal values (the same
// operations but for additions of exact zeros), and the naive product. Where the
// skipping product runs in pairs of rows (AVX-512, 128-wide), its depth blocks are its
// own: then its values are gemm's to rounding, and each row's are those of the row
// alone, bit for bit (a sample's outputs do not depend on its batch).
template <std::size_t N, class Layout, bool Accumulate>
void check_skipping_zeros(std::size_t M, std::size_t K) {
    constexpr bool is_transposed = std::is_same_v<Layout, kernels::transposed>;
    constexpr bool in_pairs = !is_transposed && kernels::detail::runs_in_row_pairs<N, float, float>;
    CAPTURE(M, K, N, is_transposed, Accumulate, in_pairs);
    const auto a_t = runs_of_zeros(M, K, 11 + M + K);
    auto a = is_transposed ? a_t : row_major_copy(a_t, M, K);
    const std::size_t lda = is_transposed ? M : K;
    const auto b = random_values<float>(K * N, 12 + N);
    // An epilogue that depends on the row, which the skipping path offsets by chunk.
    auto epilogue = []<class V>(V acc, std::size_t row, std::size_t) { return acc + V(float(row % 97)); };
    std::vector<float> expected(M * N, 0.5f), c(M * N, 0.5f);
    kernels::gemm<N, Layout, Accumulate>(M, K, a.data(), lda, b.data(), N, expected.data(), N, epilogue);
    kernels::gemm_skipping_zeros<N, Layout, Accumulate>(M, K, a.data(), lda, b.data(), N, c.data(), N, epilogue);
    std::size_t differing = 0;
    for (std::size_t i = 0; i < M * N; ++i)
        differing +=
            in_pairs ? !(std::abs(c[i] - expected[i]) <= 1e-5f * (1.0f + std::abs(expected[i]))) : c[i] != expected[i];
    CHECK(differing == 0);
    if constexpr (in_pairs) {
        std::size_t differing_alone = 0;
        for (std::size_t i = 0; i < M; ++i) {
            // Row i alone, at row i of the product (the epilogue sees the same row number).
            std::vector<float> alone((i + 1) * N, 0.5f);
            kernels::detail::gemm<N, Layout, Accumulate, true>(
                1, K, a.data() + i * lda, lda, kernels::row_major_operand<float>{b.data(), N}, alone.data() + i * N, N,
                kernels::detail::row_offset_epilogue<decltype(epilogue)>{epilogue, i});
            for (std::size_t j = 0; j < N; ++j) differing_alone += alone[i * N + j] != c[i * N + j];
        }
        CHECK(differing_alone == 0);
    }
    auto product = naive(M, K, N, a, is_transposed, b);
    for (std::size_t i = 0; i < M; ++i)
        for (std::size_t j = 0; j < N; ++j) product[i * N + j] += float(i % 97) + (Accumulate ? 0.5f : 0.0f);
    CHECK(max_abs_diff(c, product) < 1e-3);

    // A NaN in A is not zero: its row of C is NaN, the others are unchanged.
    if (M > 2 && K > 1) {
        a[is_transposed ? (K / 2) * M + M / 2 : (M / 2) * K + K / 2] = std::numeric_limits<float>::quiet_NaN();
        std::vector<float> with_nan(M * N, 0.5f);
        kernels::gemm_skipping_zeros<N, Layout, Accumulate>(M, K, a.data(), lda, b.data(), N, with_nan.data(), N,
                                                            epilogue);
        std::size_t nan_row = 0, others_equal = 0;
        for (std::size_t i = 0; i < M; ++i)
            for (std::size_t j = 0; j < N; ++j) {
                if (i == M / 2)
                    nan_row += std::isnan(with_nan[i * N + j]);
                else
                    others_equal += with_nan[i * N + j] == c[i * N + j];
            }
        CHECK(nan_row == N);
        CHECK(others_equal == (M - 1) * N);
    }
}

}  // namespace

TEST_CASE("nonzero_steps lists exactly the steps where a block's rows are not all zero", "[kernels]") {
    const std::size_t M = 13, K = 43;  // K: five groups of eight steps and a tail of three
    auto a_t = runs_of_zeros(M, K, 3);
    a_t[5 * M + 12] = std::numeric_limits<float>::quiet_NaN();  // a NaN in the last row of the tail block
    const auto a_r = row_major_copy(a_t, M, K);
    for (std::size_t rows : {1, 6, 7}) {
        for (std::size_t i0 = 0; i0 + rows <= M; i0 += rows) {
            CAPTURE(rows, i0);
            std::vector<std::uint16_t> expected;
            for (std::size_t p = 0; p < K; ++p) {
                bool any = false;
                for (std::size_t r = 0; r < rows; ++r) any |= !(a_t[p * M + i0 + r] == 0.0f);
                if (any) expected.push_back(static_cast<std::uint16_t>(p));
            }
            CHECK(expected.size() < K);  // the runs leave some steps to skip in every block
            std::vector<std::uint16_t> steps(K);
            const std::size_t n =
                kernels::detail::nonzero_steps<kernels::transposed>(a_t.data(), M, i0, rows, K, steps.data());
            CHECK(std::vector<std::uint16_t>(steps.begin(), steps.begin() + n) == expected);
            const std::size_t n_r =
                kernels::detail::nonzero_steps<kernels::row_major>(a_r.data(), K, i0, rows, K, steps.data());
            CHECK(std::vector<std::uint16_t>(steps.begin(), steps.begin() + n_r) == expected);
        }
    }
}

TEST_CASE("gemm skipping zero steps equals gemm, tails, depth blocks, row chunks and NaN included", "[kernels]") {
    // Both layouts of A. 97 and 200 rows cross the chunks of listed row blocks (96 rows) and of
    // the pairs (32 rows, with an odd row left in 97); 300 steps make two depth blocks (four of
    // the pairs', the last of 60), 61 one with a tail of five steps.
    // M = 1 takes the one-row path of the row-major product.
    for (std::size_t M : {1, 5, 6, 7, 97, 200})
        for (std::size_t K : {1, 61, 64, 300}) {
            // N = 37 and 10: a vector tail and scalars; 128: the MLP's width; 256: two panels of the pairs.
            check_skipping_zeros<37, kernels::transposed, false>(M, K);
            check_skipping_zeros<128, kernels::transposed, false>(M, K);
            check_skipping_zeros<16, kernels::transposed, true>(M, K);
            check_skipping_zeros<10, kernels::row_major, false>(M, K);
            check_skipping_zeros<128, kernels::row_major, false>(M, K);
            check_skipping_zeros<128, kernels::row_major, true>(M, K);
            check_skipping_zeros<256, kernels::row_major, false>(M, K);
            check_skipping_zeros<16, kernels::row_major, true>(M, K);
        }
    // Inputs without zeros: the skipping product declines and the plain one runs,
    // with gemm's result; inputs with runs of zeros are skipped.
    {
        const std::size_t rows = 50, depth = 40;
        const auto dense = random_values<float>(rows * depth, 21);
        const auto runs = runs_of_zeros(rows, depth, 22);
        const auto b16 = random_values<float>(depth * 16, 23);
        const kernels::row_major_operand<float> operand{b16.data(), 16};
        std::vector<float> c1(rows * 16), c2(rows * 16);
        using namespace kernels;
        CHECK_FALSE(kernels::detail::gemm_block_skipping_zeros<16, transposed, false, gemm_rows_per_block, 2>(
            rows, depth, dense.data(), rows, operand, c1.data(), 16, no_epilogue{}));
        CHECK(kernels::detail::gemm_block_skipping_zeros<16, transposed, false, gemm_rows_per_block, 2>(
            rows, depth, runs.data(), rows, operand, c1.data(), 16, no_epilogue{}));
        gemm_skipping_zeros<16, transposed>(rows, depth, dense.data(), rows, b16.data(), 16, c1.data(), 16);
        gemm<16, transposed>(rows, depth, dense.data(), rows, b16.data(), 16, c2.data(), 16);
        CHECK(c1 == c2);
    }
    // The same for a 128-wide row-major product (pairs of rows on AVX-512): the plain product
    // over the pairs' depth blocks, so each row is still what it is alone, bit for bit.
    {
        const std::size_t rows = 45, depth = 300;
        const auto dense = random_values<float>(rows * depth, 24);
        const auto b128 = random_values<float>(depth * 128, 25);
        std::vector<float> c1(rows * 128), c2(rows * 128), alone(128);
        kernels::gemm_skipping_zeros<128>(rows, depth, dense.data(), depth, b128.data(), 128, c1.data(), 128);
        kernels::gemm<128>(rows, depth, dense.data(), depth, b128.data(), 128, c2.data(), 128);
        CHECK(max_abs_diff(c1, c2) < 1e-3);
        std::size_t differing = 0;
        for (std::size_t i = 0; i < rows; ++i) {
            kernels::gemm_skipping_zeros<128>(1, depth, dense.data() + i * depth, depth, b128.data(), 128, alone.data(),
                                              128);
            for (std::size_t j = 0; j < 128; ++j) differing += alone[j] != c1[i * 128 + j];
        }
        CHECK(differing == 0);
    }

    // All zero: the product is zero (or C unchanged when accumulating).
    const std::size_t M = 20, K = 9;
    const std::vector<float> zeros(M * K, 0.0f);
    const auto b = random_values<float>(K * 16, 4);
    std::vector<float> c(M * 16, 3.0f), acc(M * 16, 3.0f);
    kernels::gemm_skipping_zeros<16, kernels::transposed>(M, K, zeros.data(), M, b.data(), 16, c.data(), 16);
    kernels::gemm_skipping_zeros<16, kernels::transposed, true>(M, K, zeros.data(), M, b.data(), 16, acc.data(), 16);
    CHECK(std::all_of(c.begin(), c.end(), [](float v) { return v == 0.0f; }));
    CHECK(std::all_of(acc.begin(), acc.end(), [](float v) { return v == 3.0f; }));
}

TEST_CASE("gemm applies its epilogue to every element exactly once", "[kernels]") {
    constexpr std::size_t N =
        21;  // a full 16-wide panel, no vector tail on AVX2 (5 scalars), or vector + scalars elsewhere
    const std::size_t M = 7, K = 9;
    const auto a = random_values<float>(M * K, 5);
    const auto b = random_values<float>(K * N, 6);
    std::vector<float> bias(N);
    for (std::size_t j = 0; j < N; ++j) bias[j] = float(j);
    std::vector<float> c(M * N);
    const float* bp = bias.data();
    kernels::gemm<N>(M, K, a.data(), K, b.data(), N, c.data(), N, [bp]<class V>(V acc, std::size_t, std::size_t col) {
        return acc + kernels::load_lane<V>(bp + col);
    });
    auto expected = naive(M, K, N, a, false, b);
    for (std::size_t i = 0; i < M; ++i)
        for (std::size_t j = 0; j < N; ++j) expected[i * N + j] += float(j);
    CHECK(max_abs_diff(c, expected) < 1e-5);
}

TEST_CASE("row products sum A's rows against B's rows across calls", "[kernels]") {
    // Row tails (M not a multiple of 6), a column tail (odd N), a K tail shorter
    // than a vector, and partial sums that must add up over two calls (two samples).
    auto check = [](auto depth, auto value, std::size_t M, std::size_t N, double tolerance) {
        constexpr std::size_t K = decltype(depth)::value;
        using T = decltype(value);
        CAPTURE(K, M, N);
        const auto a1 = random_values<T>(M * K, 7 + M), a2 = random_values<T>(M * K, 8 + M);
        const auto b1 = random_values<T>(N * K, 9 + N), b2 = random_values<T>(N * K, 10 + N);
        std::vector<T> partial(kernels::row_products_size<T>(M, N), T(0));
        kernels::accumulate_row_products<K>(M, N, a1.data(), K, b1.data(), K, partial.data());
        kernels::accumulate_row_products<K>(M, N, a2.data(), K, b2.data(), K, partial.data());
        // Reduced transposed, as conv2d stores it: out(j, i).
        std::vector<T> out(M * N, T(99));
        kernels::reduce_row_products(M, N, partial.data(), out.data(), 1, M);
        for (std::size_t i = 0; i < M; ++i)
            for (std::size_t j = 0; j < N; ++j) {
                double s = 0;
                for (std::size_t k = 0; k < K; ++k)
                    s += double(a1[i * K + k]) * b1[j * K + k] + double(a2[i * K + k]) * b2[j * K + k];
                REQUIRE(std::fabs(out[j * M + i] - s) < tolerance);
            }
    };
    using std::integral_constant;
    for (std::size_t M : {1, 5, 6, 7, 16}) {
        check(integral_constant<std::size_t, 576>{}, 0.0f, M, 25, 1e-3);
        check(integral_constant<std::size_t, 64>{}, 0.0f, M, 150, 1e-4);
        check(integral_constant<std::size_t, 3>{}, 0.0f, M, 4, 1e-5);
        check(integral_constant<std::size_t, 37>{}, 0.0, M, 9, 1e-12);
        // LeNet's first convolution over wide positions: 668 = 41 x 16 + 8 + 4, or 83 x 8 + 4.
        check(integral_constant<std::size_t, 668>{}, 0.0f, M, 25, 1e-3);
        check(integral_constant<std::size_t, 29>{}, 0.0f, M, 3, 1e-4);
        check(integral_constant<std::size_t, 15>{}, 0.0, M, 5, 1e-12);
    }
}

TEST_CASE("all_finite finds a NaN or an infinity anywhere, in vector blocks and in the tail", "[kernels]") {
    auto check = [](auto value) {
        using T = decltype(value);
        for (std::size_t n : {0, 1, 7, 32, 33, 100}) {
            std::vector<T> x(n);
            for (std::size_t i = 0; i < n; ++i) x[i] = T(i % 2 ? 1e30 : -1e30);  // large but finite: no overflow either
            CHECK(kernels::all_finite(x.data(), n));
            for (std::size_t at = 0; at < n; ++at)
                for (T bad : {std::numeric_limits<T>::quiet_NaN(), std::numeric_limits<T>::infinity(),
                              -std::numeric_limits<T>::infinity()}) {
                    CAPTURE(n, at, bad);
                    const T kept = x[at];
                    x[at] = bad;
                    REQUIRE_FALSE(kernels::all_finite(x.data(), n));
                    x[at] = kept;
                }
        }
    };
    check(0.0f);
    check(0.0);
}

TEST_CASE("transpose", "[kernels]") {
    // Register blocks, column edges, row edges, both, none; float and double.
    auto check = [](auto rows, auto columns, auto value) {
        constexpr std::size_t M = decltype(rows)::value, N = decltype(columns)::value;
        using T = decltype(value);
        const auto a = random_values<T>(M * N, 3);
        std::vector<T> t(N * M);
        kernels::transpose<M, N>(a.data(), t.data());
        for (std::size_t i = 0; i < M; ++i)
            for (std::size_t j = 0; j < N; ++j) REQUIRE(t[j * M + i] == a[i * N + j]);
    };
    using std::integral_constant;
    check(integral_constant<std::size_t, 37>{}, integral_constant<std::size_t, 19>{}, 0.0f);
    check(integral_constant<std::size_t, 25>{}, integral_constant<std::size_t, 576>{}, 0.0f);
    check(integral_constant<std::size_t, 16>{}, integral_constant<std::size_t, 150>{}, 0.0f);
    check(integral_constant<std::size_t, 8>{}, integral_constant<std::size_t, 8>{}, 0.0f);
    check(integral_constant<std::size_t, 3>{}, integral_constant<std::size_t, 5>{}, 0.0f);
    check(integral_constant<std::size_t, 37>{}, integral_constant<std::size_t, 19>{}, 0.0);
}

TEST_CASE("bfloat16 rounds to nearest, ties to even, and keeps NaN and infinities", "[kernels][bfloat16]") {
    CHECK(to_bfloat16(1.0f).bits == 0x3f80);
    CHECK(to_float(to_bfloat16(1.0f)) == 1.0f);
    CHECK(to_bfloat16(-2.5f).bits == 0xc020);
    // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: ties go to the even mantissa (1).
    CHECK(to_bfloat16(1.0f + 0x1p-8f).bits == 0x3f80);
    // 1 + 3 * 2^-8 lies halfway between 1 + 2^-7 (odd) and 1 + 2^-6 (even).
    CHECK(to_bfloat16(1.0f + 3 * 0x1p-8f).bits == 0x3f82);
    // Just above the halfway point rounds up.
    CHECK(to_bfloat16(1.0f + 0x1p-8f + 0x1p-20f).bits == 0x3f81);
    CHECK(to_bfloat16(std::numeric_limits<float>::infinity()).bits == 0x7f80);
    CHECK(to_bfloat16(-std::numeric_limits<float>::infinity()).bits == 0xff80);
    CHECK(std::isnan(to_float(to_bfloat16(std::numeric_limits<float>::quiet_NaN()))));
    // A NaN whose payload sits in the low bits must not round to infinity.
    CHECK(std::isnan(to_float(to_bfloat16(std::bit_cast<float>(0x7f800001u)))));
    // Beyond the largest bfloat16, rounding overflows to infinity as float rounding does.
    CHECK(std::isinf(to_float(to_bfloat16(std::numeric_limits<float>::max()))));
    // Relative error at most half a unit in the 8th significant bit (2^-8) over a wide range.
    random_engine rng(5);
    double worst = 0;
    for (int i = 0; i < 10000; ++i) {
        const float v = static_cast<float>(rng.normal(0, 1) * std::pow(10.0, rng.uniform(-20, 20)));
        worst = std::max(worst, std::fabs(double(to_float(to_bfloat16(v))) - v) / std::fabs(double(v)));
    }
    CHECK(worst <= 0x1p-8);
}

TEST_CASE("interleave_bfloat16 pairs the vectors of each row and leaves the tails in place", "[kernels][bfloat16]") {
    constexpr std::size_t W = kernels::simd_width<float>;
    // One row: two full interleaved groups, one single vector, three scalars.
    const std::size_t N = 5 * W + 3;
    std::vector<float> row(N);
    for (std::size_t j = 0; j < N; ++j) row[j] = static_cast<float>(j);
    std::vector<bfloat16> packed(N);
    kernels::interleave_bfloat16(row.data(), 1, N, packed.data());
    for (std::size_t g = 0; g < 2; ++g)
        for (std::size_t i = 0; i < W; ++i) {
            CHECK(to_float(packed[2 * W * g + 2 * i]) == float(2 * W * g + i));
            CHECK(to_float(packed[2 * W * g + 2 * i + 1]) == float(2 * W * g + W + i));
        }
    for (std::size_t j = 4 * W; j < N; ++j) CHECK(to_float(packed[j]) == float(j));
    // And the pair loader undoes it.
    kernels::simd<float> first, second;
    kernels::load_interleaved_pair(packed.data() + 2 * W, first, second);
    alignas(64) float a[W], b[W];
    first.store_aligned(a);
    second.store_aligned(b);
    for (std::size_t i = 0; i < W; ++i) {
        CHECK(a[i] == float(2 * W + i));
        CHECK(b[i] == float(3 * W + i));
    }
}

TEST_CASE("gemm with bfloat16 operands equals gemm on their widened values", "[kernels][bfloat16]") {
    // The reduced-precision path widens as it loads; the sums must be exactly the
    // float product of the widened values (same order, same FMAs), for every
    // layout, row tail and column tail, including the single-row path.
    // N = 37: pairs and scalars; N = 61: pairs, a single vector and scalars.
    auto check = [](auto columns) {
        constexpr std::size_t N = decltype(columns)::value;
        for (std::size_t M : {1, 5, 13}) {
            const std::size_t K = 41;
            const auto a = random_values<float>(M * K, 31);
            const auto b = random_values<float>(K * N, 32);
            std::vector<bfloat16> a16(a.size()), b16(b.size());
            std::vector<float> a_wide(a.size()), b_wide(b.size());
            for (std::size_t i = 0; i < a.size(); ++i) a_wide[i] = to_float(a16[i] = to_bfloat16(a[i]));
            for (std::size_t i = 0; i < b.size(); ++i) b_wide[i] = to_float(to_bfloat16(b[i]));
            // B in bfloat16 is read in the interleaved layout.
            kernels::interleave_bfloat16(b.data(), K, N, b16.data());

            std::vector<float> expected(M * N), got(M * N);
            kernels::gemm<N>(M, K, a.data(), K, b_wide.data(), N, expected.data(), N);
            kernels::gemm<N>(M, K, a.data(), K, b16.data(), N, got.data(), N);
            CHECK(got == expected);
            // bfloat16 A in the transposed layout (how conv2d reads its weights).
            kernels::gemm<N, kernels::transposed>(M, K, a_wide.data(), M, b.data(), N, expected.data(), N);
            kernels::gemm<N, kernels::transposed>(M, K, a16.data(), M, b.data(), N, got.data(), N);
            CHECK(got == expected);
        }
    };
    check(std::integral_constant<std::size_t, 37>{});
    check(std::integral_constant<std::size_t, 61>{});
}
