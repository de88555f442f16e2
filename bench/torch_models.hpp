#pragma once
// libtorch's side of the benchmark's CNNs, layer for layer the networks of
// examples/fashion_models.hpp (bn-cnn, resnet, mobilenet), and every model of the
// table by its name. Convolutions keep libtorch's default bias, as typenet's conv2d
// has one; batch norm and dropout as in typenet's training mode.
#include <torch/torch.h>

#include <string_view>

#include "torch_batch.hpp"

namespace bench {

/// body(x) + shortcut(x), the shortcut the identity when it is empty (typenet's residual).
struct ResidualImpl : torch::nn::Module {
    ResidualImpl(torch::nn::Sequential body_, torch::nn::Sequential shortcut_)
        : body(register_module("body", body_)), shortcut(register_module("shortcut", shortcut_)) {}
    torch::Tensor forward(torch::Tensor x) {
        return body->forward(x) + (shortcut->size() == 0 ? x : shortcut->forward(x));
    }
    torch::nn::Sequential body, shortcut;
};
TORCH_MODULE(Residual);

inline torch::nn::Conv2d torch_conv(long in, long out, long kernel, long stride = 1, long padding = 0,
                                    long groups = 1) {
    return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding).groups(groups));
}

inline torch::nn::Sequential make_torch_bn_cnn() {
    using namespace torch::nn;
    return Sequential(torch_conv(1, 32, 3, 1, 1), BatchNorm2d(32), ReLU(), MaxPool2d(2), torch_conv(32, 64, 3, 1, 1),
                      BatchNorm2d(64), ReLU(), MaxPool2d(2), Flatten(), Linear(64 * 7 * 7, 128), BatchNorm1d(128),
                      ReLU(), Dropout(0.25), Linear(128, 10));
}

// fashion_models::basic_block and downsampling_block.
inline Residual torch_basic_block(long channels) {
    using namespace torch::nn;
    return Residual(Sequential(torch_conv(channels, channels, 3, 1, 1), BatchNorm2d(channels), ReLU(),
                               torch_conv(channels, channels, 3, 1, 1), BatchNorm2d(channels)),
                    Sequential());
}
inline Residual torch_downsampling_block(long in, long out) {
    using namespace torch::nn;
    return Residual(Sequential(torch_conv(in, out, 3, 2, 1), BatchNorm2d(out), ReLU(), torch_conv(out, out, 3, 1, 1),
                               BatchNorm2d(out)),
                    Sequential(torch_conv(in, out, 1, 2), BatchNorm2d(out)));
}

inline torch::nn::Sequential make_torch_resnet() {
    using namespace torch::nn;
    return Sequential(torch_conv(1, 24, 3, 1, 1), BatchNorm2d(24), ReLU(), torch_downsampling_block(24, 48), ReLU(),
                      torch_basic_block(48), ReLU(), torch_downsampling_block(48, 96), ReLU(), torch_basic_block(96),
                      ReLU(), AdaptiveAvgPool2d(1), Flatten(), Linear(96, 10));
}

// fashion_models::inverted_residual: 1x1 expansion, 3x3 depthwise, 1x1 linear projection.
inline Residual torch_inverted_residual(long channels, long expanded) {
    using namespace torch::nn;
    return Residual(Sequential(torch_conv(channels, expanded, 1), BatchNorm2d(expanded), ReLU6(),
                               torch_conv(expanded, expanded, 3, 1, 1, expanded), BatchNorm2d(expanded), ReLU6(),
                               torch_conv(expanded, channels, 1), BatchNorm2d(channels)),
                    Sequential());
}

inline torch::nn::Sequential make_torch_mobilenet() {
    using namespace torch::nn;
    return Sequential(torch_conv(1, 16, 3, 2, 1), BatchNorm2d(16), ReLU6(), torch_conv(16, 32, 1), BatchNorm2d(32),
                      ReLU6(), torch_conv(32, 32, 3, 2, 1, 32), BatchNorm2d(32), ReLU6(), torch_conv(32, 32, 1),
                      BatchNorm2d(32), torch_inverted_residual(32, 96), torch_inverted_residual(32, 96),
                      torch_conv(32, 64, 1), BatchNorm2d(64), ReLU6(), AdaptiveAvgPool2d(1), Flatten(), Linear(64, 128),
                      ReLU(), Linear(128, 10));
}

/// The libtorch network named `name` (bench::model_names), or an empty Sequential.
inline torch::nn::Sequential make_torch_model(std::string_view name) {
    if (name == "mlp") return make_torch_mlp();
    if (name == "lenet") return make_torch_lenet();
    if (name == "bn-cnn") return make_torch_bn_cnn();
    if (name == "resnet") return make_torch_resnet();
    if (name == "mobilenet") return make_torch_mobilenet();
    return torch::nn::Sequential();
}

}  // namespace bench
