// Compiled (syntax only) without -march=native by the "portable" test: typenet must
// build for any x86-64 (SSE2), not only where AVX2 kernels exist. Each use below
// instantiates a path that has an AVX2 variant: convolution, pooling's backward,
// the first layer's zero skipping, batch inference, bfloat16 weights and the
// byte-image gather.
#include <typenet/typenet.hpp>

#include <cstdio>
#include <vector>

using namespace typenet;

using lenet = sequential<input<1, 28, 28>, conv2d<6, 5>, relu, max_pool<2>, conv2d<16, 5>, relu, max_pool<2>, flatten,
                         dense<120>, relu, dense<84>, relu, dense<10>>;
using mlp = sequential<input<1, 28, 28>, flatten, dense<128>, relu, dense<10>>;

int main() {
    const auto sets =
        data::fashion_mnist_images(data::fashion_mnist_default_dir, {.train_limit = 256, .test_limit = 256});
    model<lenet> cnn(1);
    fit(cnn, sets.train, softmax_cross_entropy{}, sgd{.learning_rate = 0.05, .momentum = 0.9},
        fit_options{.epochs = 1, .batch_size = 32, .progress = false});
    model<mlp> net(1);
    fit(net, sets.train.to_labeled_data<float>(), softmax_cross_entropy{}, adam{}, fit_options{.epochs = 1});
    const bfloat16_model<mlp> compact(net);
    std::vector<float> x(mlp::input_size, 0.5f);
    batch_predictor<mlp> predictor(net, 8, 2);
    std::printf("%.3f %zu %zu\n", accuracy(cnn, sets.test), net.classify(x), compact.classify(x));
}
