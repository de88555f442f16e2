// libtorch's side of the comparison (see common.hpp): the same networks, the same
// batches in the same order, plain SGD; inference under torch::InferenceMode.
//
// Usage: torch_bench [threads=1] [intra-op threads=threads]. `threads` is the row of
// the table the results are reported for; the intra-op (OpenMP) threads may differ
// from it, since on 2 cores libtorch's OpenMP threads and OpenBLAS's threads
// (OPENBLAS_NUM_THREADS, read when OpenBLAS loads) oversubscribe the cores when both
// are 2. bench/run.sh runs each pinning at 2 threads; its table uses the fastest.
#include <torch/torch.h>

#include "common.hpp"
#include "torch_models.hpp"

namespace {

void run(const char* name, torch::nn::Sequential net, std::size_t threads) {
    const auto& data = bench::fashion();
    bench::report("libtorch", name, "epoch_s", threads, bench::torch_epoch(net));

    torch::InferenceMode inference;
    net->eval();
    const double latency = bench::median_microseconds([&](std::size_t i) {
        const auto input = torch::from_blob(const_cast<float*>(data.test.sample(i % data.test.size())), {1, 1, 28, 28});
        bench::sink = static_cast<std::size_t>(net->forward(input).argmax(1).item<std::int64_t>());
    });
    bench::report("libtorch", name, "latency_us", threads, latency);

    bench::report("libtorch", name, "throughput", threads, bench::torch_throughput(net));
}

}  // namespace

int main(int argc, char** argv) {
    const std::size_t threads = bench::threads_argument(argc, argv);
    torch::set_num_threads(argc > 2 ? std::max(1, std::atoi(argv[2])) : static_cast<int>(threads));
    torch::manual_seed(1);
    for (const std::string_view name : bench::model_names)
        if (bench::selected(name)) run(name.data(), bench::make_torch_model(name), threads);
}
