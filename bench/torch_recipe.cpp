// libtorch's side of the bn-cnn recipes (examples/fashion_mnist --model bn-cnn): the
// same architecture, optimiser, schedule, batch size and augmentation, so that
// accuracy and training time can be compared side by side (bench/README.md).
//
//   conv 32 3x3 pad 1, BN, ReLU, max pool 2, conv 64 3x3 pad 1, BN, ReLU, max pool 2,
//   flatten, linear 128, BN, ReLU, dropout 0.25, linear 10 (bench/torch_models.hpp)
//   SGD momentum 0.9, L2 weight decay 5e-4, batch 64, all 60 000 images, and either
//   cosine: lr 0.05 decaying per epoch to 0.05 x lr (typenet's learning_rate_schedule::cosine), or
//   one-cycle: lr 0.1 set before every batch by typenet's learning_rate_schedule::one_cycle
//   (a rise from 0.1 x lr over the first quarter of the batches, then a cosine to 0.002 x lr);
//   with augment, random flips and shifts up to MAX_SHIFT px (typenet's augmenter, same seeds).
//
// Usage: torch_recipe [epochs=15] [threads=2] [augment=1] [max_shift=1] [schedule=cosine|one-cycle]
// prints one CSV row per epoch: epoch, cumulative training seconds, learning rate, test
// accuracy. Run with OPENBLAS_NUM_THREADS=1 (see run.sh). Differences that remain:
// libtorch's own initialisation, and batch statistics over the whole batch of 64 where
// typenet on 2 threads normalises each thread's 32 samples.
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <string_view>
#include <vector>

#include <typenet/core/random.hpp>
#include <typenet/optim/schedule.hpp>
#include <typenet/train/augment.hpp>

#include "common.hpp"
#include "torch_models.hpp"

namespace {

double test_accuracy(torch::nn::Sequential& net) {
    const auto& test = bench::fashion().test;
    torch::InferenceMode inference;  // as torch_bench infers: no autograd records, no version counters
    net->eval();
    std::size_t correct = 0;
    const std::size_t chunk = 500;
    for (std::size_t first = 0; first < test.size(); first += chunk) {
        const std::size_t n = std::min(chunk, test.size() - first);
        const auto input = torch::from_blob(const_cast<float*>(test.sample(first)), {static_cast<long>(n), 1, 28, 28});
        const auto predicted = net->forward(input).argmax(1);
        const auto* p = predicted.data_ptr<std::int64_t>();
        for (std::size_t i = 0; i < n; ++i) correct += p[i] == test.labels[first + i] ? 1 : 0;
    }
    net->train();
    return static_cast<double>(correct) / static_cast<double>(test.size());
}

}  // namespace

int main(int argc, char** argv) {
    const std::size_t epochs = argc > 1 ? static_cast<std::size_t>(std::atoi(argv[1])) : 15;
    const int threads = argc > 2 ? std::atoi(argv[2]) : 2;
    const bool augmented = argc > 3 ? std::atoi(argv[3]) != 0 : true;
    const std::size_t max_shift = argc > 4 ? static_cast<std::size_t>(std::atoi(argv[4])) : 1;
    const bool one_cycle = argc > 5 && std::string_view(argv[5]) == "one-cycle";
    torch::set_num_threads(threads);
    torch::manual_seed(1);
    const auto& train = bench::fashion().train;
    auto net = bench::make_torch_bn_cnn();
    const double lr = one_cycle ? 0.1 : 0.05;
    torch::optim::SGD optimizer(net->parameters(), torch::optim::SGDOptions(lr).momentum(0.9).weight_decay(5e-4));
    const auto schedule =
        one_cycle ? typenet::learning_rate_schedule::one_cycle() : typenet::learning_rate_schedule::cosine(0.05);
    const std::size_t batches = (train.size() + bench::batch_size - 1) / bench::batch_size;
    auto set_rate = [&](double rate) {
        for (auto& group : optimizer.param_groups()) static_cast<torch::optim::SGDOptions&>(group.options()).lr(rate);
    };
    typenet::augmenter<float> augment({.horizontal_flip = true, .max_shift = max_shift}, 1, 28, 28, 2);
    typenet::random_engine rng(1);
    std::vector<std::size_t> order(train.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    bench::torch_batch batch;

    std::printf("epoch,train_seconds,learning_rate,test_accuracy\n");
    double elapsed = 0;
    for (std::size_t epoch = 0; epoch < epochs; ++epoch) {
        double rate = lr * schedule.factor(epoch, epochs);
        set_rate(rate);
        const auto start = std::chrono::steady_clock::now();
        rng.shuffle(std::span<std::size_t>(order));
        for (std::size_t first = 0; first < order.size(); first += bench::batch_size) {
            if (schedule.per_batch()) {
                const double done = static_cast<double>(epoch * batches + first / bench::batch_size) /
                                    static_cast<double>(epochs * batches);
                rate = lr * schedule.factor_at(done, epoch, epochs);
                set_rate(rate);
            }
            batch.gather(train, order, first);
            if (augmented) augment.apply(batch.x.data(), batch.n);
            batch.step(net, optimizer);
        }
        elapsed += bench::seconds_since(start);
        std::printf("%zu,%.1f,%g,%.4f\n", epoch + 1, elapsed, rate, test_accuracy(net));
        std::fflush(stdout);
    }
}
