// No allocation on the hot path: this program replaces the global operator new
// (every form) with a counting one, then runs training steps and batch-1
// predictions after the model and its trainer exist.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <new>
#include <numeric>
#include <vector>

#include <typenet/typenet.hpp>

#include "counting_new.hpp"

using test_support::allocations;
using namespace typenet;

TEST_CASE("the counter sees allocations", "[allocations]") {
    const std::size_t before = allocations;
    auto* v = new std::vector<int>(100);
    delete v;
    CHECK(allocations - before >= 2);
}

TEST_CASE("training steps and batch-1 predictions allocate nothing", "[allocations]") {
    using net = sequential<input<1, 28, 28>, flatten, dense<128>, relu, dense<64>, sigmoid, dense<10>>;
    const auto d = [] {
        labeled_data<float> d;
        d.inputs = xt::xtensor<float, 2>::from_shape({100, 784});
        random_engine rng(1);
        for (auto& x : d.inputs) x = static_cast<float>(rng.uniform());
        for (std::size_t i = 0; i < 100; ++i) d.labels.push_back(static_cast<label_t>(i % 10));
        return d;
    }();
    model<net> m(1);
    trainer<net, float, softmax_cross_entropy, sgd> t(m, softmax_cross_entropy{},
                                                      sgd{.learning_rate = 0.01, .momentum = 0.9}, 32);
    std::vector<std::size_t> batch(32), tail(4);
    std::iota(batch.begin(), batch.end(), std::size_t{0});
    std::iota(tail.begin(), tail.end(), std::size_t{90});
    std::vector<float> x(d.sample(0), d.sample(0) + 784);

    const std::size_t before = allocations;
    for (int i = 0; i < 3; ++i) {
        const auto r = t.step(d, std::span<const std::size_t>(batch));
        CHECK(r.finite);
        t.step(d, std::span<const std::size_t>(tail));  // a partial last batch too
    }
    float sink = 0;
    for (int i = 0; i < 10; ++i) sink += m.predict(x)[3];
    const std::size_t during = allocations - before;
    CHECK(during == 0);
    CHECK(std::isfinite(sink));

    // predict in double precision too
    model<net, double> md(2);
    std::vector<double> xd(x.begin(), x.end());
    const std::size_t before_d = allocations;
    double sink_d = md.predict(xd)[0];
    CHECK(allocations - before_d == 0);
    CHECK(std::isfinite(sink_d));
}

TEST_CASE("a training step on two threads allocates nothing", "[allocations]") {
    using net = sequential<input<1, 12, 12>, conv2d<4, 3>, relu, max_pool<2>, flatten, dense<10>>;
    labeled_data<float> d;
    d.inputs = xt::xtensor<float, 2>::from_shape({40, 144});
    random_engine rng(2);
    for (auto& x : d.inputs) x = static_cast<float>(rng.uniform());
    for (std::size_t i = 0; i < 40; ++i) d.labels.push_back(static_cast<label_t>(i % 10));
    model<net> m(1);
    trainer<net, float, softmax_cross_entropy, sgd> t(m, softmax_cross_entropy{}, sgd{.learning_rate = 0.01}, 16, 2);
    std::vector<std::size_t> batch(16), tail(3);
    std::iota(batch.begin(), batch.end(), std::size_t{0});
    std::iota(tail.begin(), tail.end(), std::size_t{20});
    t.step(d, std::span<const std::size_t>(batch));  // threads are warm
    const std::size_t before = allocations;
    for (int i = 0; i < 3; ++i) {
        CHECK(t.step(d, std::span<const std::size_t>(batch)).finite);
        CHECK(t.step(d, std::span<const std::size_t>(tail)).finite);
    }
    CHECK(allocations - before == 0);
}

TEST_CASE("training steps with batch_norm, dropout, augmentation and adam allocate nothing", "[allocations]") {
    using net = sequential<input<1, 12, 12>, conv2d<4, 3, 1, 1>, batch_norm, relu, max_pool<2>, flatten, dense<16>,
                           batch_norm, relu, dropout<25>, dense<10>>;
    labeled_data<float> d;
    d.inputs = xt::xtensor<float, 2>::from_shape({40, 144});
    random_engine rng(3);
    for (auto& x : d.inputs) x = static_cast<float>(rng.uniform());
    for (std::size_t i = 0; i < 40; ++i) d.labels.push_back(static_cast<label_t>(i % 10));
    model<net> m(1);
    for (std::size_t threads : {1, 2}) {
        trainer<net, float, softmax_cross_entropy, adam> t(m, softmax_cross_entropy{}, adamw(0.001, 0.01), 16, threads,
                                                           7);
        t.set_augmentation({.horizontal_flip = true, .max_shift = 2}, 9);
        std::vector<std::size_t> batch(16), tail(3);
        std::iota(batch.begin(), batch.end(), std::size_t{0});
        std::iota(tail.begin(), tail.end(), std::size_t{20});
        t.step(d, std::span<const std::size_t>(batch));  // threads are warm
        std::vector<float> x(d.sample(0), d.sample(0) + 144);
        const std::size_t before = allocations;
        for (int i = 0; i < 3; ++i) {
            CHECK(t.step(d, std::span<const std::size_t>(batch)).finite);
            CHECK(t.step(d, std::span<const std::size_t>(tail)).finite);
        }
        float sink = m.predict(x)[0];
        CHECK(allocations - before == 0);
        CHECK(std::isfinite(sink));
    }
}

TEST_CASE("batch predictions on two threads allocate nothing", "[allocations]") {
    using net = sequential<input<1, 12, 12>, conv2d<4, 3>, relu, max_pool<2>, flatten, dense<10>>;
    model<net> m(3);
    batch_predictor<net> p(m, 16, 2);
    std::vector<float> x(40 * net::input_size, 0.5f), y(40 * net::output_size);
    std::vector<std::size_t> classes(40);
    p.classify(x, classes);  // the team's threads have started
    const std::size_t before = allocations;
    p.predict(x, y);  // three rounds of up to 16
    p.classify(x, classes);
    CHECK(allocations - before == 0);
    CHECK(std::isfinite(y[0]));
}
