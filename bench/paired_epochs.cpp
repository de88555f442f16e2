// Training epochs of libtorch and typenet taken in turns in one process, for a
// ratio this machine's swings cannot skew. Its speed drifts by ±15 % over minutes
// (bench/README.md), and typenet_bench and torch_bench run a minute apart, so the
// ratio of their medians carries that drift; here each pair of epochs is a few
// seconds apart and each pair gives its own ratio. The side that runs first
// alternates from pair to pair, so that neither always meets the caches, the clock
// and the other's leftover threads (OpenBLAS's spin before they sleep) in the same
// state.
//
// Usage: paired_epochs [threads=1] [pairs=7] [part=all: mlp | lenet | throughput]
//                      [libtorch intra-op threads=threads]
// prints, per pair and model,
//   RESULT paired <model> epoch_speedup <threads> <libtorch seconds / typenet seconds>
// and then, per pair, for the MLP's batch-256 inference
//   RESULT paired mlp throughput_speedup <threads> <typenet samples/s / libtorch samples/s>
// typenet runs on `threads`; libtorch on its intra-op threads and OPENBLAS_NUM_THREADS
// (read when OpenBLAS loads). bench/run.sh runs each part with libtorch's fastest
// setting for that row of the table.
#include <torch/torch.h>

#include <cstdlib>
#include <cstring>
#include <utility>

#include "common.hpp"
#include "torch_batch.hpp"
#include "typenet_epoch.hpp"

namespace {

/// Runs both and returns {libtorch, typenet}, libtorch first in even pairs, typenet first in odd ones.
template <class Torch, class Typenet>
std::pair<double, double> in_turn(int pair, Torch&& torch_side, Typenet&& typenet_side) {
    if (pair % 2 == 0) {
        const double libtorch = torch_side();
        return {libtorch, typenet_side()};
    }
    const double typenet = typenet_side();
    return {torch_side(), typenet};
}

template <class Net>
void pairs(const char* name, torch::nn::Sequential (*make_torch)(), std::size_t threads, int count) {
    for (int pair = 0; pair < count; ++pair) {
        // Fresh models each time: every epoch is a first epoch, as in the other programs.
        const auto [libtorch, typenet] = in_turn(
            pair,
            [&] {
                torch::nn::Sequential net = make_torch();
                return bench::torch_epoch(net);
            },
            [&] {
                typenet::model<Net> m(1);
                return bench::typenet_epoch(m, threads);
            });
        std::printf("# %s pair %d (%s first): libtorch %.4f s, typenet %.4f s\n", name, pair + 1,
                    pair % 2 == 0 ? "libtorch" : "typenet", libtorch, typenet);
        bench::report("paired", name, "epoch_speedup", threads, libtorch / typenet);
    }
}

// Batch-256 inference throughput in turns, the same way: the MLP, whose target is the
// closest (bench/README.md). Each pair measures both a few seconds apart.
template <class Net>
void throughput_pairs(const char* name, torch::nn::Sequential (*make_torch)(), std::size_t threads, int count) {
    torch::nn::Sequential net = make_torch();
    net->eval();
    const typenet::model<Net> m(1);
    for (int pair = 0; pair < count; ++pair) {
        const auto [libtorch, typenet] = in_turn(
            pair, [&] { return bench::torch_throughput(net); }, [&] { return bench::typenet_throughput(m, threads); });
        std::printf("# %s throughput pair %d (%s first): libtorch %.4g/s, typenet %.4g/s\n", name, pair + 1,
                    pair % 2 == 0 ? "libtorch" : "typenet", libtorch, typenet);
        bench::report("paired", name, "throughput_speedup", threads, typenet / libtorch);
    }
}

}  // namespace

int main(int argc, char** argv) {
    const std::size_t threads = bench::threads_argument(argc, argv);
    const int count = argc > 2 ? std::max(1, std::atoi(argv[2])) : 7;
    const char* part = argc > 3 ? argv[3] : "all";
    const bool all = std::strcmp(part, "all") == 0;
    torch::set_num_threads(argc > 4 ? std::max(1, std::atoi(argv[4])) : static_cast<int>(threads));
    torch::manual_seed(1);
    if (all || std::strcmp(part, "mlp") == 0) pairs<bench::typenet_mlp>("mlp", bench::make_torch_mlp, threads, count);
    if (all || std::strcmp(part, "lenet") == 0)
        pairs<bench::typenet_lenet>("lenet", bench::make_torch_lenet, threads, count);
    if (all || std::strcmp(part, "throughput") == 0)
        throughput_pairs<bench::typenet_mlp>("mlp", bench::make_torch_mlp, threads, count);
}
