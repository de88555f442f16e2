// Layers written outside the library (examples/custom/custom_layers.hpp: the activation
// softsign and the parametrised channel_scale) in a convolutional network, held to what
// a built-in layer does: fused like one, trained on Fashion-MNIST, gradient-checked in
// double, saved and loaded, exported as a header.
//   custom_layer [export directory]   (default: the current directory)
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>

#include <typenet/typenet.hpp>

#include "custom/custom_layers.hpp"

using namespace typenet;

using net = sequential<input<1, 28, 28>, conv2d<8, 5>, user::softsign, max_pool<2>, user::channel_scale, flatten,
                       dense<64>, user::softsign, dense<10>>;

// softsign fuses into the convolution and into the dense layer before it, as relu would:
// the fused plan has two stages fewer than the reference plan.
static_assert(net::fused_plan::count == net::reference_plan::count - 2);
static_assert(net::parameter_count == (25 * 8 + 8) + 2 * 8 + (8 * 12 * 12 * 64 + 64) + (64 * 10 + 10));

int main(int argc, char** argv) {
    const std::filesystem::path out_dir = argc > 1 ? argv[1] : ".";
    const auto set = data::fashion_mnist<float>(data::fashion_mnist_default_dir, {.train_limit = 10000});
    model<net> m(1);
    fit(m, set.train, softmax_cross_entropy{}, sgd{.learning_rate = 0.02, .momentum = 0.9},
        fit_options{.epochs = 3, .batch_size = 32, .progress = false});
    std::printf("custom layers %s\n", type_name<net>().c_str());
    std::printf("test accuracy %.4f after 3 epochs on 10000 images\n", accuracy(m, set.test));

    // Two samples, every layer's gradients against central differences in double.
    const std::span<const float> two(set.test.sample(0), 2 * net::input_size);
    const std::vector<label_t> labels(set.test.labels.begin(), set.test.labels.begin() + 2);
    const auto check = gradient_check(m, softmax_cross_entropy{}, two, std::span<const label_t>(labels));
    // The kinks: background pixels give equal convolution outputs, tied in max_pool's windows.
    std::size_t checked = 0;
    for (const auto& l : check.layers) checked += l.parameters_checked + l.inputs_checked;
    std::printf("gradient check: max relative error %.3g (%zu of %zu values left out at kinks)\n", check.max_error(),
                check.kinks_skipped(), checked);

    const auto weights = out_dir / "custom_layer.tnw";
    save(m, weights);
    model<net> loaded(2);
    load(loaded, weights);
    const bool same = std::ranges::equal(loaded.parameters(), m.parameters()) &&
                      loaded.predict(two.first(net::input_size)) == m.predict(two.first(net::input_size));
    std::printf("save and load: %s\n", same ? "identical" : "DIFFERENT");

    const auto header = out_dir / "custom_layer_model.hpp";
    export_header(m, header, "custom_layer_model");
    std::printf("exported %s (it includes %s)\n", header.string().c_str(), std::string(user::softsign::header).c_str());
    return same ? 0 : 1;
}
