#pragma once
// One libtorch training batch as both libtorch programs run it (torch_bench's
// timed epoch, torch_recipe's bn-cnn recipe): the samples gathered into one
// buffer in the shared order, then one cross-entropy step of the optimiser.
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

    /// Samples order[first, first + batch_size) of `set` (fewer at the end of the order).
    template <class Set>
    void gather(const Set& set, const std::vector<std::size_t>& order, std::size_t first) {
        n = std::min(batch_size, order.size() - first);
        for (std::size_t i = 0; i < n; ++i) {
            std::copy_n(set.sample(order[first + i]), 784, x.data() + i * 784);
            y[i] = set.labels[order[first + i]];
        }
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

}  // namespace bench
