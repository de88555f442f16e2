#pragma once
// The networks examples/fashion_mnist trains (--model), as types. tests/test_architecture
// reads their initial weights against the initialisation rule.
#include <typenet/typenet.hpp>

namespace fashion_models {

using namespace typenet;

using linear_classifier = sequential<input<1, 28, 28>, flatten, dense<10>>;
using mlp = sequential<input<1, 28, 28>, flatten, dense<256>, relu, dense<128>, relu, dense<10>>;
using lenet = sequential<input<1, 28, 28>, conv2d<6, 5>, relu, max_pool<2>, conv2d<16, 5>, relu, max_pool<2>, flatten,
                         dense<120>, relu, dense<84>, relu, dense<10>>;
// Two 3x3 convolutions with padding per stage keep more spatial detail than LeNet's 5x5.
using cnn = sequential<input<1, 28, 28>, conv2d<16, 3, 1, 1>, relu, max_pool<2>, conv2d<32, 3, 1, 1>, relu, max_pool<2>,
                       flatten, dense<128>, relu, dense<10>>;

// The cnn widened, with batch norm after every convolution and the hidden dense
// layer, and dropout before the classifier (the --model bn-cnn recipe of README).
using bn_cnn = sequential<input<1, 28, 28>, conv2d<32, 3, 1, 1>, batch_norm, relu, max_pool<2>, conv2d<64, 3, 1, 1>,
                          batch_norm, relu, max_pool<2>, flatten, dense<128>, batch_norm, relu, dropout<25>, dense<10>>;

}  // namespace fashion_models
