// Issue 8: optimisers (Nesterov momentum, Adam, AdamW) against hand-computed
// steps; dropout and batch_norm (training vs inference, gradient checks, running
// statistics, folding into the preceding layer); augmentation; and training
// with all of them.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <iterator>
#include <utility>
#include <string>
#include <numeric>
#include <type_traits>
#include <vector>

#include <typenet/typenet.hpp>

#include "support.hpp"

using test_support::random_labels;
using test_support::random_values;

using namespace typenet;

namespace {

/// One optimiser step over the whole array (what the trainer does with one thread).
template <class O, class T>
void whole_step(const O& o, std::vector<T>& p, const std::vector<T>& g, typename O::template state<T>& s) {
    o.advance(s);
    o.step(std::span<T>(p), std::span<const T>(g), s, 0);
}

template <class Arch>
void randomize_batch_norm(model<Arch, double>& m, std::uint64_t seed) {
    // gamma, beta and the running statistics away from their initial 1, 0, 0, 1.
    random_engine rng(seed);
    m.for_each_tensor([&](const tensor_ref<double>& t) {
        if (t.name == "gamma")
            for (auto& v : t.values) v = rng.uniform(0.5, 1.5);
        if (t.name == "beta")
            for (auto& v : t.values) v = rng.uniform(-0.5, 0.5);
    });
    // state: [mean C, var C] per batch_norm; the variances must stay positive.
    auto s = m.state();
    for (std::size_t i = 0; i < s.size(); ++i) s[i] = rng.uniform(0.2, 1.5);
}

}  // namespace

// ---------------------------------------------------------------- optimisers

TEST_CASE("sgd: heavy ball and Nesterov against hand-computed steps", "[optim]") {
    // p = 1, g = 0.5 twice; lr 0.1, momentum 0.9, weight decay 0.01.
    const sgd heavy{.learning_rate = 0.1, .momentum = 0.9, .weight_decay = 0.01};
    const sgd nesterov{.learning_rate = 0.1, .momentum = 0.9, .weight_decay = 0.01, .nesterov = true};
    std::vector<double> g(1, 0.5);

    std::vector<double> p(1, 1.0);
    auto s = heavy.make_state<double>(1);
    whole_step(heavy, p, g, s);
    CHECK(p[0] == Approx(1 - 0.1 * 0.51).epsilon(1e-14));  // v = 0.51
    whole_step(heavy, p, g, s);
    CHECK(p[0] == Approx(0.949 - 0.1 * (0.9 * 0.51 + 0.5 + 0.01 * 0.949)).epsilon(1e-14));
    CHECK(s.steps == 2);
    CHECK(s.values().size() == 1);

    std::vector<double> q(1, 1.0);
    auto sn = nesterov.make_state<double>(1);
    whole_step(nesterov, q, g, sn);
    // g' = 0.51, v = 0.51, p = 1 - 0.1 (0.51 + 0.9 * 0.51) = 0.9031
    CHECK(q[0] == Approx(0.9031).epsilon(1e-14));
    whole_step(nesterov, q, g, sn);
    // g' = 0.5 + 0.01 * 0.9031 = 0.509031, v = 0.9 * 0.51 + g' = 0.968031,
    // p = 0.9031 - 0.1 (0.509031 + 0.9 * 0.968031) = 0.76507411
    CHECK(q[0] == Approx(0.76507411).epsilon(1e-13));
    CHECK(sn.values()[0] == Approx(0.968031).epsilon(1e-13));

    CHECK(sgd{}.make_state<float>(5).values().empty());  // no momentum, no state
    CHECK_THROWS_WITH((sgd{.learning_rate = 0.1, .nesterov = true}.validate()),
                      Catch::Contains("nesterov needs momentum"));
}

TEST_CASE("adam and adamw against hand-computed steps", "[optim]") {
    std::vector<double> g(1, 0.5);
    SECTION("adam, bias-corrected: the first step moves by the learning rate") {
        const adam o{.learning_rate = 0.1};
        std::vector<double> p(1, 1.0);
        auto s = o.make_state<double>(1);
        whole_step(o, p, g, s);
        // m = 0.05, v = 0.00025; m_hat = 0.5, v_hat = 0.25: step 0.1 * 0.5 / (0.5 + 1e-8)
        CHECK(p[0] == Approx(1 - 0.1 * 0.5 / (0.5 + 1e-8)).epsilon(1e-14));
        CHECK(s.values()[0] == Approx(0.05).epsilon(1e-14));
        CHECK(s.values()[1] == Approx(0.00025).epsilon(1e-14));
        std::vector<double> g2(1, -0.25);
        whole_step(o, p, g2, s);
        // m = 0.9 * 0.05 - 0.1 * 0.25 = 0.02, v = 0.999 * 0.00025 + 0.001 * 0.0625 = 0.00031225
        const double m_hat = 0.02 / (1 - 0.81), v_hat = 0.00031225 / (1 - 0.999 * 0.999);
        CHECK(p[0] == Approx(1 - 0.1 * 0.5 / (0.5 + 1e-8) - 0.1 * m_hat / (std::sqrt(v_hat) + 1e-8)).epsilon(1e-12));
        CHECK(p[0] == Approx(0.8733663).epsilon(1e-6));
        CHECK(s.steps == 2);
    }
    SECTION("coupled decay goes through the moments, decoupled (AdamW) does not") {
        const adam coupled{.learning_rate = 0.1, .weight_decay = 0.1};
        std::vector<double> p(1, 1.0);
        auto s = coupled.make_state<double>(1);
        whole_step(coupled, p, g, s);
        // g' = 0.6: m_hat = 0.6, sqrt(v_hat) = 0.6, so the step is lr again
        CHECK(p[0] == Approx(1 - 0.1 * 0.6 / (0.6 + 1e-8)).epsilon(1e-14));

        const adam decoupled = adamw(0.1, 0.1);
        CHECK(decoupled.decoupled_weight_decay);
        std::vector<double> q(1, 1.0);
        auto sw = decoupled.make_state<double>(1);
        whole_step(decoupled, q, g, sw);
        // p (1 - lr wd) - lr m_hat / (sqrt(v_hat) + eps) = 0.99 - 0.1 * 0.5 / 0.5
        CHECK(q[0] == Approx(0.99 - 0.1 * 0.5 / (0.5 + 1e-8)).epsilon(1e-14));
        CHECK(sw.values()[0] == Approx(0.05).epsilon(1e-14));  // the moments never see the decay
    }
    SECTION("bad settings are refused by name") {
        CHECK_THROWS_WITH((adam{.beta1 = 1.0}.validate()), Catch::Contains("beta1"));
        CHECK_THROWS_WITH((adam{.epsilon = 0}.validate()), Catch::Contains("epsilon"));
        CHECK_THROWS_WITH(adamw(-1.0).validate(), Catch::Contains("adamw: learning_rate"));
    }
}

TEMPLATE_TEST_CASE("every optimiser updates disjoint slices like the whole array", "[optim]", float, double) {
    // 37 values: vector lanes and a scalar tail, cut at an offset that is not a lane multiple.
    const std::size_t n = 37, cut = 19;
    const auto p0 = random_values<TestType>(n, 1);
    const auto g = random_values<TestType>(n, 2);
    auto check = [&](const auto& o) {
        std::vector<TestType> whole = p0, sliced = p0;
        auto sw = o.template make_state<TestType>(n);
        auto ss = o.template make_state<TestType>(n);
        for (int k = 0; k < 3; ++k) {
            whole_step(o, whole, g, sw);
            o.advance(ss);
            o.step(std::span<TestType>(sliced).subspan(0, cut), std::span<const TestType>(g).subspan(0, cut), ss, 0);
            o.step(std::span<TestType>(sliced).subspan(cut), std::span<const TestType>(g).subspan(cut), ss, cut);
        }
        // A slice's values go through vector lanes or the scalar tail depending on where
        // the cut falls; both are one fused multiply-add chain per value, so a few units
        // in the last place at most: 1e-6 relative in float, 1e-14 in double.
        const double tolerance = std::is_same_v<TestType, float> ? 1e-6 : 1e-14;
        for (std::size_t i = 0; i < n; ++i) CHECK(sliced[i] == Approx(whole[i]).epsilon(tolerance).margin(0));
        REQUIRE(ss.values().size() == sw.values().size());
        for (std::size_t i = 0; i < ss.values().size(); ++i)
            CHECK(ss.values()[i] == Approx(sw.values()[i]).epsilon(tolerance).margin(0));
        CHECK(ss.steps == 3);
    };
    check(sgd{.learning_rate = 0.1, .momentum = 0.9, .weight_decay = 0.01, .nesterov = true});
    check(adam{.learning_rate = 0.01, .weight_decay = 0.01});
    check(adamw(0.01, 0.1));
    auto s = adam{}.make_state<TestType>(n);
    CHECK(s.values().size() == 2 * n);
}

// ---------------------------------------------------------------- dropout

TEST_CASE("dropout: inverted in training, seeded, the identity at inference", "[dropout]") {
    using net = sequential<input<2000>, dropout<30>>;
    model<net> m;
    const auto x = random_values<float>(2000, 3, 1.0);
    // Inference: identity.
    const auto y = m.predict(x);
    for (std::size_t i = 0; i < 2000; ++i) REQUIRE(y[i] == x[i]);

    workspace<net, float> ws(1);
    random_engine rng(5);
    forward_pass(m.parameters().data(), ws, x.data(), 1, false, pass_mode<float>{true, nullptr, nullptr, &rng});
    std::vector<float> first(ws.output(), ws.output() + 2000);
    std::size_t dropped = 0;
    for (std::size_t i = 0; i < 2000; ++i) {
        if (first[i] == 0)
            ++dropped;
        else
            CHECK(first[i] == Approx(x[i] / 0.7f).epsilon(1e-6));
    }
    CHECK(dropped > 520);  // expected 600, standard deviation about 20
    CHECK(dropped < 680);

    random_engine same(5), other(6);
    forward_pass(m.parameters().data(), ws, x.data(), 1, false, pass_mode<float>{true, nullptr, nullptr, &same});
    CHECK(std::equal(first.begin(), first.end(), ws.output()));
    forward_pass(m.parameters().data(), ws, x.data(), 1, false, pass_mode<float>{true, nullptr, nullptr, &other});
    CHECK(!std::equal(first.begin(), first.end(), ws.output()));
}

TEST_CASE("batch_norm: batch statistics in training, running statistics at inference", "[batch_norm]") {
    using net = sequential<input<2, 3, 3>, conv2d<2, 1>, batch_norm>;  // 1x1 conv: 2 channels of 9 positions
    model<net, double> m(91);
    const std::size_t batch = 4, size = 18;
    const auto x = random_values<double>(batch * size, 92, 3.0);
    workspace<net, double> ws(batch);
    random_engine rng(1);
    forward_pass(m.parameters().data(), ws, x.data(), batch, false,
                 pass_mode<double>{true, m.state().data(), m.state().data(), &rng});
    // conv2d's own outputs (stage 0), to compute the expected statistics by hand.
    const double* z = ws.activation(1);
    const double* out = ws.output();
    for (std::size_t c = 0; c < 2; ++c) {
        double sum = 0, sq = 0, out_sum = 0, out_sq = 0;
        for (std::size_t b = 0; b < batch; ++b)
            for (std::size_t i = 0; i < 9; ++i) {
                sum += z[b * size + c * 9 + i];
                out_sum += out[b * size + c * 9 + i];
            }
        const double mean = sum / 36;
        for (std::size_t b = 0; b < batch; ++b)
            for (std::size_t i = 0; i < 9; ++i) {
                sq += (z[b * size + c * 9 + i] - mean) * (z[b * size + c * 9 + i] - mean);
                out_sq += out[b * size + c * 9 + i] * out[b * size + c * 9 + i];
            }
        CHECK(out_sum / 36 == Approx(0).margin(1e-12));  // gamma 1, beta 0: standardised
        CHECK(out_sq / 36 == Approx(sq / 36 / (sq / 36 + 1e-5)).epsilon(1e-12));
        CHECK(m.state()[c] == Approx(0.1 * mean).epsilon(1e-12));               // running mean from 0
        CHECK(m.state()[2 + c] == Approx(0.9 + 0.1 * sq / 35).epsilon(1e-12));  // unbiased variance, from 1
    }
    // Inference uses the running statistics.
    const auto y = m.predict(std::span<const double>(x.data(), size));
    for (std::size_t c = 0; c < 2; ++c)
        for (std::size_t i = 0; i < 9; ++i) {
            const double zi = m.parameters()[c] * 0 + [&] {
                // 1x1 conv: z = w[0][c] x0 + w[1][c] x1 + b[c] (weights [C_in][F]).
                const auto p = m.parameters();
                return p[0 * 2 + c] * x[0 * 9 + i] + p[1 * 2 + c] * x[9 + i] + p[4 + c];
            }();
            CHECK(y[c * 9 + i] == Approx((zi - m.state()[c]) / std::sqrt(m.state()[2 + c] + 1e-5)).epsilon(1e-12));
        }
    // Parameters (gamma, beta) and state are separate blocks: the optimiser gets only the parameters.
    CHECK(net::parameter_count == 2 * 2 + 2 + 2 * 2);
    CHECK(net::state_count == 4);
    CHECK(m.state().size() == 4);
    // Without the state, an inference pass is refused instead of reading garbage.
    CHECK_THROWS_WITH(forward_pass(m.parameters().data(), ws, x.data(), 1), Catch::Contains("needs the model's state"));
}

TEST_CASE("folding batch_norm and dropout away keeps the inference outputs", "[batch_norm][fold]") {
    using net = sequential<input<2, 8, 8>, conv2d<4, 3, 1, 1>, batch_norm, relu, max_pool<2>, flatten, dense<6>,
                           batch_norm, relu, dropout<50>, dense<3>>;
    using expected =
        sequential<input<2, 8, 8>, conv2d<4, 3, 1, 1>, relu, max_pool<2>, flatten, dense<6>, relu, dense<3>>;
    static_assert(std::is_same_v<folded_t<net>, expected>);
    static_assert(folded_t<net>::state_count == 0);
    model<net, double> m(101);
    randomize_batch_norm(m, 102);
    const auto folded = fold_for_inference(m);
    for (std::uint64_t seed = 0; seed < 5; ++seed) {
        const auto x = random_values<double>(128, 103 + seed);
        const auto a = m.predict(x);
        const auto b = folded.predict(x);
        for (std::size_t i = 0; i < 3; ++i) CHECK(b[i] == Approx(a[i]).epsilon(1e-12).margin(1e-12));
    }
    // The same in float, after training has moved gamma, beta and the running statistics.
    model<net> mf(104);
    const auto d = [] {
        labeled_data<float> d;
        d.inputs = xt::xtensor<float, 2>::from_shape({64, 128});
        random_engine rng(105);
        for (auto& v : d.inputs) v = static_cast<float>(rng.uniform(-1, 1));
        for (std::size_t i = 0; i < 64; ++i) d.labels.push_back(static_cast<label_t>(i % 3));
        return d;
    }();
    fit(mf, d, softmax_cross_entropy{}, sgd{.learning_rate = 0.05, .momentum = 0.9},
        {.epochs = 3, .batch_size = 16, .progress = false});
    const auto ff = fold_for_inference(mf);
    for (std::size_t s = 0; s < 8; ++s) {
        const std::span<const float> x(d.sample(s), 128);
        const auto a = mf.predict(x);
        const auto b = ff.predict(x);
        for (std::size_t i = 0; i < 3; ++i) CHECK(b[i] == Approx(a[i]).epsilon(1e-4).margin(1e-5));
    }
    // Weight files hold the running statistics too (as tensors after the parameters).
    test_support::temporary_directory dir;
    model<net> loaded(999);
    CHECK(!(loaded == mf));
    save(mf, dir / "bn.tnw");
    load(loaded, dir / "bn.tnw");
    CHECK(loaded == mf);  // parameters and state
    std::size_t state_tensors = 0;
    std::as_const(mf).for_each_state_tensor([&](const tensor_ref<const float>& t) {
        CHECK((t.name == "running_mean" || t.name == "running_var"));
        ++state_tensors;
    });
    CHECK(state_tensors == 4);
    // A file of another architecture is refused, the model unchanged.
    model<expected> plain(5);
    save(plain, dir / "plain.tnw");
    CHECK_THROWS_AS(load(loaded, dir / "plain.tnw"), weights_error);
    CHECK(loaded == mf);

    // export_header writes the folded network.
    export_header(mf, dir / "bn.hpp", "bn_net");
    std::ifstream in(dir / "bn.hpp");
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(text.find("batch_norm") == std::string::npos);
    CHECK(text.find("dense<6>") != std::string::npos);
}

// ---------------------------------------------------------------- augmentation

TEST_CASE("augmentation: flips and shifts, seeded, in place", "[augment]") {
    // A 1 x 3 x 4 image with values 1..12.
    std::vector<float> img(12);
    std::iota(img.begin(), img.end(), 1.0f);
    augmenter<float> a({.horizontal_flip = true, .max_shift = 1}, 1, 3, 4, 1);
    std::vector<float> f = img;
    a.transform(f.data(), true, 0, 0);
    CHECK(f == std::vector<float>{4, 3, 2, 1, 8, 7, 6, 5, 12, 11, 10, 9});
    std::vector<float> s = img;
    a.transform(s.data(), false, 1, -1);  // down one row, left one column, zeros shifted in
    CHECK(s == std::vector<float>{0, 0, 0, 0, 2, 3, 4, 0, 6, 7, 8, 0});

    // Seeded: the same seed gives the same batch; every image keeps its pixel multiset or loses some to the border.
    std::vector<float> batch1, batch2;
    for (int i = 0; i < 50; ++i) batch1.insert(batch1.end(), img.begin(), img.end());
    batch2 = batch1;
    augmenter<float>({.horizontal_flip = true, .max_shift = 1}, 1, 3, 4, 7).apply(batch1.data(), 50);
    augmenter<float>({.horizontal_flip = true, .max_shift = 1}, 1, 3, 4, 7).apply(batch2.data(), 50);
    CHECK(batch1 == batch2);
    std::size_t changed = 0, flipped_only = 0;
    for (int i = 0; i < 50; ++i) {
        std::vector<float> one(batch1.begin() + i * 12, batch1.begin() + (i + 1) * 12);
        if (one != img) ++changed;
        if (one == f) ++flipped_only;
    }
    CHECK(changed > 30);  // unchanged only without flip and shift: probability 1/18
    CHECK(flipped_only > 0);
    CHECK_THROWS_WITH((augmenter<float>({.max_shift = 3}, 1, 3, 4, 1)), Catch::Contains("max_shift"));
}

TEST_CASE("augmentation: cutout zeroes a square in every channel, clipped at the border, seeded", "[augment]") {
    // A 2 x 4 x 5 image of ones.
    augmenter<float> a({.cutout = 3}, 2, 4, 5, 1);
    const auto zeros_after = [&](std::size_t cy, std::size_t cx) {
        std::vector<float> img(40, 1.0f);
        a.cut_out(img.data(), cy, cx);
        std::vector<int> zero(40);
        for (std::size_t i = 0; i < 40; ++i) zero[i] = img[i] == 0.0f;
        return zero;
    };
    // Centred inside: rows 1..3, columns 1..3 of both channels.
    std::vector<int> inside(40, 0);
    for (std::size_t c = 0; c < 2; ++c)
        for (std::size_t y = 1; y <= 3; ++y)
            for (std::size_t x = 1; x <= 3; ++x) inside[(c * 4 + y) * 5 + x] = 1;
    CHECK(zeros_after(2, 2) == inside);
    // At the corner: only the 2 x 2 part inside the image.
    std::vector<int> corner(40, 0);
    for (std::size_t c = 0; c < 2; ++c)
        for (std::size_t y = 0; y <= 1; ++y)
            for (std::size_t x = 0; x <= 1; ++x) corner[(c * 4 + y) * 5 + x] = 1;
    CHECK(zeros_after(0, 0) == corner);
    // Even side 2 at (3, 4): rows 2..3, columns 3..4.
    augmenter<float> even({.cutout = 2}, 1, 4, 5, 1);
    std::vector<float> img(20, 1.0f);
    even.cut_out(img.data(), 3, 4);
    CHECK(std::count(img.begin(), img.end(), 0.0f) == 4);
    CHECK(img[2 * 5 + 3] == 0.0f);
    CHECK(img[3 * 5 + 4] == 0.0f);

    // apply: every image loses between 1 and 9 pixels per channel (the square clipped), the same for one seed.
    std::vector<float> batch1(40 * 30, 1.0f), batch2 = batch1;
    augmenter<float>({.cutout = 3}, 2, 4, 5, 3).apply(batch1.data(), 30);
    augmenter<float>({.cutout = 3}, 2, 4, 5, 3).apply(batch2.data(), 30);
    CHECK(batch1 == batch2);
    for (std::size_t i = 0; i < 30; ++i) {
        const auto first = batch1.begin() + static_cast<std::ptrdiff_t>(i * 40);
        const auto zeros = std::count(first, first + 20, 0.0f);
        CHECK(zeros >= 1);
        CHECK(zeros <= 9);
        CHECK(std::count(first + 20, first + 40, 0.0f) == zeros);  // the same square in the second channel
    }
    CHECK_THROWS_WITH((augmenter<float>({.cutout = 5}, 1, 4, 5, 1)), Catch::Contains("cutout"));
}

// ---------------------------------------------------------------- training

TEST_CASE("a batch-normalised network with dropout learns with every optimiser", "[training]") {
    using net = sequential<input<2>, dense<16>, batch_norm, relu, dropout<10>, dense<16>, batch_norm, relu, dense<3>>;
    const auto d = data::gaussian_blobs<float>(300, 3, 0.4, 11);
    const auto held_out = data::gaussian_blobs<float>(300, 3, 0.4, 111);  // the same blobs, other draws
    auto train_with = [&](auto optimizer, std::size_t threads) {
        model<net> m(12);
        const std::vector<float> before(m.state().begin(), m.state().end());
        const auto h = fit(m, d, softmax_cross_entropy{}, optimizer,
                           {.epochs = 15,
                            .batch_size = 32,
                            .seed = 3,
                            .progress = false,
                            .threads = threads,
                            .schedule = learning_rate_schedule::cosine(0.1)});
        INFO("threads " << threads);
        CHECK(h.epochs.back().loss < h.epochs.front().loss);
        CHECK(accuracy(m, held_out) > 0.9);
        CHECK(!std::equal(before.begin(), before.end(), m.state().begin()));  // running statistics moved
        return m;
    };
    train_with(sgd{.learning_rate = 0.1, .momentum = 0.9, .weight_decay = 5e-4, .nesterov = true}, 1);
    train_with(adam{.learning_rate = 0.01}, 1);
    const auto a = train_with(adamw(0.01, 0.01), 2);
    const auto b = train_with(adamw(0.01, 0.01), 2);
    CHECK(a == b);  // reproducible for a thread count, dropout and batch norm included
}

TEST_CASE("augmentation needs an image input", "[augment]") {
    using flat = sequential<input<4>, dense<2>>;
    model<flat> m;
    trainer<flat, float, softmax_cross_entropy, sgd> t(m, softmax_cross_entropy{}, sgd{}, 4);
    CHECK_THROWS_WITH(t.set_augmentation({.horizontal_flip = true}, 1), Catch::Contains("image input"));
}
