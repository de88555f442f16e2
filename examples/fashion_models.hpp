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

// A small ResNet: a stem at full resolution, then two stages, each a block that halves
// the maps and doubles the channels (projection shortcut) and a basic block (identity
// shortcut), global average pooling and the classifier (the --model resnet recipe of
// README). The same blocks after a pooling stem, at a third of the cost, stopped at
// 0.933 test accuracy (15 and 30 epochs alike).
template <std::size_t Channels>
using basic_block = residual<conv2d<Channels, 3, 1, 1>, batch_norm, relu, conv2d<Channels, 3, 1, 1>, batch_norm>;
template <std::size_t Channels>
using downsampling_block = residual<projection<conv2d<Channels, 1, 2>, batch_norm>, conv2d<Channels, 3, 2, 1>,
                                    batch_norm, relu, conv2d<Channels, 3, 1, 1>, batch_norm>;
using resnet = sequential<input<1, 28, 28>, conv2d<24, 3, 1, 1>, batch_norm, relu,  // 24 x 28 x 28
                          downsampling_block<48>, relu, basic_block<48>, relu,      // 48 x 14 x 14
                          downsampling_block<96>, relu, basic_block<96>, relu,      // 96 x 7 x 7
                          global_avg_pool, dense<10>>;

// MobileNetV2-style: inverted residual blocks (1x1 expansion, 3x3 depthwise, 1x1
// linear projection, each with batch norm; ReLU6 after the first two), the identity
// shortcut where the shape is kept (the --model mobilenet recipe of README).
template <std::size_t Channels, std::size_t Expanded>
using inverted_residual = residual<conv2d<Expanded, 1>, batch_norm, relu6, depthwise_conv2d<3, 1, 1>, batch_norm, relu6,
                                   conv2d<Channels, 1>, batch_norm>;
// At most a quarter of bn-cnn's multiply-adds (test_architecture checks it).
using mobilenet = sequential<input<1, 28, 28>, conv2d<16, 3, 2, 1>, batch_norm, relu6,  // 16 x 14 x 14
                             conv2d<32, 1>, batch_norm, relu6, depthwise_conv2d<3, 2, 1>, batch_norm, relu6,
                             conv2d<32, 1>, batch_norm,                             // 32 x 7 x 7
                             inverted_residual<32, 96>, inverted_residual<32, 96>,  // 32 x 7 x 7
                             conv2d<64, 1>, batch_norm, relu6, global_avg_pool, dense<128>, relu, dense<10>>;

}  // namespace fashion_models
