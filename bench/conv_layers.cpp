// Every convolution of the benchmark's CNNs (bn-cnn, resnet, mobilenet of
// examples/fashion_models.hpp), alone, at the batch one thread trains (64, or 32: a
// thread's half of a 2-thread step), one thread: GFLOP/s of its three products,
//   forward          Y = W * X                          (the stage's forward, bias included)
//   weight gradient  dW = dY * X^T                      (backward without an input gradient,
//                                                        as for a first layer; bias gradient included)
//   input gradient   dX = W^T * dY                      (backward with it, less the above)
// each 2 * multiply-adds of the product over its median time. bench/run.sh sets them
// against the FMA peak. The stages run with the identity epilogue: in these networks a
// batch norm follows every convolution in training.
//
//   RESULT typenet conv:<model>/<layer_and_shape>@<batch> <forward|weight_grad|input_grad>_gflops 1 <value>
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <typenet/typenet.hpp>

#include "common.hpp"

using namespace typenet;

namespace {

template <class Stage>
void measure(const std::string& name, std::size_t batch, double multiply_adds_per_sample) {
    using in = typename Stage::input_shape;
    using out = typename Stage::output_shape;
    random_engine rng(5);
    aligned_buffer<float> params(Stage::parameter_count), x(batch * in::size), y(batch * out::size),
        dy(batch * out::size), dx(batch * in::size), dparams(Stage::parameter_count),
        scratch(std::max<std::size_t>(Stage::scratch_size, 1));
    for (auto& v : params.span()) v = static_cast<float>(rng.uniform(-0.1, 0.1));
    for (auto& v : x.span()) v = static_cast<float>(rng.uniform());
    const std::size_t calls =
        std::clamp<std::size_t>(static_cast<std::size_t>(4e9 / (multiply_adds_per_sample * batch)), 20, 2000);
    const double flop = 2.0 * multiply_adds_per_sample * static_cast<double>(batch);
    const double forward = bench::median_microseconds(
        [&](std::size_t) { Stage::forward(params.data(), x.data(), y.data(), batch, scratch.data()); }, calls);
    // Backward overwrites its output gradient (the activation's derivative in place): refilled each call.
    auto backward = [&](float* d_in) {
        return bench::median_microseconds(
            [&](std::size_t) {
                dy.fill(0.01f);
                Stage::backward(params.data(), x.data(), y.data(), dy.data(), d_in, dparams.data(), batch,
                                scratch.data());
            },
            calls);
    };
    const double weights = backward(nullptr);
    const double both = backward(dx.data());
    std::string key = "conv:" + name + "@" + std::to_string(batch);
    std::replace(key.begin(), key.end(), ' ', '_');  // one field of the RESULT line
    bench::report("typenet", key.c_str(), "forward_gflops", 1, flop / forward / 1e3);
    bench::report("typenet", key.c_str(), "weight_grad_gflops", 1, flop / weights / 1e3);
    bench::report("typenet", key.c_str(), "input_grad_gflops", 1, flop / std::max(both - weights, 1e-3) / 1e3);
}

// conv2d<F, K, S, P> on a C x H x W input.
template <std::size_t C, std::size_t H, std::size_t W, std::size_t F, std::size_t K, std::size_t S = 1,
          std::size_t P = 0>
void conv(const char* name, std::size_t batch) {
    using stage = conv2d_stage<shape<C, H, W>, F, K, S, P, 1, 1>;
    measure<stage>(name, batch, static_cast<double>(stage::Q * F * stage::N));
}

// depthwise_conv2d<K, S, P> on a C x H x W input.
template <std::size_t C, std::size_t H, std::size_t W, std::size_t K, std::size_t S, std::size_t P>
void depthwise(const char* name, std::size_t batch) {
    using stage = detail::depthwise_conv2d_stage<shape<C, H, W>, K, S, P, 1, 1, 1>;
    using out = typename stage::output_shape;
    measure<stage>(name, batch, static_cast<double>(K * K * out::size));
}

}  // namespace

int main() {
    for (const std::size_t batch : {std::size_t{64}, std::size_t{32}}) {
        if (bench::selected("bn-cnn", "bn-cnn resnet mobilenet")) {
            conv<1, 28, 28, 32, 3, 1, 1>("bn-cnn/conv1 1->32 3x3 28x28", batch);
            conv<32, 14, 14, 64, 3, 1, 1>("bn-cnn/conv2 32->64 3x3 14x14", batch);
        }
        if (bench::selected("resnet", "bn-cnn resnet mobilenet")) {
            conv<1, 28, 28, 24, 3, 1, 1>("resnet/stem 1->24 3x3 28x28", batch);
            conv<24, 28, 28, 48, 3, 2, 1>("resnet/down48 24->48 3x3 s2 28x28", batch);
            conv<24, 28, 28, 48, 1, 2>("resnet/shortcut48 24->48 1x1 s2 28x28", batch);
            conv<48, 14, 14, 48, 3, 1, 1>("resnet/block48 48->48 3x3 14x14", batch);
            conv<48, 14, 14, 96, 3, 2, 1>("resnet/down96 48->96 3x3 s2 14x14", batch);
            conv<48, 14, 14, 96, 1, 2>("resnet/shortcut96 48->96 1x1 s2 14x14", batch);
            conv<96, 7, 7, 96, 3, 1, 1>("resnet/block96 96->96 3x3 7x7", batch);
        }
        if (bench::selected("mobilenet", "bn-cnn resnet mobilenet")) {
            conv<1, 28, 28, 16, 3, 2, 1>("mobilenet/stem 1->16 3x3 s2 28x28", batch);
            conv<16, 14, 14, 32, 1>("mobilenet/expand 16->32 1x1 14x14", batch);
            depthwise<32, 14, 14, 3, 2, 1>("mobilenet/depthwise 32 3x3 s2 14x14", batch);
            conv<32, 7, 7, 32, 1>("mobilenet/project 32->32 1x1 7x7", batch);
            conv<32, 7, 7, 96, 1>("mobilenet/block-expand 32->96 1x1 7x7", batch);
            depthwise<96, 7, 7, 3, 1, 1>("mobilenet/block-depthwise 96 3x3 7x7", batch);
            conv<96, 7, 7, 32, 1>("mobilenet/block-project 96->32 1x1 7x7", batch);
            conv<32, 7, 7, 64, 1>("mobilenet/head 32->64 1x1 7x7", batch);
        }
    }
}
