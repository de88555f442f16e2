#pragma once
// One libtorch training batch as the libtorch programs run it (torch_bench's and
// paired_epochs' timed epochs, torch_recipe's bn-cnn recipe): the samples gathered
// into one buffer in the shared order, then one cross-entropy step of the
// optimiser. Also the benchmark's two networks and its timed epoch.
#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "common.hpp"

namespace bench {

struct torch_batch {
    std::vector<float> x = std::vector<float>(batch_size * 784);
    std::vector<std::int64_t> y = std::vector<std::int64_t>(batch_size);
    std::size_t n = 0;

    /// Samples order[first, first + batch_size) of `set` (fewer at the end of the
    /// order), gathered as typenet's trainer gathers them.
    template <class Set>
    void gather(const Set& set, const std::vector<std::size_t>& order, std::size_t first) {
        n = std::min(batch_size, order.size() - first);
        set.gather_inputs(order.data() + first, n, x.data());
        for (std::size_t i = 0; i < n; ++i) y[i] = set.labels[order[first + i]];
    }

    void step(torch::nn::Sequential& net, torch::optim::Optimizer& optimizer) {
        const auto input = torch::from_blob(x.data(), {static_cast<long>(n), 1, 28, 28});
        const auto target = torch::from_blob(y.data(), {static_cast<long>(n)}, torch::kInt64);
        optimizer.zero_grad();
        const auto loss = torch::nn::functional::cross_entropy(net->forward(input), target);
        loss.backward();
        optimizer.step();
    }
};

inline torch::nn::Sequential make_torch_mlp() {
    return torch::nn::Sequential(torch::nn::Flatten(), torch::nn::Linear(784, 128), torch::nn::ReLU(),
                                 torch::nn::Linear(128, 10));
}

inline torch::nn::Sequential make_torch_lenet() {
    return torch::nn::Sequential(torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 6, 5)), torch::nn::ReLU(),
                                 torch::nn::MaxPool2d(2), torch::nn::Conv2d(torch::nn::Conv2dOptions(6, 16, 5)),
                                 torch::nn::ReLU(), torch::nn::MaxPool2d(2), torch::nn::Flatten(),
                                 torch::nn::Linear(256, 120), torch::nn::ReLU(), torch::nn::Linear(120, 84),
                                 torch::nn::ReLU(), torch::nn::Linear(84, 10));
}

/// Seconds of one training epoch of `net`: the benchmark's batches in its order, plain SGD.
inline double torch_epoch(torch::nn::Sequential& net) {
    const auto& data = fashion_images();
    const auto order = epoch_order();
    torch::optim::SGD optimizer(net->parameters(), torch::optim::SGDOptions(learning_rate));
    torch_batch batch;
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t first = 0; first < order.size(); first += batch_size) {
        batch.gather(data.train, order, first);
        batch.step(net, optimizer);
    }
    return seconds_since(start);
}

/// Batch-256 inference throughput of `net` (in eval mode), samples per second: walking
/// the test set, the class of every sample (common.hpp's throughput). Under
/// InferenceMode, the mode libtorch provides for inference: no autograd records and no
/// version counter bumps (NoGradGuard still keeps the latter).
inline double torch_throughput(torch::nn::Sequential& net) {
    torch::InferenceMode inference;
    const auto& data = fashion();
    const std::size_t first_limit = data.test.size() - throughput_batch;
    return throughput(
        [&](std::size_t r) {
            const float* p = data.test.sample((r * throughput_batch) % first_limit);
            const auto input =
                torch::from_blob(const_cast<float*>(p), {static_cast<long>(throughput_batch), 1, 28, 28});
            sink = static_cast<std::size_t>(net->forward(input).argmax(1)[0].item<std::int64_t>());
        },
        throughput_batch);
}

}  // namespace bench
