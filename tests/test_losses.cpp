// Loss values and gradients against hand-computed numbers, and at extreme logits.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include <typenet/typenet.hpp>

using namespace typenet;

TEST_CASE("mse: squared error summed over outputs, averaged over the batch", "[loss]") {
    const std::vector<double> y{1, 2, 3, 5};  // batch 2 x 2 outputs
    const std::vector<double> t{0, 2, 1, 1};
    std::vector<double> g(4);
    // (1 + 0) + (4 + 16) = 21, / 2
    CHECK(mse::evaluate<2>(y.data(), t.data(), g.data(), 2) == Approx(10.5));
    CHECK(g == std::vector<double>{1, 0, 2, 4});  // 2 (y - t) / 2
}

TEST_CASE("hinge: the multiclass SVM loss of the course", "[loss]") {
    // The classic example: scores (3.2, 5.1, -1.7) with true class 0 give
    // max(0, 5.1 - 3.2 + 1) + max(0, -1.7 - 3.2 + 1) = 2.9.
    const std::vector<double> s{3.2, 5.1, -1.7, 1.3, 4.9, 2.0, 2.2, 2.5, -3.1};
    const std::vector<label_t> y{0, 1, 2};
    std::vector<double> g(9);
    // losses 2.9, 0, 12.9 -> mean 5.2667
    CHECK(hinge::evaluate<3>(s.data(), y.data(), g.data(), 3) == Approx((2.9 + 0 + 12.9) / 3));
    const double third = 1.0 / 3;
    CHECK(g[0] == Approx(-third));
    CHECK(g[1] == Approx(third));
    CHECK(g[2] == 0);
    CHECK(g[3] == 0);
    CHECK(g[4] == 0);
    CHECK(g[5] == 0);
    CHECK(g[6] == Approx(third));
    CHECK(g[7] == Approx(third));
    CHECK(g[8] == Approx(-2 * third));
}

TEST_CASE("softmax cross-entropy: negative log-likelihood of the softmax", "[loss]") {
    const std::vector<double> s{1, 2, 3};
    const std::vector<label_t> y{2};
    std::vector<double> g(3);
    const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
    CHECK(softmax_cross_entropy::evaluate<3>(s.data(), y.data(), g.data(), 1) == Approx(-std::log(std::exp(3.0) / z)));
    CHECK(g[0] == Approx(std::exp(1.0) / z));
    CHECK(g[1] == Approx(std::exp(2.0) / z));
    CHECK(g[2] == Approx(std::exp(3.0) / z - 1));
    // Uniform scores over 10 classes: log 10.
    const std::vector<float> u(10, 0.5f);
    const std::vector<label_t> c{7};
    CHECK(softmax_cross_entropy::evaluate<10>(u.data(), c.data(), static_cast<float*>(nullptr), 1) ==
          Approx(std::log(10.0)));
}

TEST_CASE("binary cross-entropy on a sigmoid output", "[loss]") {
    const std::vector<double> z{0, 2};
    const std::vector<label_t> y{1, 0};
    std::vector<double> g(2);
    const double p = 1 / (1 + std::exp(-2.0));
    CHECK(binary_cross_entropy::evaluate<1>(z.data(), y.data(), g.data(), 2) ==
          Approx((-std::log(0.5) - std::log(1 - p)) / 2));
    CHECK(g[0] == Approx((0.5 - 1) / 2));
    CHECK(g[1] == Approx(p / 2));
}

TEMPLATE_TEST_CASE("losses stay finite at logits of +-1000", "[loss]", float, double) {
    using T = TestType;
    const std::vector<T> s{1000, -1000, 0, -1000, 1000, -1000};
    const std::vector<label_t> y{1, 0};
    std::vector<T> g(6);
    auto all_finite = [&] {
        for (T v : g)
            if (!std::isfinite(v)) return false;
        return true;
    };
    const double ce = softmax_cross_entropy::evaluate<3>(s.data(), y.data(), g.data(), 2);
    CHECK(std::isfinite(ce));
    CHECK(ce == Approx(2000.0).epsilon(1e-6));  // each sample is 2000 below its best class
    CHECK(all_finite());
    const double hl = hinge::evaluate<3>(s.data(), y.data(), g.data(), 2);
    CHECK(std::isfinite(hl));
    CHECK(all_finite());
    const std::vector<T> z{1000, -1000};
    const std::vector<label_t> b{0, 1};
    std::vector<T> gb(2);
    const double bce = binary_cross_entropy::evaluate<1>(z.data(), b.data(), gb.data(), 2);
    CHECK(bce == Approx(1000.0).epsilon(1e-6));
    CHECK(gb[0] == Approx(0.5));
    CHECK(gb[1] == Approx(-0.5));
    const std::vector<T> right{1000, -1000};
    const std::vector<label_t> rb{1, 0};
    CHECK(binary_cross_entropy::evaluate<1>(right.data(), rb.data(), gb.data(), 2) == Approx(0).margin(1e-12));
    const std::vector<T> t{-1000, 1000};
    CHECK(std::isfinite(mse::evaluate<1>(z.data(), t.data(), gb.data(), 2)));
}
