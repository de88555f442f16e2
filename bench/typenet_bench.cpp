// typenet's side of the comparison (see common.hpp for the work and the output).
#include <typenet/typenet.hpp>

#include "common.hpp"
#include "typenet_epoch.hpp"

using namespace typenet;

template <class Net>
void run(const char* name, std::size_t threads) {
    const auto& data = bench::fashion();

    // One training epoch: the same batches in the same order as the peers.
    model<Net> m(1);
    bench::report("typenet", name, "epoch_s", threads, bench::typenet_epoch(m, threads));

    // Inference runs the network as exported: batch norm folded into the convolutions
    // and dense layers before it, dropout gone (network/fold.hpp; the same type for the
    // MLP and LeNet, which have neither).
    const auto deployed = fold_for_inference(m);

    // Batch-1 latency, argmax included.
    const double latency = bench::median_microseconds([&](std::size_t i) {
        bench::sink = deployed.classify(std::span<const float>(data.test.sample(i % data.test.size()), 784));
    });
    bench::report("typenet", name, "latency_us", threads, latency);

    // The same with the weights rounded to bfloat16 (network/reduced_precision.hpp).
    const bfloat16_model<folded_t<Net>> compact(deployed);
    const double latency_bf16 = bench::median_microseconds([&](std::size_t i) {
        bench::sink = compact.classify(std::span<const float>(data.test.sample(i % data.test.size()), 784));
    });
    bench::report("typenet", name, "latency_bf16_us", threads, latency_bf16);
    // What the rounding costs in accuracy, on the whole test set after the epoch.
    if (threads == 1) {
        std::size_t correct = 0, correct_bf16 = 0;
        for (std::size_t i = 0; i < data.test.size(); ++i) {
            const std::span<const float> x(data.test.sample(i), 784);
            correct += deployed.classify(x) == data.test.labels[i];
            correct_bf16 += compact.classify(x) == data.test.labels[i];
        }
        bench::report("typenet", name, "test_accuracy", threads, double(correct) / double(data.test.size()));
        bench::report("typenet", name, "test_accuracy_bf16", threads, double(correct_bf16) / double(data.test.size()));
    }

    // Batch-256 throughput, the batch split across the threads; the class of every sample.
    bench::report("typenet", name, "throughput", threads, bench::typenet_throughput(deployed, threads));
}

// GFLOP/s of a dense layer 784 -> 128 (fused ReLU) at batch 64 on dense random
// inputs: forward, and backward (weight gradient and bias; no input gradient, as for
// a first layer in training). `Offset` places it in a network: at parameter offset
// 0 it is a first layer, whose products skip zero inputs (kernels::gemm_skipping_zeros;
// with dense inputs nothing is skipped and the cost of looking is measured), and
// elsewhere the plain GEMM runs.
template <std::size_t Offset>
void dense_gflops(const char* name) {
    using stage = dense_stage<shape<784>, 128, 1, Offset, relu>;
    constexpr std::size_t batch = 64;
    random_engine rng(3);
    std::vector<float> params(stage::parameter_count), x(batch * 784), y(batch * 128), dy(batch * 128),
        dparams(stage::parameter_count), scratch(stage::scratch_size);
    for (auto& v : params) v = static_cast<float>(rng.uniform(-0.1, 0.1));
    for (auto& v : x) v = static_cast<float>(rng.uniform());
    const double flop = 2.0 * batch * 784 * 128;
    const double forward = bench::median_microseconds(
        [&](std::size_t) { stage::forward(params.data(), x.data(), y.data(), batch, scratch.data()); }, 2000);
    bench::report("typenet", name, "forward_gflops", 1, flop / forward / 1e3);
    const double backward = bench::median_microseconds(
        [&](std::size_t) {
            std::fill(dy.begin(), dy.end(), 0.01f);
            stage::backward(params.data(), x.data(), y.data(), dy.data(), static_cast<float*>(nullptr), dparams.data(),
                            batch, scratch.data());
        },
        2000);
    bench::report("typenet", name, "backward_gflops", 1, flop / backward / 1e3);
}

int main(int argc, char** argv) {
    const std::size_t threads = bench::threads_argument(argc, argv);
    for (const std::string_view name : bench::model_names)
        if (bench::selected(name)) bench::with_typenet_model(name, [&]<class Net> { run<Net>(name.data(), threads); });
    if (threads == 1 && bench::selected("mlp")) {
        dense_gflops<1>("dense784x128");
        dense_gflops<0>("dense784x128_first");
    }
}
