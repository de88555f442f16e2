#pragma once
// typenet's side of the benchmark's networks and its timed training epoch, shared
// by typenet_bench and paired_epochs.
#include <typenet/typenet.hpp>

#include <algorithm>
#include <span>
#include <string_view>
#include <vector>

#include "common.hpp"
#include "fashion_models.hpp"

namespace bench {

using typenet_mlp = typenet::sequential<typenet::input<1, 28, 28>, typenet::flatten, typenet::dense<128>, typenet::relu,
                                        typenet::dense<10>>;
using typenet_lenet =
    typenet::sequential<typenet::input<1, 28, 28>, typenet::conv2d<6, 5>, typenet::relu, typenet::max_pool<2>,
                        typenet::conv2d<16, 5>, typenet::relu, typenet::max_pool<2>, typenet::flatten,
                        typenet::dense<120>, typenet::relu, typenet::dense<84>, typenet::relu, typenet::dense<10>>;

/// Calls f.template operator()<Net>() with the typenet network named `name`; false for an unknown name.
template <class F>
bool with_typenet_model(std::string_view name, F&& f) {
    if (name == "mlp")
        f.template operator()<typenet_mlp>();
    else if (name == "lenet")
        f.template operator()<typenet_lenet>();
    else if (name == "bn-cnn")
        f.template operator()<fashion_models::bn_cnn>();
    else if (name == "resnet")
        f.template operator()<fashion_models::resnet>();
    else if (name == "mobilenet")
        f.template operator()<fashion_models::mobilenet>();
    else
        return false;
    return true;
}

/// Seconds of one training epoch of m on `threads` threads: the benchmark's batches in its order, plain SGD.
template <class Net>
double typenet_epoch(typenet::model<Net>& m, std::size_t threads) {
    using namespace typenet;
    const auto& data = fashion_images();
    const auto order = epoch_order();
    trainer<Net, float, softmax_cross_entropy, sgd> train(m, softmax_cross_entropy{},
                                                          sgd{.learning_rate = learning_rate}, batch_size, threads);
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t first = 0; first < order.size(); first += batch_size) {
        const std::size_t n = std::min(batch_size, order.size() - first);
        train.step(data.train, std::span<const std::size_t>(order.data() + first, n));
    }
    return seconds_since(start);
}

/// Batch-256 inference throughput of m, samples per second: the batch split across
/// `threads` (batch_predictor), walking the test set, the class of every sample.
template <class Net>
double typenet_throughput(const typenet::model<Net>& m, std::size_t threads) {
    const auto& data = fashion();
    typenet::batch_predictor<Net> predictor(m, throughput_batch, threads);
    std::vector<std::size_t> classes(throughput_batch);
    const std::size_t first_limit = data.test.size() - throughput_batch;
    return throughput(
        [&](std::size_t r) {
            const float* x = data.test.sample((r * throughput_batch) % first_limit);
            predictor.classify(std::span<const float>(x, throughput_batch * 784), classes);
            sink = classes[0];
        },
        throughput_batch);
}

}  // namespace bench
