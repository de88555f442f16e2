#pragma once
// What every benchmark program shares, so that typenet, libtorch and dlib do the
// same work: the Fashion-MNIST images (read with typenet's loader, as floats and as
// bytes), the order of
// the training samples (one seeded permutation), and how results are printed:
//
//   RESULT <library> <model> <metric> <threads> <value>
//
// models: mlp, lenet, bn-cnn, resnet, mobilenet (the last three as examples/fashion_models.hpp
// declares them; MODELS picks which run).
// metrics: epoch_s (one training epoch, batch 64, plain SGD lr 0.01, seconds),
// latency_us (batch-1 inference with argmax, median of 10 000 calls, microseconds),
// throughput (batch-256 inference with the class of every sample, samples per second).
// bench/run.sh collects them.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <string>
#include <string_view>
#include <vector>

#include <typenet/core/random.hpp>
#include <typenet/data/fashion_mnist.hpp>

namespace bench {

inline constexpr std::size_t batch_size = 64;
inline constexpr double learning_rate = 0.01;
inline constexpr std::size_t latency_calls = 10000;
inline constexpr std::size_t throughput_batch = 256;

inline const typenet::data::fashion_mnist_set<float>& fashion() {
    static const auto sets = typenet::data::fashion_mnist<float>();
    return sets;
}

/// The same images kept as bytes. The timed training epochs of typenet and
/// libtorch both gather their batches from these with typenet's gather (pixel /
/// 255, the values fashion() holds), so the input pipeline is the same for both
/// and the ratio is that of the training steps.
inline const typenet::data::fashion_mnist_image_set& fashion_images() {
    static const auto sets = typenet::data::fashion_mnist_images();
    return sets;
}

/// The training order every library uses: one seeded permutation of the 60 000 images.
inline std::vector<std::size_t> epoch_order() {
    std::vector<std::size_t> order(fashion().train.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    typenet::random_engine rng(2024);
    rng.shuffle(std::span<std::size_t>(order));
    return order;
}

inline double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// Median of `calls` timings of f (after a warm-up), in microseconds.
template <class F>
double median_microseconds(F&& f, std::size_t calls = latency_calls) {
    for (std::size_t i = 0; i < calls / 10; ++i) f(i);
    std::vector<double> t(calls);
    for (std::size_t i = 0; i < calls; ++i) {
        const auto start = std::chrono::steady_clock::now();
        f(i);
        t[i] = seconds_since(start) * 1e6;
    }
    std::nth_element(t.begin(), t.begin() + static_cast<std::ptrdiff_t>(calls / 2), t.end());
    return t[calls / 2];
}

/// Samples per second of `round(r)`, which infers one batch of `batch` samples:
/// after a warm-up, the median of five windows of at least 0.2 s each. (A fixed
/// 40 rounds took 30 ms for the MLP, too short to rise above this machine's noise.)
template <class F>
double throughput(F&& round, std::size_t batch) {
    std::size_t r = 0;
    for (; r < 5; ++r) round(r);
    std::vector<double> windows;
    for (int w = 0; w < 5; ++w) {
        const auto start = std::chrono::steady_clock::now();
        std::size_t done = 0;
        double elapsed = 0;
        while (elapsed < 0.2) {
            round(r++);
            ++done;
            elapsed = seconds_since(start);
        }
        windows.push_back(static_cast<double>(done * batch) / elapsed);
    }
    std::sort(windows.begin(), windows.end());
    return windows[2];
}

inline void report(const char* library, const char* model, const char* metric, std::size_t threads, double value) {
    std::printf("RESULT %s %s %s %zu %.6g\n", library, model, metric, threads, value);
    std::fflush(stdout);
}

/// Threads from the command line (first argument), default 1.
inline std::size_t threads_argument(int argc, char** argv) {
    return argc > 1 ? static_cast<std::size_t>(std::max(1, std::atoi(argv[1]))) : 1;
}

/// The benchmark's models by the names of the table (and of MODELS=): the MLP and
/// LeNet, and the CNNs examples/fashion_mnist trains (--model bn-cnn, resnet, mobilenet).
inline constexpr std::string_view model_names[] = {"mlp", "lenet", "bn-cnn", "resnet", "mobilenet"};

/// Whether the model named `name` was asked for: MODELS (space- or comma-separated,
/// bench/run.sh sets it) names it, or MODELS is unset and `name` is one of `fallback`.
inline bool selected(std::string_view name, std::string_view fallback = "mlp lenet") {
    const char* env = std::getenv("MODELS");
    std::string_view list = env != nullptr ? std::string_view(env) : fallback;
    while (!list.empty()) {
        const std::size_t end = list.find_first_of(" ,");
        if (list.substr(0, end) == name) return true;
        if (end == std::string_view::npos) break;
        list.remove_prefix(end + 1);
    }
    return false;
}

/// Keeps the compiler from dropping a result.
inline volatile std::size_t sink = 0;

}  // namespace bench
