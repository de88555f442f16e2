// libtorch's side of the comparison (see common.hpp): the same networks, the same
// batches in the same order, plain SGD. Run with OPENBLAS_NUM_THREADS=1 (bench/run.sh
// does), or libtorch's OpenMP threads and OpenBLAS's oversubscribe the cores.
#include <torch/torch.h>

#include "common.hpp"
#include "torch_batch.hpp"

namespace {

torch::nn::Sequential make_mlp() {
    return torch::nn::Sequential(torch::nn::Flatten(), torch::nn::Linear(784, 128), torch::nn::ReLU(),
                                 torch::nn::Linear(128, 10));
}

torch::nn::Sequential make_lenet() {
    return torch::nn::Sequential(torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 6, 5)), torch::nn::ReLU(),
                                 torch::nn::MaxPool2d(2), torch::nn::Conv2d(torch::nn::Conv2dOptions(6, 16, 5)),
                                 torch::nn::ReLU(), torch::nn::MaxPool2d(2), torch::nn::Flatten(),
                                 torch::nn::Linear(256, 120), torch::nn::ReLU(), torch::nn::Linear(120, 84),
                                 torch::nn::ReLU(), torch::nn::Linear(84, 10));
}

void run(const char* name, torch::nn::Sequential net, std::size_t threads) {
    const auto& data = bench::fashion();
    const auto order = bench::epoch_order();
    torch::optim::SGD optimizer(net->parameters(), torch::optim::SGDOptions(bench::learning_rate));
    bench::torch_batch batch;

    const auto start = std::chrono::steady_clock::now();
    for (std::size_t first = 0; first < order.size(); first += bench::batch_size) {
        batch.gather(data.train, order, first);
        batch.step(net, optimizer);
    }
    bench::report("libtorch", name, "epoch_s", threads, bench::seconds_since(start));

    torch::NoGradGuard no_grad;
    net->eval();
    const double latency = bench::median_microseconds([&](std::size_t i) {
        const auto input = torch::from_blob(const_cast<float*>(data.test.sample(i % data.test.size())), {1, 1, 28, 28});
        bench::sink = static_cast<std::size_t>(net->forward(input).argmax(1).item<std::int64_t>());
    });
    bench::report("libtorch", name, "latency_us", threads, latency);

    const std::size_t first_limit = data.test.size() - bench::throughput_batch;
    const double samples_per_s = bench::throughput([&](std::size_t r) {
        const float* p = data.test.sample((r * bench::throughput_batch) % first_limit);
        const auto input =
            torch::from_blob(const_cast<float*>(p), {static_cast<long>(bench::throughput_batch), 1, 28, 28});
        bench::sink = static_cast<std::size_t>(net->forward(input).argmax(1)[0].item<std::int64_t>());
    }, bench::throughput_batch);
    bench::report("libtorch", name, "throughput", threads, samples_per_s);
}

}  // namespace

int main(int argc, char** argv) {
    const std::size_t threads = bench::threads_argument(argc, argv);
    torch::set_num_threads(static_cast<int>(threads));
    torch::manual_seed(1);
    run("mlp", make_mlp(), threads);
    run("lenet", make_lenet(), threads);
}
