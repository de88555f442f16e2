// Optimisation: SGD steps by hand, minibatches without replacement, determinism,
// argument checks that change nothing, and the course's small problems learnt.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <sstream>
#include <vector>

#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

#include <typenet/typenet.hpp>

#include "support.hpp"

using namespace typenet;

namespace {

// A data set that records which samples each batch asked for.
struct recording_data : labeled_data<float> {
    mutable std::vector<std::vector<std::size_t>> batches;
    void gather_targets(const std::size_t* idx, std::size_t n, label_t* out) const {
        batches.emplace_back(idx, idx + n);
        labeled_data<float>::gather_targets(idx, n, out);
    }
};

recording_data small_blobs(std::size_t n) {
    recording_data d;
    static_cast<labeled_data<float>&>(d) = data::gaussian_blobs<float>(n, 3, 0.3, 5);
    return d;
}

using blob_net = sequential<input<2>, dense<3>>;

}  // namespace

TEST_CASE("an SGD step is p - lr * g, with momentum v = mu v + g", "[optim]") {
    std::vector<float> p{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};  // 11: a vector and a scalar tail
    std::vector<float> g(11, 0.5f);
    sgd plain{.learning_rate = 0.1};
    auto s0 = plain.make_state<float>(11);
    plain.step(std::span<float>(p), std::span<const float>(g), s0);
    for (std::size_t i = 0; i < 11; ++i) CHECK(p[i] == Approx(i + 1 - 0.05));

    std::vector<double> q(11, 0.0);
    std::vector<double> gq(11, 1.0);
    sgd heavy{.learning_rate = 0.1, .momentum = 0.9};
    auto s = heavy.make_state<double>(11);
    heavy.step(std::span<double>(q), std::span<const double>(gq), s);  // v = 1,   q = -0.1
    heavy.step(std::span<double>(q), std::span<const double>(gq), s);  // v = 1.9, q = -0.29
    for (double v : q) CHECK(v == Approx(-0.29));

    // Weight decay 0.5 on p = 2, g = 1: g' = 1 + 1 = 2; v = 2; p = 2 - 0.1 * 2 = 1.8
    std::vector<double> r(9, 2.0), gr(9, 1.0);
    sgd decayed{.learning_rate = 0.1, .momentum = 0.5, .weight_decay = 0.5};
    auto sd = decayed.make_state<double>(9);
    decayed.step(std::span<double>(r), std::span<const double>(gr), sd);
    for (double v : r) CHECK(v == Approx(1.8));
    // second step: g' = 1 + 0.9 = 1.9; v = 0.5 * 2 + 1.9 = 2.9; p = 1.8 - 0.29 = 1.51
    decayed.step(std::span<double>(r), std::span<const double>(gr), sd);
    for (double v : r) CHECK(v == Approx(1.51));
    std::vector<float> s1(5, 1.0f), g1(5, 0.0f);
    sgd plain_decay{.learning_rate = 0.5, .weight_decay = 0.2};
    auto st = plain_decay.make_state<float>(5);
    plain_decay.step(std::span<float>(s1), std::span<const float>(g1), st);
    for (float v : s1) CHECK(v == Approx(0.9f));
}

TEST_CASE("learning-rate schedules", "[optim]") {
    const auto cosine = learning_rate_schedule::cosine(0.1);
    CHECK(cosine.factor(0, 11) == Approx(1.0));
    CHECK(cosine.factor(5, 11) == Approx(0.55));
    CHECK(cosine.factor(10, 11) == Approx(0.1));
    const auto step = learning_rate_schedule::step(3, 0.5);
    CHECK(step.factor(2, 10) == 1.0);
    CHECK(step.factor(3, 10) == 0.5);
    CHECK(step.factor(7, 10) == 0.25);
    CHECK(learning_rate_schedule::constant().factor(9, 10) == 1.0);
    CHECK_THROWS_AS(learning_rate_schedule::step(0, 0.5).validate(), std::invalid_argument);
    const auto d = data::gaussian_blobs<float>(60, 3, 0.5, 2);
    model<blob_net> m(1);
    const auto h = fit(m, d, softmax_cross_entropy{}, sgd{.learning_rate = 0.2},
                       fit_options{.epochs = 4, .progress = false, .schedule = learning_rate_schedule::step(2, 0.5)});
    CHECK(h.epochs[0].learning_rate == Approx(0.2));
    CHECK(h.epochs[2].learning_rate == Approx(0.1));
}

TEST_CASE("the one-cycle schedule rises, peaks at the end of its warm-up and falls batch by batch", "[optim]") {
    const auto one = learning_rate_schedule::one_cycle(0.25, 0.1, 0.002);
    CHECK(one.per_batch());
    CHECK_FALSE(learning_rate_schedule::cosine().per_batch());
    CHECK(one.factor_at(0.0, 0, 4) == Approx(0.1));
    CHECK(one.factor_at(0.125, 0, 4) == Approx(0.55));
    CHECK(one.factor_at(0.25, 1, 4) == Approx(1.0));
    CHECK(one.factor_at(0.625, 2, 4) == Approx(0.002 + 0.998 * 0.5));
    CHECK(one.factor_at(1.0, 3, 4) == Approx(0.002));
    CHECK_THROWS_AS(learning_rate_schedule::one_cycle(1.0).validate(), std::invalid_argument);
    CHECK_THROWS_AS(learning_rate_schedule::one_cycle(0.25, 0.0).validate(), std::invalid_argument);
    // In fit, the rate of the last batch of each epoch is the one the history records:
    // 3 batches an epoch, 4 epochs, so epoch e ends after 3e + 2 of 12 batches.
    const auto d = data::gaussian_blobs<float>(60, 3, 0.5, 2);
    model<blob_net> m(1);
    const auto h =
        fit(m, d, softmax_cross_entropy{}, sgd{.learning_rate = 0.2},
            fit_options{.epochs = 4, .batch_size = 16, .validation_split = 0.2, .progress = false, .schedule = one});
    REQUIRE(h.epochs.size() == 4);
    for (std::size_t e = 0; e < 4; ++e)
        CHECK(h.epochs[e].learning_rate == Approx(0.2 * one.factor_at(double(3 * e + 2) / 12.0, e, 4)));
    CHECK(h.epochs[0].learning_rate < h.epochs[1].learning_rate);
    CHECK(h.epochs[3].learning_rate < h.epochs[2].learning_rate);
}

TEST_CASE("each epoch visits every sample once, in a new seeded order, the last batch partial", "[fit]") {
    auto d = small_blobs(23);
    model<blob_net> m(1);
    fit(m, d, softmax_cross_entropy{}, sgd{.learning_rate = 0.01},
        fit_options{.epochs = 3, .batch_size = 5, .seed = 9, .progress = false});
    REQUIRE(d.batches.size() == 3 * 5);  // ceil(23 / 5) = 5 batches per epoch
    std::vector<std::vector<std::size_t>> epochs(3);
    for (std::size_t b = 0; b < d.batches.size(); ++b) {
        CHECK(d.batches[b].size() == (b % 5 == 4 ? 3u : 5u));
        epochs[b / 5].insert(epochs[b / 5].end(), d.batches[b].begin(), d.batches[b].end());
    }
    for (auto& e : epochs) {
        auto sorted = e;
        std::sort(sorted.begin(), sorted.end());
        std::vector<std::size_t> all(23);
        std::iota(all.begin(), all.end(), std::size_t{0});
        CHECK(sorted == all);  // without replacement: a permutation
    }
    CHECK(epochs[0] != epochs[1]);  // reshuffled every epoch
    CHECK(epochs[1] != epochs[2]);

    auto again = small_blobs(23);
    model<blob_net> m2(1);
    fit(m2, again, softmax_cross_entropy{}, sgd{.learning_rate = 0.01},
        fit_options{.epochs = 3, .batch_size = 5, .seed = 9, .progress = false});
    CHECK(again.batches == d.batches);  // the same seed draws the same batches
}

TEST_CASE("the same seed gives bit-identical weights, another seed does not", "[fit]") {
    const auto d = data::two_spirals<float>(300, 1.0, 0.01, 1);
    using net = sequential<input<2>, dense<16>, tanh_act, dense<16>, relu, dense<2>>;
    auto train = [&](std::uint64_t seed) {
        model<net> m(3);
        fit(m, d, softmax_cross_entropy{}, sgd{.learning_rate = 0.05, .momentum = 0.9},
            fit_options{.epochs = 5, .batch_size = 32, .seed = seed, .progress = false});
        return m;
    };
    const auto a = train(1), b = train(1), c = train(2);
    CHECK(std::equal(a.parameters().begin(), a.parameters().end(), b.parameters().begin()));
    CHECK_FALSE(a == c);
}

TEST_CASE("history has one record per epoch and the loss falls", "[fit]") {
    const auto d = data::gaussian_blobs<float>(600, 3, 0.5, 2);
    model<blob_net> m(4);
    const auto start = std::chrono::steady_clock::now();
    const auto h = fit(m, d, softmax_cross_entropy{}, sgd{.learning_rate = 0.1},
                       fit_options{.epochs = 8, .batch_size = 32, .validation_split = 0.25, .progress = false});
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    REQUIRE(h.size() == 8);
    CHECK(h.epochs[0].epoch == 1);
    CHECK(h.last().loss < h.epochs[0].loss);
    REQUIRE(h.last().accuracy.has_value());
    REQUIRE(h.last().validation_accuracy.has_value());
    CHECK(*h.last().validation_accuracy > 0.9);
    // Each epoch's training time is measured (not left at zero), and together they fit
    // inside the wall time of the whole call.
    double seconds = 0;
    for (const auto& e : h.epochs) {
        CHECK(e.seconds > 0);
        seconds += e.seconds;
    }
    CHECK(seconds <= wall);
}

TEST_CASE("bad arguments throw std::invalid_argument naming them and change nothing", "[fit][errors]") {
    auto d = data::gaussian_blobs<float>(50, 3, 0.5, 2);
    model<blob_net> m(4);
    const model<blob_net> before = m;
    auto fails_with = [&](auto&& call, const std::string& word) {
        try {
            call();
            FAIL("no exception");
        } catch (const std::invalid_argument& e) {
            CHECK_THAT(e.what(), Catch::Contains(word));
        }
        CHECK(m == before);
    };
    const auto loss = softmax_cross_entropy{};
    fails_with([&] { fit(m, d, loss, sgd{.learning_rate = 0.1}, fit_options{.batch_size = 0, .progress = false}); },
               "batch_size");
    fails_with([&] { fit(m, d, loss, sgd{.learning_rate = 0}, fit_options{.progress = false}); }, "learning_rate");
    fails_with([&] { fit(m, d, loss, sgd{.learning_rate = -1}, fit_options{.progress = false}); }, "learning_rate");
    fails_with([&] { fit(m, d, loss, sgd{.learning_rate = std::nan("")}, fit_options{.progress = false}); },
               "learning_rate");
    fails_with([&] { fit(m, d, loss, sgd{.learning_rate = 0.1, .momentum = 1.5}, fit_options{.progress = false}); },
               "momentum");
    fails_with([&] { fit(m, d, loss, sgd{.learning_rate = 0.1}, fit_options{.epochs = 0, .progress = false}); },
               "epochs");
    fails_with(
        [&] { fit(m, d, loss, sgd{.learning_rate = 0.1}, fit_options{.validation_split = 1.0, .progress = false}); },
        "validation_split");
    auto bad_label = d;
    bad_label.labels[7] = 3;  // the network has 3 classes: 0, 1, 2
    fails_with([&] { fit(m, bad_label, loss, sgd{.learning_rate = 0.1}, fit_options{.progress = false}); }, "label 3");
    labeled_data<float> empty;
    empty.inputs = xt::xtensor<float, 2>::from_shape({0, 2});
    fails_with([&] { fit(m, empty, loss, sgd{.learning_rate = 0.1}, fit_options{.progress = false}); }, "empty");
    labeled_data<float> wide;
    wide.inputs = xt::zeros<float>({4, 3});
    wide.labels = {0, 1, 2, 0};
    fails_with([&] { fit(m, wide, loss, sgd{.learning_rate = 0.1}, fit_options{.progress = false}); }, "features");
    fails_with([&] { (void)m.predict(std::vector<float>{1, 2, 3}); }, "input");
    workspace<blob_net, float> ws(4);
    fails_with([&] { ws.check_batch(0, "forward"); }, "batch size");
    fails_with([&] { ws.check_batch(5, "forward"); }, "capacity");
}

TEST_CASE("a NaN loss stops training and keeps the last good weights", "[fit][errors]") {
    auto d = data::gaussian_blobs<float>(64, 3, 0.5, 2);
    d.inputs(40, 1) = std::numeric_limits<float>::quiet_NaN();
    model<blob_net> m(4);
    try {
        fit(m, d, softmax_cross_entropy{}, sgd{.learning_rate = 0.1},
            fit_options{.epochs = 1, .batch_size = 64, .shuffle = false, .progress = false});
        FAIL("no exception");
    } catch (const training_diverged& e) {
        CHECK(e.epoch == 1);
        CHECK(e.batch == 1);
        CHECK_THAT(e.what(), Catch::Contains("epoch 1, batch 1"));
    }
    CHECK(m == model<blob_net>(4));  // the only step was refused: weights untouched
    for (float v : m.parameters()) CHECK(std::isfinite(v));
}

// --- the course's examples, in reduced form -------------------------------------

TEST_CASE("linear regression recovers w and b within 2 % (full-batch gradient descent)", "[examples]") {
    const auto d = data::noisy_line<double>(200, 2.5, -0.7, 0.1, 3);
    model<sequential<input<1>, dense<1>>, double> m(1);
    fit(m, d, mse{}, sgd{.learning_rate = 0.2},
        fit_options{.epochs = 300, .batch_size = full_batch, .progress = false});
    const auto p = m.parameters();
    CHECK(p[0] == Approx(2.5).epsilon(0.02));
    CHECK(p[1] == Approx(-0.7).epsilon(0.02));
}

TEST_CASE("linear softmax and SVM classifiers separate three Gaussian blobs", "[examples]") {
    const auto train = data::gaussian_blobs<float>(600, 3, 0.5, 11);
    const auto test = data::gaussian_blobs<float>(600, 3, 0.5, 12);
    model<blob_net> soft(1), svm(1);
    fit(soft, train, softmax_cross_entropy{}, sgd{.learning_rate = 0.1}, fit_options{.epochs = 20, .progress = false});
    fit(svm, train, hinge{}, sgd{.learning_rate = 0.01}, fit_options{.epochs = 20, .progress = false});
    CHECK(accuracy(soft, test) > 0.95);
    CHECK(accuracy(svm, test) > 0.95);
    const auto cm = confusion_matrix(soft, test);
    CHECK(xt::sum(cm)() == 600);
}

TEST_CASE("XOR and spirals: linear stays near chance, a tanh MLP reaches 98 %", "[examples]") {
    using linear = sequential<input<2>, dense<2>>;
    using mlp = sequential<input<2>, dense<16>, tanh_act, dense<16>, tanh_act, dense<2>>;
    auto score = [](auto m, const auto& train, const auto& test, std::size_t epochs) {
        fit(m, train, softmax_cross_entropy{}, sgd{.learning_rate = 0.05, .momentum = 0.9},
            fit_options{.epochs = epochs, .batch_size = 16, .seed = 2, .progress = false});
        return accuracy(m, test);
    };
    const auto xor_train = data::xor_points<float>(1000, 1), xor_test = data::xor_points<float>(1000, 2);
    CHECK(score(model<linear>(1), xor_train, xor_test, 30) < 0.65);
    CHECK(score(model<mlp>(1), xor_train, xor_test, 100) >= 0.98);
    const auto sp_train = data::two_spirals<float>(2000, 1.0, 0.01, 3),
               sp_test = data::two_spirals<float>(2000, 1.0, 0.01, 4);
    CHECK(score(model<linear>(1), sp_train, sp_test, 30) < 0.65);
    CHECK(score(model<mlp>(1), sp_train, sp_test, 500) >= 0.98);
}

TEST_CASE("binary classification with one sigmoid output (binary cross-entropy)", "[examples]") {
    const auto train = data::xor_points<float>(1000, 5), test = data::xor_points<float>(500, 6);
    model<sequential<input<2>, dense<8>, tanh_act, dense<1>>> m(2);
    fit(m, train, binary_cross_entropy{}, sgd{.learning_rate = 0.1, .momentum = 0.9},
        fit_options{.epochs = 100, .batch_size = 16, .progress = false});
    CHECK(accuracy(m, test) > 0.95);
}

TEST_CASE("precision and recall per class from a confusion matrix", "[metrics]") {
    xt::xtensor<std::size_t, 2> cm = {{8, 2, 0}, {1, 9, 0}, {0, 0, 0}};
    const auto s = per_class_scores(cm);
    CHECK(s[0].precision == Approx(8.0 / 9));
    CHECK(s[0].recall == Approx(0.8));
    CHECK(s[1].precision == Approx(9.0 / 11));
    CHECK(s[1].recall == Approx(0.9));
    CHECK(s[2].precision == 0);  // no predictions, no samples: reported as 0
    CHECK(s[2].support == 0);
    std::ostringstream out;
    const std::string_view names[] = {"cat", "dog", "horse"};
    print_confusion_matrix(out, cm, names);
    CHECK_THAT(out.str(), Catch::Contains("1 dog") && Catch::Contains("0.889") && Catch::Contains("precision"));
}

TEST_CASE("evaluate, accuracy and confusion_matrix give the same figures on any number of threads",
          "[metrics][threads]") {
    // batch_norm's running statistics and dropout's inference identity must hold on every thread.
    using net = sequential<input<2>, dense<16>, batch_norm, relu, dropout<20>, dense<3>>;
    const auto d = data::gaussian_blobs<float>(301, 3, 0.8, 4);  // 301: batches and thread shares uneven
    model<net> m(5);
    fit(m, d, softmax_cross_entropy{}, sgd{.learning_rate = 0.1},
        fit_options{.epochs = 2, .batch_size = 32, .progress = false});
    const evaluation one = evaluate(m, d, softmax_cross_entropy{}, 64, 1);
    CHECK(one.accuracy > 0.5);
    for (std::size_t threads : {2, 3}) {
        CAPTURE(threads);
        const evaluation many = evaluate(m, d, softmax_cross_entropy{}, 64, threads);
        CHECK(many.loss == one.loss);
        CHECK(many.accuracy == one.accuracy);
        CHECK(accuracy(m, d, 50, threads) == one.accuracy);
        const bool same_counts = confusion_matrix(m, d, 64, threads) == confusion_matrix(m, d, 64, 1);
        CHECK(same_counts);
    }
}

TEST_CASE("two threads: bit-identical run to run, and the same training as one thread up to rounding",
          "[fit][threads]") {
    const auto d = data::two_spirals<float>(500, 1.0, 0.01, 1);
    using net = sequential<input<2>, dense<32>, tanh_act, dense<16>, relu, dense<2>>;
    auto train = [&](std::size_t threads) {
        model<net> m(3);
        fit(m, d, softmax_cross_entropy{}, sgd{.learning_rate = 0.05, .momentum = 0.9},
            fit_options{.epochs = 4, .batch_size = 33, .seed = 5, .progress = false, .threads = threads});
        return m;
    };
    const auto a = train(2), b = train(2), one = train(1);
    CHECK(a == b);
    double worst = 0;
    for (std::size_t i = 0; i < net::parameter_count; ++i)
        worst = std::max(worst, double(std::abs(a.parameters()[i] - one.parameters()[i])));
    CHECK(worst < 1e-3);
    CHECK(train(3) == train(3));
}

TEST_CASE("thread_team runs every member and splits ranges exactly", "[threads]") {
    thread_team team(3);
    std::vector<int> hit(3, 0);
    auto job = [&](std::size_t m) { hit[m] += 1; };
    for (int i = 0; i < 5; ++i) team.run(job);
    CHECK(hit == std::vector<int>{5, 5, 5});
    auto boom = [](std::size_t m) {
        if (m == 2) throw std::runtime_error("member 2 failed");
    };
    CHECK_THROWS_WITH(team.run(boom), "member 2 failed");
    std::size_t covered = 0;
    for (std::size_t p = 0; p < 4; ++p) {
        const auto [b, e] = split_range(101, 4, p, 16);
        CHECK(b == covered);
        covered = e;
    }
    CHECK(covered == 101);
}

// --- crash-safe, resumable training (train/checkpoint.hpp) -------------------------

namespace {

using checkpoint_net = sequential<input<2>, dense<16>, relu, dense<3>>;

labeled_data<float> checkpoint_blobs() { return data::gaussian_blobs<float>(3000, 3, 0.6, 11); }

fit_options checkpoint_run(std::size_t threads) {
    return fit_options{.epochs = 3,
                       .batch_size = 16,
                       .seed = 5,
                       .validation_split = 0.1,
                       .progress = false,
                       .threads = threads,
                       .schedule = learning_rate_schedule::step(1, 0.5)};
}
const sgd checkpoint_optimizer{.learning_rate = 0.05, .momentum = 0.9, .weight_decay = 1e-4};

// Everything a step reads and changes besides the parameters: batch_norm running
// statistics (model state), dropout streams (one per thread) and the augmentation
// stream. A resumed run matches an uninterrupted one only if the checkpoint holds
// all of them.
using contextual_net = sequential<input<1, 8, 8>, conv2d<4, 3, 1, 1>, batch_norm, relu, max_pool<2>, flatten, dense<16>,
                                  batch_norm, relu, dropout<25>, dense<3>>;

// 8 x 8 images of three classes -- a horizontal bar, a vertical bar, a diagonal, each
// at a random place -- in noise: small, but enough for every stage to do something.
labeled_data<float> bar_images(std::size_t n, std::uint64_t seed) {
    random_engine rng(seed);
    labeled_data<float> d;
    d.inputs = xt::xtensor<float, 2>::from_shape({n, 64});
    d.labels.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        float* img = d.inputs.data() + i * 64;
        for (std::size_t p = 0; p < 64; ++p) img[p] = static_cast<float>(rng.normal(0, 0.3));
        const auto label = static_cast<label_t>(i % 3);
        const std::size_t at = static_cast<std::size_t>(rng.below(8));
        for (std::size_t k = 0; k < 8; ++k) {
            const std::size_t y = label == 0 ? at : k, x = label == 1 ? at : label == 0 ? k : (k + at) % 8;
            img[y * 8 + x] += 1;
        }
        d.labels[i] = label;
    }
    return d;
}

fit_options contextual_run(std::size_t threads) {
    fit_options o = checkpoint_run(threads);
    o.augment = {.horizontal_flip = true, .max_shift = 1};
    return o;
}

bool same_bytes(std::span<const float> a, std::span<const float> b) {
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size_bytes()) == 0);
}

/// A resumed run ends where the uninterrupted one did: parameters, batch_norm
/// state and the history of every epoch, bit for bit.
template <class Model>
void check_same_run(const Model& resumed, const history& h, const Model& reference, const history& expected) {
    CHECK(same_bytes(resumed.parameters(), reference.parameters()));
    CHECK(same_bytes(resumed.state(), reference.state()));
    REQUIRE(h.size() == expected.size());
    for (std::size_t e = 0; e < h.size(); ++e) {
        CHECK(h.epochs[e].loss == expected.epochs[e].loss);
        CHECK(h.epochs[e].accuracy == expected.epochs[e].accuracy);
        CHECK(h.epochs[e].validation_loss == expected.epochs[e].validation_loss);
        CHECK(h.epochs[e].learning_rate == expected.epochs[e].learning_rate);
    }
}

// The data set with a pause before each batch: the child process of the SIGKILL
// test trains through it, so that the parent surely sees a mid-epoch checkpoint
// before the run ends (a small network trains faster than the parent polls).
template <class Data>
struct slowed : Data {
    std::chrono::microseconds delay{};
    void gather_targets(const std::size_t* idx, std::size_t n, typename Data::target_type* out) const {
        if (delay.count() > 0) std::this_thread::sleep_for(delay);
        Data::gather_targets(idx, n, out);
    }
};

// Trains Net in a child process with checkpoints every 3 batches, SIGKILLs it in
// the middle of its second epoch, resumes from what survived in a model with other
// initial weights, and checks parameters, state and history bit for bit against an
// uninterrupted run without checkpoints.
template <class Net, class Data, class Optimizer>
void check_resume_after_sigkill(const Data& d, const fit_options& run, const Optimizer& optimizer,
                                std::chrono::microseconds child_delay) {
    // The reference: the same run, never interrupted, no checkpoints.
    model<Net, float> reference(3);
    const history expected = fit(reference, d, softmax_cross_entropy{}, optimizer, run);

    test_support::temporary_directory dir("typenet-checkpoint");
    fit_options options = run;
    options.checkpoint_path = dir / "run.tnc";
    options.checkpoint_every_batches = 3;
    options.resume = true;

    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        // The child trains until it is killed; it must never get back into Catch.
        try {
            const slowed<Data> slow{d, child_delay};
            model<Net, float> m(3);
            fit(m, slow, softmax_cross_entropy{}, optimizer, options);
        } catch (...) {
            ::_exit(3);
        }
        ::_exit(0);
    }
    // Kill it once a checkpoint shows it in the middle of its second epoch.
    checkpoint_info seen;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    bool killed = false;
    while (std::chrono::steady_clock::now() < deadline) {
        try {
            seen = read_checkpoint_info(options.checkpoint_path);
            if (seen.epoch == 2 && seen.position > 0) {
                ::kill(child, SIGKILL);
                killed = true;
                break;
            }
        } catch (const weights_error&) {
            // Not written yet.
        }
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    if (!killed) ::kill(child, SIGKILL);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(killed);
    REQUIRE(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGKILL);

    // The checkpoint that survived the kill is complete and mid-run (perhaps a few
    // batches later than the one seen).
    const checkpoint_info at_kill = read_checkpoint_info(options.checkpoint_path);
    INFO("killed at epoch " << at_kill.epoch << ", position " << at_kill.position);
    CHECK(at_kill.epoch <= 3);
    CHECK(at_kill.completed_epochs == at_kill.epoch - 1);
    CHECK(at_kill.optimizer_steps > 0);
    // (A temporary file may survive the kill itself, mid-write; it must not be what we resume from.)

    model<Net, float> resumed(99);  // other initial weights: all must come from the checkpoint
    const history h = fit(resumed, d, softmax_cross_entropy{}, optimizer, options);
    check_same_run(resumed, h, reference, expected);
    const checkpoint_info done = read_checkpoint_info(options.checkpoint_path);
    CHECK(done.epoch == 4);
    CHECK(done.position == 0);
}

}  // namespace

TEST_CASE("training killed with SIGKILL mid-epoch resumes from its checkpoint to bit-identical weights",
          "[training][checkpoint]") {
    const std::size_t threads = GENERATE(1, 2);
    INFO("threads = " << threads);
    check_resume_after_sigkill<checkpoint_net>(checkpoint_blobs(), checkpoint_run(threads), checkpoint_optimizer,
                                               std::chrono::microseconds(0));
}

TEST_CASE(
    "with batch_norm, dropout and augmentation, a run killed mid-epoch resumes to bit-identical weights and "
    "running statistics",
    "[training][checkpoint]") {
    const std::size_t threads = GENERATE(1, 2);
    INFO("threads = " << threads);
    const auto d = bar_images(400, 21);
    // The running statistics move in training: comparing them is not comparing initial values.
    model<contextual_net, float> trained(3);
    const model<contextual_net, float> untrained = trained;
    fit(trained, d, softmax_cross_entropy{}, checkpoint_optimizer, contextual_run(threads));
    CHECK_FALSE(same_bytes(trained.state(), untrained.state()));
    check_resume_after_sigkill<contextual_net>(d, contextual_run(threads), checkpoint_optimizer,
                                               std::chrono::milliseconds(2));
}

TEST_CASE("resuming from an end-of-epoch checkpoint continues the run exactly", "[training][checkpoint]") {
    const auto d = checkpoint_blobs();
    model<checkpoint_net, float> reference(3);
    fit(reference, d, softmax_cross_entropy{}, checkpoint_optimizer, checkpoint_run(1));

    // A run that saves every epoch, stopped by hand after its first epoch: copy the
    // checkpoint it had then, and resume from that copy.
    test_support::temporary_directory dir("typenet-checkpoint");
    fit_options options = checkpoint_run(1);
    options.checkpoint_path = dir / "run.tnc";
    model<checkpoint_net, float> first(3);
    fit(first, d, softmax_cross_entropy{}, checkpoint_optimizer, options);
    CHECK(same_bytes(first.parameters(), reference.parameters()));  // checkpoints do not change the run
    CHECK(read_checkpoint_info(options.checkpoint_path).epoch == 4);
    // Nothing but the checkpoint remains in the directory.
    CHECK(dir.entries() == std::vector<std::string>{"run.tnc"});

    // A finished run resumed does nothing more.
    options.resume = true;
    model<checkpoint_net, float> again(7);
    const history h = fit(again, d, softmax_cross_entropy{}, checkpoint_optimizer, options);
    CHECK(h.size() == 3);
    CHECK(same_bytes(again.parameters(), reference.parameters()));

    // Resume with no checkpoint yet: a fresh run.
    options.checkpoint_path = dir / "fresh.tnc";
    model<checkpoint_net, float> fresh(3);
    fit(fresh, d, softmax_cross_entropy{}, checkpoint_optimizer, options);
    CHECK(same_bytes(fresh.parameters(), reference.parameters()));
}

TEST_CASE("a checkpoint that is corrupted or of another run is refused and changes nothing", "[training][checkpoint]") {
    const auto d = checkpoint_blobs();
    test_support::temporary_directory dir("typenet-checkpoint");
    fit_options options = checkpoint_run(1);
    options.epochs = 1;
    options.checkpoint_path = dir / "run.tnc";
    model<checkpoint_net, float> trained(3);
    fit(trained, d, softmax_cross_entropy{}, checkpoint_optimizer, options);

    std::ifstream in(options.checkpoint_path, std::ios::binary);
    const std::vector<char> good((std::istreambuf_iterator<char>(in)), {});
    in.close();
    auto write = [&](const std::vector<char>& b) {
        std::ofstream out(options.checkpoint_path, std::ios::binary | std::ios::trunc);
        out.write(b.data(), static_cast<std::streamsize>(b.size()));
    };
    auto refused = [&](fit_options o, const std::string& message) {
        model<checkpoint_net, float> m(8);
        const model<checkpoint_net, float> before = m;
        o.resume = true;
        CHECK_THROWS_WITH(fit(m, d, softmax_cross_entropy{}, checkpoint_optimizer, o), Catch::Contains(message));
        CHECK(same_bytes(m.parameters(), before.parameters()));
    };

    for (std::size_t at : {std::size_t{0}, std::size_t{20}, good.size() / 2, good.size() - 1}) {
        auto bad = good;
        bad[at] = static_cast<char>(bad[at] ^ 0x10);
        write(bad);
        INFO("flipped byte " << at);
        refused(options, at == 0 ? "not a typenet checkpoint" : "checksum mismatch");
    }
    write(std::vector<char>(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(good.size() / 3)));
    refused(options, "checksum mismatch");

    write(good);
    fit_options other = options;
    other.batch_size = 32;
    refused(other, "batch_size = 16, this one has 32");
    other = options;
    other.threads = 2;
    refused(other, "threads = 1, this one has 2");
    other = options;
    other.seed = 6;
    refused(other, "seed = 5, this one has 6");
    model<sequential<input<2>, dense<3>>, float> small(1);
    CHECK_THROWS_WITH(fit(small, d, softmax_cross_entropy{}, checkpoint_optimizer,
                          [&] {
                              auto o = options;
                              o.resume = true;
                              return o;
                          }()),
                      Catch::Contains("this checkpoint is of"));
    CHECK_THROWS_WITH(fit(trained, d, softmax_cross_entropy{}, sgd{.learning_rate = 0.1},
                          fit_options{.progress = false, .resume = true}),
                      Catch::Contains("need a checkpoint_path"));
    other = options;
    other.checkpoint_path = dir / "missing" / "run.tnc";
    other.resume = false;
    const model<checkpoint_net, float> before = trained;
    CHECK_THROWS_WITH(fit(trained, d, softmax_cross_entropy{}, checkpoint_optimizer, other),
                      Catch::Contains("does not exist"));
    CHECK(same_bytes(trained.parameters(), before.parameters()));
}

TEST_CASE("with batch_norm, dropout and augmentation, a run stopped after an epoch resumes exactly",
          "[training][checkpoint]") {
    const std::size_t threads = GENERATE(1, 2);
    INFO("threads = " << threads);
    const auto d = bar_images(400, 21);
    model<contextual_net, float> reference(3);
    const history expected = fit(reference, d, softmax_cross_entropy{}, checkpoint_optimizer, contextual_run(threads));

    // A run stopped from on_epoch during its second epoch's end: its checkpoint is
    // then the one written at the end of the first epoch.
    struct stop {};
    test_support::temporary_directory dir("typenet-checkpoint");
    fit_options options = contextual_run(threads);
    options.checkpoint_path = dir / "run.tnc";
    options.on_epoch = [](const epoch_record& r) {
        if (r.epoch == 2) throw stop{};
    };
    model<contextual_net, float> stopped(3);
    CHECK_THROWS_AS(fit(stopped, d, softmax_cross_entropy{}, checkpoint_optimizer, options), stop);
    const checkpoint_info at = read_checkpoint_info(options.checkpoint_path);
    CHECK(at.epoch == 2);
    CHECK(at.position == 0);
    CHECK(at.completed_epochs == 1);

    options.on_epoch = {};
    options.resume = true;
    model<contextual_net, float> resumed(99);
    const history h = fit(resumed, d, softmax_cross_entropy{}, checkpoint_optimizer, options);
    check_same_run(resumed, h, reference, expected);
}

TEST_CASE(
    "a corrupted, truncated, old or mismatched checkpoint of a batch_norm + dropout + augmentation run is "
    "refused and changes neither parameters nor state",
    "[training][checkpoint]") {
    const auto d = bar_images(400, 21);
    test_support::temporary_directory dir("typenet-checkpoint");
    fit_options options = contextual_run(1);
    options.epochs = 1;
    options.checkpoint_path = dir / "run.tnc";
    model<contextual_net, float> trained(3);
    fit(trained, d, softmax_cross_entropy{}, checkpoint_optimizer, options);

    std::ifstream in(options.checkpoint_path, std::ios::binary);
    const std::vector<unsigned char> good((std::istreambuf_iterator<char>(in)), {});
    in.close();
    auto write = [&](const std::vector<unsigned char>& b) {
        std::ofstream out(options.checkpoint_path, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    };
    auto refused = [&](fit_options o, const std::string& message) {
        model<contextual_net, float> m(8);
        const model<contextual_net, float> before = m;
        o.resume = true;
        CHECK_THROWS_WITH(fit(m, d, softmax_cross_entropy{}, checkpoint_optimizer, o), Catch::Contains(message));
        CHECK(same_bytes(m.parameters(), before.parameters()));
        CHECK(same_bytes(m.state(), before.state()));
    };

    // The file ends with the running statistics (2 x 4 + 2 x 16 floats) and the
    // checksum: flip bytes there too.
    for (std::size_t at : {std::size_t{0}, std::size_t{20}, good.size() / 2, good.size() - 12, good.size() - 1}) {
        auto bad = good;
        bad[at] ^= 0x10;
        write(bad);
        INFO("flipped byte " << at);
        refused(options, at == 0 ? "not a typenet checkpoint" : "checksum mismatch");
    }
    for (std::size_t keep : {good.size() / 3, good.size() - 4}) {
        write(std::vector<unsigned char>(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(keep)));
        INFO("truncated to " << keep << " bytes");
        refused(options, "checksum mismatch");
    }

    // A version-1 file (no statistics, no dropout or augmentation streams), with a
    // valid checksum, is refused for its version.
    auto old = good;
    old[8] = 1;  // the format version follows the 8 magic bytes
    const std::uint64_t sum = detail::fnv1a64(std::span<const unsigned char>(old.data(), old.size() - 8));
    for (std::size_t k = 0; k < 8; ++k) old[old.size() - 8 + k] = static_cast<unsigned char>(sum >> (8 * k));
    write(old);
    refused(options, "checkpoint format version 1; this typenet reads version 3");

    write(good);
    fit_options other = options;
    other.augment.max_shift = 2;
    refused(other, "augment.max_shift = 1, this one has 2");
    other = options;
    other.augment.horizontal_flip = false;
    refused(other, "augment.horizontal_flip = 1, this one has 0");
    other = options;
    other.augment.cutout = 2;
    refused(other, "augment.cutout = 0, this one has 2");
    other = options;
    other.threads = 2;
    refused(other, "threads = 1, this one has 2");

    // The good file still resumes (here: a finished run, so nothing more is done).
    other = options;
    other.resume = true;
    model<contextual_net, float> again(8);
    fit(again, d, softmax_cross_entropy{}, checkpoint_optimizer, other);
    CHECK(same_bytes(again.parameters(), trained.parameters()));
    CHECK(same_bytes(again.state(), trained.state()));
}
