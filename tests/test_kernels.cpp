// The register-blocked GEMM against a naive triple loop, for the layouts and the
// awkward sizes (row tails, column tails of vectors and of scalars) layers produce.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include <typenet/kernels/gemm.hpp>
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

TEST_CASE("gemm matches a naive product (float)", "[kernels]") {
    for (std::size_t M : {1, 2, 5, 6, 7, 13, 64}) {
        CAPTURE(M);
        check_sizes<1, float>(M, 3, 1e-5);
        check_sizes<3, float>(M, 17, 1e-5);
        check_sizes<10, float>(M, 128, 1e-4);
        check_sizes<16, float>(M, 1, 1e-6);
        check_sizes<37, float>(M, 33, 1e-5);
        check_sizes<128, float>(M, 784, 1e-3);
    }
}

TEST_CASE("gemm matches a naive product (double)", "[kernels]") {
    for (std::size_t M : {1, 4, 6, 11}) {
        CAPTURE(M);
        check_sizes<2, double>(M, 5, 1e-12);
        check_sizes<9, double>(M, 31, 1e-12);
        check_sizes<20, double>(M, 64, 1e-12);
    }
}

TEST_CASE("gemm applies its epilogue to every element exactly once", "[kernels]") {
    constexpr std::size_t N = 21;  // a full 16-wide panel, no vector tail on AVX2 (5 scalars), or vector + scalars elsewhere
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

TEST_CASE("transpose", "[kernels]") {
    const auto a = random_values<float>(37 * 19, 3);
    std::vector<float> t(19 * 37);
    kernels::transpose<37, 19>(a.data(), t.data());
    for (std::size_t i = 0; i < 37; ++i)
        for (std::size_t j = 0; j < 19; ++j) REQUIRE(t[j * 37 + i] == a[i * 19 + j]);
}
