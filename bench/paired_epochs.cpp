// Training epochs of libtorch and typenet taken in turns in one process, for a
// ratio this machine's swings cannot skew. Its speed drifts by ±15 % over minutes
// (bench/README.md), and typenet_bench and torch_bench run a minute apart, so the
// ratio of their medians carries that drift; here each pair of epochs is a few
// seconds apart and each pair gives its own ratio.
//
// Usage: paired_epochs [threads=1] [pairs=7]; prints, per pair and model,
//   RESULT paired <model> epoch_speedup <threads> <libtorch seconds / typenet seconds>
// and then, per pair, for the MLP's batch-256 inference
//   RESULT paired mlp throughput_speedup <threads> <typenet samples/s / libtorch samples/s>
// Run with OPENBLAS_NUM_THREADS=1 (run.sh does), as torch_bench.
#include <torch/torch.h>

#include <cstdlib>

#include "common.hpp"
#include "torch_batch.hpp"
#include "typenet_epoch.hpp"

namespace {

template <class Net>
void pairs(const char* name, torch::nn::Sequential (*make_torch)(), std::size_t threads, int count) {
    for (int pair = 0; pair < count; ++pair) {
        // Fresh models each time: every epoch is a first epoch, as in the other programs.
        torch::nn::Sequential net = make_torch();
        const double libtorch = bench::torch_epoch(net);
        typenet::model<Net> m(1);
        const double typenet = bench::typenet_epoch(m, threads);
        std::printf("# %s pair %d: libtorch %.4f s, typenet %.4f s\n", name, pair + 1, libtorch, typenet);
        bench::report("paired", name, "epoch_speedup", threads, libtorch / typenet);
    }
}

// Batch-256 inference throughput in turns, the same way: the MLP, whose target is the
// closest (bench/README.md). Each pair measures libtorch, then typenet, a few seconds apart.
template <class Net>
void throughput_pairs(const char* name, torch::nn::Sequential (*make_torch)(), std::size_t threads, int count) {
    torch::nn::Sequential net = make_torch();
    net->eval();
    const typenet::model<Net> m(1);
    for (int pair = 0; pair < count; ++pair) {
        const double libtorch = bench::torch_throughput(net);
        const double typenet = bench::typenet_throughput(m, threads);
        std::printf("# %s throughput pair %d: libtorch %.4g/s, typenet %.4g/s\n", name, pair + 1, libtorch, typenet);
        bench::report("paired", name, "throughput_speedup", threads, typenet / libtorch);
    }
}

}  // namespace

int main(int argc, char** argv) {
    const std::size_t threads = bench::threads_argument(argc, argv);
    const int count = argc > 2 ? std::max(1, std::atoi(argv[2])) : 7;
    torch::set_num_threads(static_cast<int>(threads));
    torch::manual_seed(1);
    pairs<bench::typenet_mlp>("mlp", bench::make_torch_mlp, threads, count);
    pairs<bench::typenet_lenet>("lenet", bench::make_torch_lenet, threads, count);
    throughput_pairs<bench::typenet_mlp>("mlp", bench::make_torch_mlp, threads, count);
}
