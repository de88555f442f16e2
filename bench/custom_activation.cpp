// Does a user-defined activation run at a built-in's speed? user_relu
// (examples/custom/custom_layers.hpp) is relu written in user code; both fuse into the
// dense layers' epilogues. Training steps (batch 64) and batch-1 predictions of
// MLP 784-128-10 with each, taken in turns (pairs), one thread; prints the median time
// of each and the ratio user / built-in per pair (median, min-max).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include <typenet/typenet.hpp>

#include "custom/custom_layers.hpp"

using namespace typenet;

namespace {

template <class Act>
using mlp = sequential<input<784>, dense<128>, Act, dense<10>>;
static_assert(mlp<relu>::fused_plan::count == mlp<user::user_relu>::fused_plan::count);

struct timing {
    double step_us, predict_us;
};

template <class Act>
struct runner {
    model<mlp<Act>> m{1};
    trainer<mlp<Act>, float, softmax_cross_entropy, sgd> t{m, softmax_cross_entropy{}, sgd{.learning_rate = 0.01}, 64};
    std::vector<float> x;
    std::vector<label_t> y;
    runner() : x(64 * 784), y(64) {
        random_engine rng(2);
        for (auto& v : x) v = static_cast<float>(rng.uniform());
        for (std::size_t i = 0; i < y.size(); ++i) y[i] = static_cast<label_t>(i % 10);
    }
    timing run() {
        using clock = std::chrono::steady_clock;
        const auto t0 = clock::now();
        for (int i = 0; i < 200; ++i) t.step(x.data(), y.data(), 64);
        const auto t1 = clock::now();
        float sink = 0;
        for (int i = 0; i < 5000; ++i) sink += m.predict(std::span<const float>(x.data() + (i % 64) * 784, 784))[0];
        const auto t2 = clock::now();
        if (sink == 12345.f) std::puts("");
        return {std::chrono::duration<double, std::micro>(t1 - t0).count() / 200,
                std::chrono::duration<double, std::micro>(t2 - t1).count() / 5000};
    }
};

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

}  // namespace

int main() {
    runner<relu> built_in;
    runner<user::user_relu> user_defined;
    built_in.run();
    user_defined.run();  // warm
    std::vector<double> step_b, step_u, pred_b, pred_u, step_ratio, pred_ratio;
    for (int pair = 0; pair < 15; ++pair) {
        // The side that runs first alternates.
        const timing a = pair % 2 ? user_defined.run() : built_in.run();
        const timing b = pair % 2 ? built_in.run() : user_defined.run();
        const timing& bi = pair % 2 ? b : a;
        const timing& us = pair % 2 ? a : b;
        step_b.push_back(bi.step_us), step_u.push_back(us.step_us), pred_b.push_back(bi.predict_us),
            pred_u.push_back(us.predict_us);
        step_ratio.push_back(us.step_us / bi.step_us), pred_ratio.push_back(us.predict_us / bi.predict_us);
    }
    const auto range = [](const std::vector<double>& v) {
        return std::pair{*std::min_element(v.begin(), v.end()), *std::max_element(v.begin(), v.end())};
    };
    std::printf("MLP 784-128-10, one thread, %s, 15 pairs in turns\n", xsimd::default_arch::name());
    std::printf("training step (batch 64): relu %.1f us, user_relu %.1f us; user / built-in %.3f (%.3f-%.3f)\n",
                median(step_b), median(step_u), median(step_ratio), range(step_ratio).first, range(step_ratio).second);
    std::printf("predict (batch 1): relu %.3f us, user_relu %.3f us; user / built-in %.3f (%.3f-%.3f)\n",
                median(pred_b), median(pred_u), median(pred_ratio), range(pred_ratio).first, range(pred_ratio).second);
}
