// Convolution and pooling: shapes at compile time, forward results against a
// direct nested-loop reference, gradient checks with stride and padding variants,
// and the fused conv+activation stage against the reference plan.
#include <catch2/catch.hpp>

#include <cmath>
#include <type_traits>
#include <vector>

#include <typenet/typenet.hpp>

#include "support.hpp"

using test_support::random_values;

using namespace typenet;

namespace {

using lenet = sequential<input<1, 28, 28>, conv2d<6, 5>, relu, max_pool<2>, conv2d<16, 5>, relu, max_pool<2>, flatten,
                         dense<120>, relu, dense<84>, relu, dense<10>>;
static_assert(std::is_same_v<lenet::output_shape, shape<10>>);
static_assert(lenet::parameter_count ==
              (25 * 6 + 6) + (150 * 16 + 16) + (256 * 120 + 120) + (120 * 84 + 84) + (84 * 10 + 10));
static_assert(lenet::fused_plan::count == 8);  // conv+relu, pool, conv+relu, pool, flatten, dense+relu x2, dense
static_assert(lenet::layer_count == 12);

// (H + 2P - K) / S + 1
static_assert(std::is_same_v<sequential<input<3, 32, 32>, conv2d<8, 3, 1, 1>>::output_shape, shape<8, 32, 32>>);
static_assert(std::is_same_v<sequential<input<3, 32, 32>, conv2d<8, 3, 2, 1>>::output_shape, shape<8, 16, 16>>);
static_assert(std::is_same_v<sequential<input<1, 7, 9>, conv2d<2, 5, 2, 2>>::output_shape, shape<2, 4, 5>>);
static_assert(std::is_same_v<sequential<input<4, 9, 9>, max_pool<3, 2>>::output_shape, shape<4, 4, 4>>);
static_assert(std::is_same_v<sequential<input<4, 8, 8>, avg_pool<2>>::output_shape, shape<4, 4, 4>>);

// Direct convolution, straight from the definition.
template <std::size_t C, std::size_t H, std::size_t W, std::size_t F, std::size_t K, std::size_t S, std::size_t P>
std::vector<double> naive_conv(const std::vector<double>& x, const double* w, const double* b) {
    constexpr std::size_t OH = (H + 2 * P - K) / S + 1, OW = (W + 2 * P - K) / S + 1;
    std::vector<double> y(F * OH * OW);
    for (std::size_t f = 0; f < F; ++f)
        for (std::size_t oy = 0; oy < OH; ++oy)
            for (std::size_t ox = 0; ox < OW; ++ox) {
                double s = b[f];
                for (std::size_t c = 0; c < C; ++c)
                    for (std::size_t i = 0; i < K; ++i)
                        for (std::size_t j = 0; j < K; ++j) {
                            const long iy = long(oy * S + i) - long(P), ix = long(ox * S + j) - long(P);
                            if (iy < 0 || ix < 0 || iy >= long(H) || ix >= long(W)) continue;
                            s += x[(c * H + iy) * W + ix] * w[((c * K + i) * K + j) * F + f];
                        }
                y[(f * OH + oy) * OW + ox] = s;
            }
    return y;
}

template <std::size_t C, std::size_t H, std::size_t W, std::size_t F, std::size_t K, std::size_t S, std::size_t P>
void check_conv_forward(std::uint64_t seed) {
    using net = sequential<input<C, H, W>, conv2d<F, K, S, P>>;
    INFO("input " << C << "x" << H << "x" << W << ", conv2d<" << F << ", " << K << ", " << S << ", " << P << ">");
    model<net, double> m(seed);
    random_engine rng(seed);
    for (auto& p : m.parameters()) p = rng.uniform(-1, 1);  // biases too
    const auto x = random_values<double>(C * H * W, seed + 1);
    const auto y = m.predict(x);
    const auto expected =
        naive_conv<C, H, W, F, K, S, P>(x, m.parameters().data(), m.parameters().data() + C * K * K * F);
    REQUIRE(y.size() == expected.size());
    for (std::size_t i = 0; i < y.size(); ++i) REQUIRE(y[i] == Approx(expected[i]).margin(1e-12));
}

template <class Arch>
void check_gradients(std::size_t batch, std::uint64_t seed) {
    model<Arch, double> m(seed);
    const auto x = random_values<double>(batch * Arch::input_size, seed + 1);
    std::vector<label_t> y(batch);
    for (std::size_t i = 0; i < batch; ++i) y[i] = static_cast<label_t>((i * 7 + seed) % Arch::output_size);
    const auto r = gradient_check(m, softmax_cross_entropy{}, std::span<const double>(x), std::span<const label_t>(y));
    for (const auto& l : r.layers) {
        INFO("layer " << l.layer_index << " " << l.layer << ": parameters " << l.parameter_error << ", input "
                      << l.input_error);
        CHECK(l.parameter_error <= 1e-6);
        CHECK(l.input_error <= 1e-6);
    }
}

}  // namespace

TEST_CASE("conv2d forward matches a direct convolution", "[conv]") {
    check_conv_forward<1, 6, 6, 2, 3, 1, 0>(1);
    check_conv_forward<3, 8, 7, 4, 3, 1, 1>(2);
    check_conv_forward<2, 9, 9, 3, 3, 2, 0>(3);
    check_conv_forward<2, 7, 9, 5, 5, 2, 2>(4);
    check_conv_forward<1, 28, 28, 6, 5, 1, 0>(5);
    check_conv_forward<6, 12, 12, 16, 5, 1, 0>(6);
    check_conv_forward<3, 5, 5, 17, 1, 1, 0>(7);
    // Patches read in place (no padding, stride 1, output rows of whole vectors) with
    // 300 patch values: the GEMM splits that depth into blocks, each reading from row 256 on.
    static_assert(kernels::convolution_geometry<12, 12, 12, 5, 1, 0>::reads_in_place<kernels::simd_width<double>>);
    check_conv_forward<12, 12, 12, 3, 5, 1, 0>(8);
    // Output rows of 9, no whole vectors on any CPU: the wide positions (11 a row, 9 of
    // them outputs) are read in place and compacted.
    static_assert(conv2d_stage<shape<2, 6, 11>, 5, 3, 1, 0, 0, 0>::reads_wide<kernels::simd_width<double>>);
    check_conv_forward<2, 6, 11, 5, 3, 1, 0>(9);
    // 1 x 1 kernels: the columns are the sample, read in place whatever the width (7 is no
    // whole vector anywhere), with no scratch for a forward pass.
    using pointwise = conv2d_stage<shape<2, 7, 7>, 5, 1, 1, 0, 0, 0>;
    static_assert(pointwise::pointwise && pointwise::forward_scratch_size == 0);
    static_assert(kernels::convolution_geometry<2, 7, 7, 1, 1, 0>::reads_in_place<kernels::simd_width<float>>);
    check_conv_forward<2, 7, 7, 5, 1, 1, 0>(10);
    check_conv_forward<3, 7, 7, 16, 1, 1, 0>(11);
    static_assert(!conv2d_stage<shape<2, 7, 7>, 5, 1, 1, 1, 0, 0>::pointwise);  // padded: copied columns
    check_conv_forward<2, 7, 7, 5, 1, 1, 1>(12);
}

// Depthwise convolution from its definition: output channel o = c M + m sees channel c only.
template <std::size_t C, std::size_t H, std::size_t W, std::size_t K, std::size_t S, std::size_t P, std::size_t M>
std::vector<double> naive_depthwise(const std::vector<double>& x, const std::vector<double>& params) {
    constexpr std::size_t OH = (H + 2 * P - K) / S + 1, OW = (W + 2 * P - K) / S + 1, CM = C * M;
    std::vector<double> y(CM * OH * OW);
    for (std::size_t o = 0; o < CM; ++o)
        for (std::size_t oy = 0; oy < OH; ++oy)
            for (std::size_t ox = 0; ox < OW; ++ox) {
                double s = params[K * K * CM + o];
                for (std::size_t i = 0; i < K; ++i)
                    for (std::size_t j = 0; j < K; ++j) {
                        const long iy = long(oy * S + i) - long(P), ix = long(ox * S + j) - long(P);
                        if (iy < 0 || ix < 0 || iy >= long(H) || ix >= long(W)) continue;
                        s += x[(o / M * H + iy) * W + ix] * params[(i * K + j) * CM + o];
                    }
                y[(o * OH + oy) * OW + ox] = s;
            }
    return y;
}

TEST_CASE("depthwise_conv2d forward matches a direct depthwise convolution", "[conv]") {
    auto check =
        []<std::size_t C, std::size_t H, std::size_t W, std::size_t K, std::size_t S, std::size_t P, std::size_t M>(
            std::uint64_t seed) {
            using net = sequential<input<C, H, W>, depthwise_conv2d<K, S, P, M>>;
            INFO(C << "x" << H << "x" << W << ", depthwise_conv2d<" << K << ", " << S << ", " << P << ", " << M << ">");
            model<net, double> m(seed);
            random_engine rng(seed);
            for (auto& p : m.parameters()) p = rng.uniform(-1, 1);
            const auto x = random_values<double>(C * H * W, seed + 1);
            const std::vector<double> params(m.parameters().begin(), m.parameters().end());
            const auto expected = naive_depthwise<C, H, W, K, S, P, M>(x, params);
            const auto y = m.predict(x);
            REQUIRE(y.size() == expected.size());
            for (std::size_t i = 0; i < y.size(); ++i) REQUIRE(y[i] == Approx(expected[i]).margin(1e-12));
            // float, with its vector width's lanes and tails: the double definition, rounded.
            model<net> mf(seed);
            for (std::size_t i = 0; i < params.size(); ++i) mf.parameters()[i] = static_cast<float>(params[i]);
            const std::vector<float> xf(x.begin(), x.end());
            const auto yf = mf.predict(xf);
            for (std::size_t i = 0; i < yf.size(); ++i) REQUIRE(yf[i] == Approx(expected[i]).margin(1e-5));
        };
    check.operator()<2, 6, 18, 3, 1, 1, 1>(1);   // rows of 18: a vector and a tail
    check.operator()<3, 9, 9, 3, 1, 0, 1>(2);    // read in place, no padding
    check.operator()<2, 7, 35, 3, 2, 1, 2>(3);   // stride 2, two filters a channel
    check.operator()<2, 11, 13, 5, 2, 2, 1>(4);  // 5 x 5
    check.operator()<2, 8, 8, 3, 3, 0, 2>(5);    // stride 3
    check.operator()<1, 4, 4, 1, 1, 2, 3>(6);    // padding wider than the kernel
    check.operator()<4, 20, 40, 3, 1, 1, 1>(7);  // rows of several vectors
}

TEST_CASE("LeNet's convolutions in float agree with a direct convolution", "[conv]") {
    // Whichever way the columns reach the GEMM for float's vector width (in place,
    // wide positions, copied), the float result is the double definition's, rounded.
    auto check = []<std::size_t C, std::size_t H, std::size_t W, std::size_t F>(std::uint64_t seed) {
        using net = sequential<input<C, H, W>, conv2d<F, 5>>;
        model<net> m(seed);
        const auto x = random_values<float>(C * H * W, seed + 1);
        const auto y = m.predict(x);
        const std::vector<double> xd(x.begin(), x.end());
        const std::vector<double> pd(m.parameters().begin(), m.parameters().end());
        const auto expected = naive_conv<C, H, W, F, 5, 1, 0>(xd, pd.data(), pd.data() + C * 25 * F);
        REQUIRE(y.size() == expected.size());
        for (std::size_t i = 0; i < y.size(); ++i) REQUIRE(y[i] == Approx(expected[i]).margin(1e-5));
    };
    check.operator()<1, 28, 28, 6>(40);
    check.operator()<6, 12, 12, 16>(41);
}

/// A register block of 12 rows that could have 24 (one vector's product on AVX-512).
struct twelve_rows {
    static constexpr std::size_t rows = 12, max_rows = 24;
};

/// The in-place products and the ones on copied columns sum in different orders (and
/// builds without FMA contraction round each step): float agrees to its rounding over
/// sums of up to 150 terms.
template <class T>
constexpr double in_place_tolerance = std::is_same_v<T, float> ? 1e-5 : 1e-12;

TEST_CASE("a weight-gradient GEMM reading the patch rows in place equals one on the copied columns", "[conv]") {
    // dW[Q][F] += columns * dZ^T with A = the image read through patch_rows: every patch
    // row at its offset, register blocks fitted to Q (LeNet's 150 in blocks that divide
    // it; 25 has no such divisor and leaves a tail of rows), accumulating into dW.
    auto check = []<class T, std::size_t C, std::size_t H, std::size_t W, std::size_t K, std::size_t F>(
                     std::size_t expected_rows, std::uint64_t seed) {
        using geometry = kernels::convolution_geometry<C, H, W, K, 1, 0>;
        using patch_rows = typename geometry::patch_rows;
        constexpr std::size_t Q = geometry::patch, N = geometry::positions;
        static_assert(geometry::unpadded_unit_stride);
        CHECK(kernels::detail::block_rows_for<patch_rows, twelve_rows>() == expected_rows);
        const auto x = random_values<T>(C * H * W, seed);
        const auto dzt = random_values<T>(N * F, seed + 1);
        std::vector<T> cols(Q * N);
        geometry::columns(x.data(), cols.data());
        std::vector<T> copied(Q * F, T(0.5)), in_place(Q * F, T(0.5));
        kernels::gemm<F, kernels::row_major, true>(Q, N, cols.data(), N, dzt.data(), F, copied.data(), F);
        kernels::gemm<F, patch_rows, true>(Q, N, x.data(), 0, dzt.data(), F, in_place.data(), F);
        const double tolerance = in_place_tolerance<T>;
        for (std::size_t i = 0; i < copied.size(); ++i)
            REQUIRE(in_place[i] == Approx(copied[i]).epsilon(tolerance).margin(tolerance));
    };
    check.operator()<float, 6, 12, 12, 5, 16>(10, 50);  // LeNet's second convolution
    check.operator()<float, 1, 10, 10, 5, 16>(12, 51);  // Q = 25: 2 blocks of 12, a tail of 1
    check.operator()<double, 3, 7, 7, 3, 8>(9, 52);     // Q = 27
    check.operator()<double, 2, 9, 6, 3, 24>(9, 53);    // Q = 18, three vectors of columns or more
}

TEST_CASE("the sliding forward pass equals the GEMM on the copied columns", "[conv]") {
    // kernels/sliding_convolution.hpp writes Y^T with the epilogue the position-rows GEMM
    // takes (bias per filter, activation); each output sums over q in the GEMM's order.
    auto check = []<class T, std::size_t C, std::size_t H, std::size_t W, std::size_t K, std::size_t F>(
                     std::size_t expected_rows, std::uint64_t seed) {
        using plan = kernels::sliding_convolution_forward<T, H, W, K, F>;
        if constexpr (plan::applies) {
            CHECK(plan::rows == expected_rows);
            using geometry = kernels::convolution_geometry<C, H, W, K, 1, 0>;
            constexpr std::size_t Q = geometry::patch, N = geometry::positions;
            const auto x = random_values<T>(C * H * W, seed);
            const auto w = random_values<T>(Q * F, seed + 1);
            const auto bias = random_values<T>(F, seed + 2);
            const detail::bias_activation_epilogue<T, relu> epilogue{bias.data()};
            std::vector<T> cols(Q * N), by_gemm(N * F), sliding(N * F);
            geometry::columns(x.data(), cols.data());
            std::vector<T> cols_t(N * Q);
            kernels::transpose<Q, N>(cols.data(), cols_t.data());
            kernels::gemm<F>(N, Q, cols_t.data(), Q, w.data(), F, by_gemm.data(), F, epilogue);
            kernels::sliding_convolution<C, H, W, K, F>(x.data(), w.data(), sliding.data(), epilogue);
            for (std::size_t i = 0; i < by_gemm.size(); ++i) REQUIRE(sliding[i] == by_gemm[i]);
        } else {
            WARN("sliding forward pass for C=" << C << " " << H << "x" << W << " K=" << K << " F=" << F
                                               << " not exercised: it does not apply on "
                                               << test_support::this_build());
        }
    };
    check.operator()<float, 6, 12, 12, 5, 16>(2, 80);  // LeNet's second convolution: 2 rows of 8 a pass
    check.operator()<float, 3, 10, 9, 3, 32>(1, 81);   // 8 x 7 outputs, two vectors of filters
    check.operator()<float, 1, 9, 20, 5, 16>(1, 82);   // 16 outputs a row: one row a pass
    check.operator()<double, 2, 7, 7, 3, 8>(1, 83);    // 5 x 5 outputs: 5 rows would need 25 accumulators
    check.operator()<double, 2, 8, 6, 3, 8>(3, 84);    // 6 x 4 outputs: 3 rows of 4 a pass, twice
    STATIC_REQUIRE(!kernels::sliding_convolution_forward<float, 12, 33, 3, 16>::applies);  // rows too wide to unroll
    STATIC_REQUIRE(!kernels::sliding_convolution_forward<float, 12, 32, 3, 16>::applies);  // 30 accumulators a row
    STATIC_REQUIRE(!kernels::sliding_convolution_forward<float, 12, 12, 3, 6>::applies);   // filters not whole vectors
}

TEST_CASE("the sliding weight gradient equals the GEMM on the copied columns", "[conv]") {
    // kernels/sliding_convolution.hpp over two samples, accumulating into dW: each element
    // sums its products over the positions in the GEMM's order, so the values are equal.
    auto check = []<class T, std::size_t C, std::size_t H, std::size_t W, std::size_t K, std::size_t F>(
                     std::size_t expected_group, std::uint64_t seed) {
        using plan = kernels::sliding_filter_gradient<T, C, W, K, F>;
        if constexpr (plan::applies) {
            CHECK(plan::group == expected_group);
            using geometry = kernels::convolution_geometry<C, H, W, K, 1, 0>;
            constexpr std::size_t Q = geometry::patch, N = geometry::positions;
            std::vector<T> by_gemm(Q * F, T(0.5)), sliding(Q * F, T(0.5)), cols(Q * N);
            for (std::uint64_t sample = 0; sample < 2; ++sample) {
                const auto x = random_values<T>(C * H * W, seed + 2 * sample);
                const auto dzt = random_values<T>(N * F, seed + 2 * sample + 1);
                geometry::columns(x.data(), cols.data());
                kernels::gemm<F, kernels::row_major, true>(Q, N, cols.data(), N, dzt.data(), F, by_gemm.data(), F);
                kernels::accumulate_sliding_filter_gradient<C, H, W, K, F>(x.data(), dzt.data(), sliding.data());
            }
            for (std::size_t i = 0; i < by_gemm.size(); ++i) REQUIRE(sliding[i] == by_gemm[i]);
        } else {
            WARN("sliding weight gradient for C=" << C << " " << H << "x" << W << " K=" << K << " F=" << F
                                                  << " not exercised: it does not apply on "
                                                  << test_support::this_build());
        }
    };
    check.operator()<float, 6, 12, 12, 5, 16>(6, 70);  // LeNet's second convolution: one pass per kernel row
    check.operator()<float, 6, 12, 12, 5, 32>(3, 71);  // two vectors of filters: two groups of 3 channels
    check.operator()<float, 1, 10, 10, 5, 16>(1, 72);
    check.operator()<float, 3, 10, 9, 3, 32>(3, 73);  // 8 x 7 outputs
    check.operator()<double, 2, 7, 7, 3, 8>(2, 74);   // the gradient check's conv2d<8, 3>
    check.operator()<double, 5, 6, 8, 3, 16>(5, 75);  // 5 channels x 3 x 2 vectors = 30 accumulators
    check.operator()<double, 4, 6, 32, 3, 8>(4, 76);  // the widest rows it unrolls
    // Where it does not apply, the GEMM stays: rows too wide to unroll, filters that do not
    // fill vectors, more accumulators than registers for a single channel.
    STATIC_REQUIRE(!kernels::sliding_filter_gradient<float, 1, 33, 3, 16>::applies);
    STATIC_REQUIRE(!kernels::sliding_filter_gradient<float, 1, 12, 3, 6>::applies);
    STATIC_REQUIRE(!kernels::sliding_filter_gradient<float, 1, 28, 7, 80>::applies);
}

TEST_CASE("the sliding input gradient agrees with the GEMM into the columns and their fold", "[conv]") {
    // It sums over the filters in vector lanes and adds them up in a tree, the GEMM along
    // the filters then the fold over the patches: the same terms in another order.
    auto check = []<std::size_t C, std::size_t H, std::size_t W, std::size_t K, std::size_t F>(std::uint64_t seed) {
        if constexpr (kernels::sliding_input_gradient<float, H, W, K, F>::applies) {
            using geometry = kernels::convolution_geometry<C, H, W, K, 1, 0>;
            constexpr std::size_t Q = geometry::patch, N = geometry::positions;
            const auto w = random_values<float>(Q * F, seed);
            const auto dz = random_values<float>(F * N, seed + 1);
            std::vector<float> dzt(N * F), cols(Q * N), folded(C * H * W), sliding(C * H * W, 7.0f);
            kernels::transpose<F, N>(dz.data(), dzt.data());
            kernels::gemm<N>(Q, F, w.data(), F, dz.data(), N, cols.data(), N);
            geometry::fold(cols.data(), folded.data());
            kernels::sliding_input_gradient_of<C, H, W, K, F>(w.data(), dzt.data(), sliding.data());
            for (std::size_t i = 0; i < folded.size(); ++i)
                REQUIRE(sliding[i] == Approx(folded[i]).epsilon(1e-5).margin(1e-5));
        } else {
            WARN("sliding input gradient for C=" << C << " " << H << "x" << W << " K=" << K << " F=" << F
                                                 << " not exercised: it does not apply on "
                                                 << test_support::this_build());
        }
    };
    check.operator()<6, 12, 12, 5, 16>(90);  // LeNet's second convolution; every pixel written over the 7s
    check.operator()<3, 10, 9, 3, 32>(91);   // two vectors of filters
    check.operator()<2, 5, 16, 5, 16>(92);   // 16-wide rows, a single output row
    check.operator()<1, 6, 6, 1, 16>(93);    // 1 x 1 kernels
    STATIC_REQUIRE(!kernels::sliding_input_gradient<float, 12, 17, 3, 16>::applies);  // a row wider than a vector
    STATIC_REQUIRE(!kernels::sliding_input_gradient<double, 12, 12, 3, 8>::applies);  // float only
}

TEST_CASE("a forward GEMM reading the positions in place equals one on the copied columns", "[conv]") {
    // Y^T[N][F] = columns^T * W with A = the image read through position_rows, in
    // register blocks of whole output rows that divide the output's height.
    auto check = []<class T, std::size_t C, std::size_t H, std::size_t W, std::size_t K, std::size_t F>(
                     std::size_t rows_of_24, std::uint64_t seed) {
        using geometry = kernels::convolution_geometry<C, H, W, K, 1, 0>;
        using position_rows = typename geometry::position_rows;
        constexpr std::size_t Q = geometry::patch, N = geometry::positions;
        CHECK(kernels::detail::block_rows_for<position_rows, twelve_rows>() == rows_of_24);
        if constexpr (position_rows::template block_rows < kernels::register_block<T, F>::max_rows >> 0) {
            const auto x = random_values<T>(C * H * W, seed);
            const auto w = random_values<T>(Q * F, seed + 1);
            std::vector<T> cols(Q * N), copied(F * N), in_place(N * F), in_place_t(F * N);
            geometry::columns(x.data(), cols.data());
            kernels::gemm<N, kernels::transposed>(F, Q, w.data(), F, cols.data(), N, copied.data(), N);
            kernels::gemm<F, position_rows>(N, Q, x.data(), 0, w.data(), F, in_place.data(), F);
            kernels::transpose<N, F>(in_place.data(), in_place_t.data());
            const double tolerance = in_place_tolerance<T>;
            for (std::size_t i = 0; i < copied.size(); ++i)
                REQUIRE(in_place_t[i] == Approx(copied[i]).epsilon(tolerance).margin(tolerance));
        } else {
            WARN("in-place forward GEMM for C=" << C << " " << H << "x" << W << " K=" << K << " F=" << F
                                                << " not exercised: no whole output rows fit a register block on "
                                                << test_support::this_build());
        }
    };
    check.operator()<float, 6, 12, 12, 5, 16>(16, 60);  // LeNet's second convolution: 8 x 8 outputs, blocks of 2 rows
    check.operator()<double, 2, 7, 7, 3, 8>(5, 61);     // 5 x 5 outputs: blocks of one row
    check.operator()<float, 3, 10, 9, 3, 32>(14, 62);   // 8 x 7 outputs: 2 rows (3 would leave a tail)
    STATIC_REQUIRE(kernels::convolution_geometry<1, 30, 30, 3, 1, 0>::position_rows::block_rows<24> == 0);  // 28 > 24
}

TEST_CASE("pooling forward matches the definition", "[conv]") {
    model<sequential<input<1, 4, 4>, max_pool<2>>, double> mp;
    model<sequential<input<1, 4, 4>, avg_pool<2>>, double> ap;
    const std::vector<double> x{1,  2,  5, 3,  //
                                4,  0,  1, 1,  //
                                -1, -2, 7, 8,  //
                                -3, -4, 9, 6};
    CHECK(mp.predict(x) == std::array<double, 4>{4, 5, -1, 9});
    CHECK(ap.predict(x) == std::array<double, 4>{7.0 / 4, 10.0 / 4, -10.0 / 4, 30.0 / 4});
    model<sequential<input<1, 3, 3>, max_pool<2, 1>>, double> overlap;
    const std::vector<double> z{1, 9, 2, 3, 4, 5, 8, 7, 6};
    CHECK(overlap.predict(z) == std::array<double, 4>{9, 9, 8, 7});
}

TEST_CASE("max_pool backward sends a tied window's gradient to its first maximum", "[conv]") {
    // What relu's zeros produce: every window tied. 2 x 2 windows and 3 x 3 / stride 2 both.
    using two = max_pool<2>::stage<shape<1, 3, 5>, 0, 0>;
    std::vector<float> x(15, 0.0f), y(2), g{1.0f, 2.0f}, dx(15, -1.0f);
    two::forward(static_cast<const float*>(nullptr), x.data(), y.data(), 1, static_cast<float*>(nullptr));
    two::backward(static_cast<const float*>(nullptr), x.data(), y.data(), g.data(), dx.data(),
                  static_cast<float*>(nullptr), 1, static_cast<float*>(nullptr));
    CHECK(dx == std::vector<float>{1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
    using three = max_pool<3, 2>::stage<shape<1, 3, 5>, 0, 0>;
    std::fill(dx.begin(), dx.end(), -1.0f);
    three::forward(static_cast<const float*>(nullptr), x.data(), y.data(), 1, static_cast<float*>(nullptr));
    three::backward(static_cast<const float*>(nullptr), x.data(), y.data(), g.data(), dx.data(),
                    static_cast<float*>(nullptr), 1, static_cast<float*>(nullptr));
    CHECK(dx == std::vector<float>{1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
}

TEST_CASE("2 x 2 max_pool backward, vectorised, agrees with the definition on tied windows", "[conv]") {
    // Values from {0, 1, 2}: most windows tie (as after relu). Shapes: groups of four
    // windows that pair up within a row, across rows, a row left to the scalar path,
    // a partly vectorised row, odd heights and widths.
    auto check = [](auto shape_tag) {
        using In = typename decltype(shape_tag)::type;
        using stage = max_pool<2>::stage<In, 0, 0>;
        constexpr std::size_t C = In::dims[0], H = In::dims[1], W = In::dims[2], OH = H / 2, OW = W / 2;
        CAPTURE(C, H, W);
        constexpr std::size_t batch = 2;
        random_engine rng(C * 100 + H * 10 + W);
        std::vector<float> x(batch * C * H * W), y(batch * C * OH * OW), g(y.size()), dx(x.size(), -7.0f);
        for (auto& v : x) v = static_cast<float>(rng.below(3));
        for (auto& v : g) v = static_cast<float>(rng.uniform(0.5, 1.5));
        stage::forward(static_cast<const float*>(nullptr), x.data(), y.data(), batch, static_cast<float*>(nullptr));
        stage::backward(static_cast<const float*>(nullptr), x.data(), y.data(), g.data(), dx.data(),
                        static_cast<float*>(nullptr), batch, static_cast<float*>(nullptr));
        std::vector<float> expected(x.size(), 0.0f);
        for (std::size_t m = 0; m < batch * C; ++m)
            for (std::size_t oy = 0; oy < OH; ++oy)
                for (std::size_t ox = 0; ox < OW; ++ox) {
                    const std::size_t corner[4] = {2 * oy * W + 2 * ox, 2 * oy * W + 2 * ox + 1,
                                                   (2 * oy + 1) * W + 2 * ox, (2 * oy + 1) * W + 2 * ox + 1};
                    float top = x[m * H * W + corner[0]];
                    for (std::size_t k : corner) top = std::max(top, x[m * H * W + k]);
                    for (std::size_t k : corner)
                        if (x[m * H * W + k] == top) {
                            expected[m * H * W + k] = g[m * OH * OW + oy * OW + ox];
                            break;
                        }
                }
        REQUIRE(dx == expected);
    };
    check(std::type_identity<shape<2, 8, 8>>{});    // LeNet's second pooling: OW = 4, groups pair across rows
    check(std::type_identity<shape<1, 24, 24>>{});  // LeNet's first: OW = 12
    check(std::type_identity<shape<2, 6, 8>>{});    // 3 rows of 4: the last row scalar
    check(std::type_identity<shape<1, 10, 24>>{});  // 60 outputs: a row partly vectorised, then redone
    check(std::type_identity<shape<3, 9, 17>>{});   // odd height and width: the edges stay zero
    check(std::type_identity<shape<1, 6, 10>>{});   // OW = 5: scalar only
    check(std::type_identity<shape<2, 10, 16>>{});  // 40 outputs: sixteen at a time twice (AVX-512), then eight
}

TEST_CASE("conv2d passes the gradient check (stride, padding)", "[conv][gradient]") {
    check_gradients<sequential<input<2, 6, 6>, conv2d<3, 3>, flatten, dense<3>>>(2, 10);
    check_gradients<sequential<input<2, 7, 7>, conv2d<3, 3, 2, 0>, flatten, dense<3>>>(2, 11);
    check_gradients<sequential<input<1, 6, 5>, conv2d<2, 5, 1, 2>, flatten, dense<3>>>(2, 12);
    check_gradients<sequential<input<2, 7, 6>, conv2d<4, 3, 2, 2>, tanh_act, flatten, dense<3>>>(2, 13);
    // Filters filling whole vectors take the GEMM path for the weight gradient (in double: 4, 8),
    // the others the row products; odd positions (5 x 5 = 25) give both their tails.
    static_assert(conv2d_stage<shape<2, 7, 7>, 8, 3, 1, 0, 0, 0>::weights_by_gemm<double>);
    static_assert(!conv2d_stage<shape<2, 7, 7>, 3, 3, 1, 0, 0, 0>::weights_by_gemm<double>);
    check_gradients<sequential<input<2, 7, 7>, conv2d<8, 3>, relu, flatten, dense<3>>>(3, 14);
    // Wide positions (see "conv2d forward matches a direct convolution"): the weight
    // gradient's row products over them, with zero gradients between the output rows.
    static_assert(conv2d_stage<shape<2, 6, 11>, 3, 3, 1, 0, 0, 0>::reads_wide<kernels::simd_width<double>>);
    check_gradients<sequential<input<2, 6, 11>, conv2d<3, 3>, relu, flatten, dense<3>>>(3, 15);
    // 1 x 1: the GEMMs on the sample and into its gradient, with row products (4 filters) and the GEMM (8).
    check_gradients<sequential<input<2, 7, 7>, conv2d<4, 1>, relu, flatten, dense<3>>>(3, 16);
    check_gradients<sequential<input<3, 5, 5>, conv2d<8, 1>, tanh_act, flatten, dense<3>>>(3, 17);
}

TEST_CASE("depthwise_conv2d passes the gradient check (stride, padding, multiplier)", "[conv][gradient]") {
    check_gradients<sequential<input<2, 11, 13>, depthwise_conv2d<5, 2, 2>, tanh_act, flatten, dense<3>>>(2, 18);
    check_gradients<sequential<input<1, 4, 4>, depthwise_conv2d<1, 1, 2, 2>, flatten, dense<3>>>(2, 19);
    check_gradients<sequential<input<2, 8, 8>, depthwise_conv2d<3, 3, 0, 2>, gelu, flatten, dense<3>>>(2, 25);
    check_gradients<sequential<input<3, 9, 20>, depthwise_conv2d<3>, relu6, global_avg_pool, dense<3>>>(2, 26);
}

TEST_CASE("pooling passes the gradient check", "[conv][gradient]") {
    check_gradients<sequential<input<2, 6, 6>, conv2d<3, 3>, max_pool<2>, flatten, dense<3>>>(2, 20);
    // Odd maps (7 x 5): the 2 x 2 path leaves a last row and column uncovered.
    check_gradients<sequential<input<2, 8, 6>, conv2d<3, 2>, max_pool<2>, flatten, dense<3>>>(2, 24);
    check_gradients<sequential<input<2, 7, 7>, conv2d<2, 2>, max_pool<3, 2>, flatten, dense<3>>>(2, 21);
    check_gradients<sequential<input<2, 6, 6>, avg_pool<2>, flatten, dense<3>>>(2, 22);
    check_gradients<sequential<input<1, 7, 7>, avg_pool<3, 2>, flatten, dense<3>>>(2, 23);
}

TEST_CASE("a small LeNet-like network passes the gradient check layer by layer", "[conv][gradient]") {
    // tanh, not relu, before max_pool: relu's zeros tie inside a window, and at a tie
    // max is not differentiable (central differences see half the gradient).
    check_gradients<sequential<input<1, 10, 10>, conv2d<3, 3>, tanh_act, max_pool<2>, conv2d<4, 2, 1, 1>, relu,
                               avg_pool<2>, flatten, dense<8>, relu, dense<4>>>(3, 30);
}

TEST_CASE("fused conv+relu computes what the reference plan computes", "[conv][fusion]") {
    constexpr std::size_t batch = 5;
    model<lenet> m(3);
    const auto x = random_values<float>(batch * 784, 4);
    std::vector<label_t> y{1, 2, 3, 4, 5};
    workspace<lenet, float, execution::fused> fused(batch);
    workspace<lenet, float, execution::reference> reference(batch);
    const float* p = m.parameters().data();
    forward_pass(p, fused, x.data(), batch, true);
    forward_pass(p, reference, x.data(), batch, true);
    for (std::size_t i = 0; i < batch * 10; ++i)
        REQUIRE(fused.output()[i] == Approx(reference.output()[i]).margin(1e-5));
    softmax_cross_entropy::evaluate<10>(fused.output(), y.data(), fused.output_gradient(), batch);
    softmax_cross_entropy::evaluate<10>(reference.output(), y.data(), reference.output_gradient(), batch);
    backward_pass(p, fused, batch);
    backward_pass(p, reference, batch);
    const auto gf = fused.parameter_gradients();
    const auto gr = reference.parameter_gradients();
    for (std::size_t i = 0; i < gf.size(); ++i) REQUIRE(gf[i] == Approx(gr[i]).margin(1e-5));
}

TEST_CASE("every layer's output can be inspected", "[inspect]") {
    using net = sequential<input<1, 6, 6>, conv2d<2, 3>, relu, max_pool<2>, flatten, dense<3>>;
    model<net> m(2);
    const auto x = random_values<float>(36, 3);
    std::vector<std::string> seen;
    std::vector<float> last;
    for_each_layer_output(m, std::span<const float>(x), [&](const layer_output<float>& o) {
        std::string dims;
        for (auto d : o.dims) dims += std::to_string(d) + "x";
        seen.push_back(std::to_string(o.layer_index) + " " + o.layer + " " + dims);
        last.assign(o.values.begin(), o.values.end());
    });
    CHECK(seen == std::vector<std::string>{"0 conv2d<2, 3, 1, 0> 2x4x4x", "1 relu 2x4x4x", "2 max_pool<2, 2> 2x2x2x",
                                           "3 flatten 8x", "4 dense<3> 3x"});
    const auto y = m.predict(x);
    for (std::size_t i = 0; i < 3; ++i) CHECK(last[i] == Approx(y[i]).margin(1e-6));
}

TEST_CASE("bfloat16_model computes what the float model computes on rounded parameters", "[bfloat16]") {
    using net = sequential<input<1, 12, 12>, conv2d<4, 3, 1, 1>, relu, max_pool<2>, conv2d<6, 3>, tanh_act, avg_pool<2>,
                           flatten, dense<20>, sigmoid, dense<5>>;
    model<net> m(21);
    // Nonzero biases, so that the bias path is exercised too.
    random_engine rng(22);
    for (auto& p : m.parameters()) p += static_cast<float>(rng.uniform(-0.05, 0.05));
    const bfloat16_model<net> compact(m);

    model<net> rounded = m;
    for (auto& p : rounded.parameters()) p = to_float(to_bfloat16(p));

    double worst_relative = 0;
    for (std::uint64_t k = 0; k < 8; ++k) {
        const auto x = test_support::random_values<float>(net::input_size, 100 + k);
        const auto y16 = compact.predict(x);
        // Same kernels, same order, widened weights: bit-identical to the float
        // model that holds the rounded values.
        CHECK(y16 == rounded.predict(x));
        const auto y = m.predict(x);
        double largest = 0, deviation = 0;
        for (std::size_t i = 0; i < y.size(); ++i) {
            largest = std::max(largest, std::fabs(double(y[i])));
            deviation = std::max(deviation, std::fabs(double(y16[i]) - y[i]));
        }
        worst_relative = std::max(worst_relative, deviation / largest);
        CHECK(compact.classify(x) == predicted_class<net::output_size>(y16.data()));
    }
    // Rounding every weight to 8 significant bits moves each weight by <= 0.4 % and the
    // outputs by 0.16 % of the largest output here (the same on SSE2, AVX2, AVX-512).
    INFO("largest deviation relative to the largest output: " << worst_relative);
    CHECK(worst_relative < 0.005);
    CHECK_THROWS_AS(compact.predict(std::vector<float>(3)), std::invalid_argument);
}

TEST_CASE("batch_predictor gives every sample what predict gives it, on any number of threads", "[inference]") {
    // batch_norm has state: the predictor must infer with the running statistics, as predict does.
    // The dense layer is 288 deep: its GEMM splits the depth into blocks, for one sample as for many.
    using net = sequential<input<1, 12, 12>, conv2d<8, 3, 1, 1>, batch_norm, relu, max_pool<2>, flatten, dense<16>,
                           dropout<30>, relu, dense<5>>;
    model<net> m(8);
    random_engine rng(9);
    for (auto& v : m.state()) v += static_cast<float>(rng.uniform(0.1, 0.5));  // running statistics away from 0 / 1
    constexpr std::size_t n = 23;  // not a multiple of the capacity or of the thread count
    const auto x = random_values<float>(n * net::input_size, 10);
    std::vector<float> expected(n * net::output_size);
    std::vector<std::size_t> expected_classes(n);
    for (std::size_t i = 0; i < n; ++i) {
        const auto y = m.predict(std::span<const float>(x.data() + i * net::input_size, net::input_size));
        std::copy(y.begin(), y.end(), expected.begin() + static_cast<std::ptrdiff_t>(i * net::output_size));
        expected_classes[i] = predicted_class<net::output_size>(y.data());
    }
    for (std::size_t threads : {1, 2, 3}) {
        for (std::size_t capacity : {1, 7, 64}) {
            CAPTURE(threads, capacity);
            batch_predictor<net> p(m, capacity, threads);
            CHECK(p.threads() == std::min(threads, capacity));
            std::vector<float> y(n * net::output_size, -1.0f);
            p.predict(x, y);
            // Every sample is computed whole, each value by the same operations whatever
            // the batch: bit-identical to predict, across thread counts and capacities.
            CHECK(y == expected);
            std::vector<std::size_t> classes(n, 99);
            p.classify(x, classes);
            CHECK(classes == expected_classes);
        }
    }
    batch_predictor<net> p(m, 8, 2);
    std::vector<float> y(net::output_size);
    CHECK_THROWS_WITH(p.predict(std::span<const float>(x.data(), net::input_size + 1), y),
                      Catch::Contains("not a whole number of samples"));
    CHECK_THROWS_WITH(p.predict(std::span<const float>(x.data(), 2 * net::input_size), y),
                      Catch::Contains("output values"));
    std::vector<std::size_t> none;
    p.classify(std::span<const float>(), none);  // zero samples: nothing to do
    CHECK_THROWS_AS(batch_predictor<net>(m, 0), std::invalid_argument);
}

TEST_CASE("batch_predictor gives every image what predict gives it through a first layer that skips zeros",
          "[inference]") {
    // A 128-wide first layer skips the zero pixels (in pairs of images on AVX-512); images with
    // zero backgrounds of different extents. 70 images: two chunks of 32 pairs' rows and an odd rest.
    using net = sequential<input<1, 28, 28>, flatten, dense<128>, relu, dense<10>>;
    model<net> m(4);
    constexpr std::size_t n = 70;
    auto x = random_values<float>(n * net::input_size, 11);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t r = 0; r < 28; ++r)
            for (std::size_t col = 0; col < 28; ++col) {
                const std::size_t margin = i % 9;  // 0 to 8 zero columns and rows on each side
                if (r < margin || r >= 28 - margin || col < margin + i % 3 || col >= 28 - margin)
                    x[i * net::input_size + r * 28 + col] = 0.0f;
            }
    std::vector<float> expected(n * net::output_size);
    for (std::size_t i = 0; i < n; ++i) {
        const auto y = m.predict(std::span<const float>(x.data() + i * net::input_size, net::input_size));
        std::copy(y.begin(), y.end(), expected.begin() + static_cast<std::ptrdiff_t>(i * net::output_size));
    }
    for (std::size_t threads : {1, 2}) {
        CAPTURE(threads);
        batch_predictor<net> p(m, 64, threads);
        std::vector<float> y(n * net::output_size, -1.0f);
        p.predict(x, y);
        CHECK(y == expected);
    }
}
