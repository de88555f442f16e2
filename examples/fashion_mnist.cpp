// Fashion-MNIST end to end: load the real images, train a classifier, show
// progress, evaluate on the test set, print the confusion matrix, save the model,
// the per-epoch history (CSV), the training curves (SVG) and pictures of what it
// learned: for the linear classifier one 28x28 weight template per class, for the
// convolutional networks the first layer's filters and the feature maps of one
// test image after each convolution (PNG).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include <typenet/data/fashion_mnist.hpp>
#include <typenet/io/plot.hpp>
#include <typenet/io/png.hpp>
#include <typenet/io/weights.hpp>
#include <typenet/typenet.hpp>

using namespace typenet;

#include "fashion_models.hpp"  // the networks the example trains (also read by tests)
using namespace fashion_models;

struct settings {
    std::string model = "cnn";
    std::size_t epochs = 0;  // 0: the model's default
    std::size_t batch_size = 64;
    double learning_rate = 0;  // 0: the model's default
    double momentum = 0.9;
    double weight_decay = -1;  // < 0: the model's default
    std::string optimizer = "sgd";
    std::string schedule = "cosine";
    double warmup = 0.25;  // one-cycle: the share of the batches the rate rises over
    bool augment = false;
    std::size_t max_shift = 2;
    std::size_t cutout = 0;
    bool test_curve = false;
    std::uint64_t seed = 1;
    std::string out = "out";
    std::string data_dir = data::fashion_mnist_default_dir;
    double validation_split = 0.1;
    bool standardize = false;
    std::size_t threads = std::max(1u, std::thread::hardware_concurrency());
    std::string checkpoint;  // empty: no checkpoints
    bool resume = false;
};

template <class Net>
void draw_convolutions(const model<Net>& m, const labeled_data<float>& test, const std::filesystem::path& dir,
                       const std::string& name) {
    // First layer's filters: weights are [C*K*K][F]; filter f of a 1-channel input is column f.
    bool first = true;
    m.for_each_tensor([&](const tensor_ref<const float>& t) {
        if (!first || t.name != "weights" || t.dims.size() != 4) return;
        first = false;
        const std::size_t k = t.dims[1], filters = t.dims[3];
        std::vector<std::vector<float>> images(filters, std::vector<float>(k * k));
        for (std::size_t q = 0; q < k * k; ++q)
            for (std::size_t f = 0; f < filters; ++f) images[f][q] = t.values[q * filters + f];
        std::vector<std::span<const float>> views(images.begin(), images.end());
        io::write_png_grid(dir / (name + "-filters.png"), views, k, k, std::min<std::size_t>(filters, 16), 8);
    });
    // Feature maps of the first test image after each convolution (and its activation).
    const std::span<const float> image(test.sample(0), 784);
    std::size_t conv = 0;
    for_each_layer_output(m, image, [&](const layer_output<float>& o) {
        if (o.layer.rfind("conv2d", 0) != 0) return;
        const std::size_t channels = o.dims[0], h = o.dims[1], w = o.dims[2];
        std::vector<std::span<const float>> maps;
        for (std::size_t c = 0; c < channels; ++c) maps.push_back(o.values.subspan(c * h * w, h * w));
        io::write_png_grid(dir / (name + "-feature-maps-conv" + std::to_string(++conv) + ".png"), maps, h, w,
                           std::min<std::size_t>(channels, 16), 3);
    });
    std::printf("wrote %s-filters.png and %zu feature-map PNGs (test image 0, a %s)\n", name.c_str(), conv,
                std::string(data::fashion_mnist_class_names[test.labels[0]]).c_str());
}

template <class Net, class Optimizer>
int run_with(const settings& s, std::size_t default_epochs, const Optimizer& optimizer);

/// default_lr is SGD's; Adam's default is 0.001.
template <class Net>
int run(const settings& given, std::size_t default_epochs, double default_lr, double default_weight_decay = 5e-4) {
    settings s = given;
    if (s.weight_decay < 0) s.weight_decay = default_weight_decay;
    const bool adaptive = s.optimizer == "adam" || s.optimizer == "adamw";
    const double lr = s.learning_rate > 0 ? s.learning_rate : adaptive ? 0.001 : default_lr;
    if (adaptive) {
        const adam a{
            .learning_rate = lr, .weight_decay = s.weight_decay, .decoupled_weight_decay = s.optimizer == "adamw"};
        std::printf("optimizer %s: lr %g, weight decay %g (%s)\n", s.optimizer.c_str(), a.learning_rate, a.weight_decay,
                    a.decoupled_weight_decay ? "decoupled" : "coupled L2");
        return run_with<Net>(s, default_epochs, a);
    }
    const sgd o{.learning_rate = lr,
                .momentum = s.momentum,
                .weight_decay = s.weight_decay,
                .nesterov = s.optimizer == "nesterov"};
    std::printf("optimizer %s: lr %g, momentum %g, weight decay %g\n", s.optimizer.c_str(), o.learning_rate, o.momentum,
                o.weight_decay);
    return run_with<Net>(s, default_epochs, o);
}

template <class Net, class Optimizer>
int run_with(const settings& s, std::size_t default_epochs, const Optimizer& optimizer) {
    const auto sets = data::fashion_mnist<float>(s.data_dir, {.standardize = s.standardize});
    std::fprintf(stderr, "Fashion-MNIST: %zu training, %zu test images\n", sets.train.size(), sets.test.size());

    model<Net> m(s.seed);
    const std::filesystem::path dir(s.out);
    std::filesystem::create_directories(dir);
    // --test-curve: test accuracy after every epoch (evaluation time is not training time).
    std::FILE* curve = nullptr;
    double elapsed = 0;
    if (s.test_curve) {
        curve = std::fopen((dir / (s.model + "-test-curve.csv")).c_str(), "w");
        if (curve == nullptr) throw std::runtime_error("cannot write the test curve in " + dir.string());
        std::fprintf(curve, "epoch,train_seconds,learning_rate,train_loss,train_accuracy,test_accuracy\n");
    }
    fit_options options{.epochs = s.epochs > 0 ? s.epochs : default_epochs,
                        .batch_size = s.batch_size,
                        .seed = s.seed,
                        .validation_split = s.validation_split,
                        .threads = s.threads,
                        .schedule = s.schedule == "one-cycle" ? learning_rate_schedule::one_cycle(s.warmup)
                                                              : learning_rate_schedule::cosine(0.05),
                        // A crash or kill costs at most 200 batches: rerun with --resume to continue.
                        .checkpoint_path = s.checkpoint,
                        .checkpoint_every_batches = s.checkpoint.empty() ? std::size_t{0} : std::size_t{200},
                        .resume = s.resume,
                        .augment = {.horizontal_flip = s.augment,
                                    .max_shift = s.augment ? s.max_shift : 0,
                                    .cutout = s.augment ? s.cutout : 0}};
    if (curve != nullptr)
        options.on_epoch = [&](const epoch_record& r) {
            elapsed += r.seconds;
            const double test = accuracy(m, sets.test, evaluation_batch_size, s.threads);
            std::fprintf(curve, "%zu,%.1f,%g,%.5f,%.5f,%.5f\n", r.epoch, elapsed, r.learning_rate, r.loss,
                         r.accuracy.value_or(0), test);
            std::fflush(curve);
            std::fprintf(stderr, "  epoch %zu: %.1f s of training so far, test accuracy %.4f\n", r.epoch, elapsed,
                         test);
        };
    std::printf("model %s: %s, %zu parameters\n", s.model.c_str(), type_name<Net>().c_str(), Net::parameter_count);
    std::printf("training: %zu epochs, batch %zu, lr %g (%s), seed %llu, %zu threads, augmentation %s\n",
                options.epochs, options.batch_size, optimizer.learning_rate,
                s.schedule == "one-cycle" ? "one cycle, per batch" : "cosine decay, per epoch",
                static_cast<unsigned long long>(s.seed), options.threads,
                s.augment ? ("flips + shifts up to " + std::to_string(s.max_shift) + " px" +
                             (s.cutout > 0 ? " + cutout " + std::to_string(s.cutout) + " px" : ""))
                                .c_str()
                          : "off");
    std::fflush(stdout);  // before fit's progress on stderr
    const history h = fit(m, sets.train, softmax_cross_entropy{}, optimizer, options);
    if (curve != nullptr) std::fclose(curve);
    double seconds = 0;
    for (const auto& e : h.epochs) seconds += e.seconds;

    const double test_accuracy = accuracy(m, sets.test, evaluation_batch_size, s.threads);
    std::printf("training time %.1f s\n", seconds);
    std::printf("test accuracy %.4f\n", test_accuracy);
    // The same weights rounded to bfloat16 (half the bytes; the reduced-precision export below).
    // (dropout and batch_norm folded away first: the exported network).
    const bfloat16_model<folded_t<Net>> compact(fold_for_inference(m));
    std::size_t correct_bf16 = 0;
    for (std::size_t i = 0; i < sets.test.size(); ++i)
        correct_bf16 +=
            compact.classify(std::span<const float>(sets.test.sample(i), Net::input_size)) == sets.test.labels[i];
    std::printf("test accuracy with bfloat16 weights %.4f\n", double(correct_bf16) / double(sets.test.size()));
    print_confusion_matrix(std::cout, confusion_matrix(m, sets.test, evaluation_batch_size, s.threads),
                           data::fashion_mnist_class_names);

    const auto model_path = dir / (s.model + ".tnw");
    save(m, model_path);  // with batch_norm, its running statistics too
    // The same weights as a C++ header an application can compile in (see README, "Embedding").
    std::string symbol = "fashion_" + s.model;
    std::replace(symbol.begin(), symbol.end(), '-', '_');  // bn-cnn -> fashion_bn_cnn
    export_header(m, dir / (s.model + ".hpp"), symbol);
    export_header(m, dir / (s.model + "-bf16.hpp"), symbol + "_bf16", weight_storage::bfloat16);
    io::write_history_csv(dir / (s.model + "-history.csv"), h);
    io::write_training_curves_svg(dir / (s.model + "-curves.svg"), h, "Fashion-MNIST, " + s.model);
    std::printf("saved %s, %s.hpp, %s-bf16.hpp, %s-history.csv, %s-curves.svg in %s\n", model_path.filename().c_str(),
                s.model.c_str(), s.model.c_str(), s.model.c_str(), s.model.c_str(), dir.c_str());

    if constexpr (std::is_same_v<Net, linear_classifier>) {
        // Column c of W (784 x 10) is class c's template: the image it scores highest.
        std::vector<std::vector<float>> templates(10, std::vector<float>(784));
        const auto w = m.parameters();
        for (std::size_t k = 0; k < 784; ++k)
            for (std::size_t c = 0; c < 10; ++c) templates[c][k] = w[k * 10 + c];
        std::vector<std::span<const float>> images(templates.begin(), templates.end());
        io::write_png_grid(dir / "linear-templates.png", images, 28, 28, 10, 4);
        std::printf("wrote linear-templates.png (class templates, left to right:");
        for (auto n : data::fashion_mnist_class_names) std::printf(" %.*s;", static_cast<int>(n.size()), n.data());
        std::printf(")\n");
    }
    if constexpr (std::is_same_v<Net, lenet> || std::is_same_v<Net, cnn> || std::is_same_v<Net, bn_cnn>)
        draw_convolutions(m, sets.test, dir, s.model);
    return 0;
}

int main(int argc, char** argv) {
    settings s;
    CLI::App app{"Train and evaluate a classifier on Fashion-MNIST"};
    app.add_option("-m,--model", s.model, "linear | mlp | lenet | cnn | bn-cnn | resnet | mobilenet")
        ->check(CLI::IsMember({"linear", "mlp", "lenet", "cnn", "bn-cnn", "resnet", "mobilenet"}));
    app.add_option("--optimizer", s.optimizer, "sgd | nesterov | adam | adamw")
        ->check(CLI::IsMember({"sgd", "nesterov", "adam", "adamw"}));
    app.add_option("--schedule", s.schedule,
                   "cosine (per epoch, down to 0.05 of the rate) | one-cycle (per batch: a linear rise from 0.1 of "
                   "the rate over --warmup of the run, then a cosine down to 0.002 of it)")
        ->check(CLI::IsMember({"cosine", "one-cycle"}));
    app.add_option("--warmup", s.warmup, "with --schedule one-cycle, the share of the run the rate rises over")
        ->check(CLI::Range(0.0, 0.99));
    app.add_flag("--augment", s.augment, "random horizontal flips and shifts of the training images");
    app.add_option("--max-shift", s.max_shift, "largest shift in pixels with --augment");
    app.add_option("--cutout", s.cutout, "with --augment, zero a square of this side at a random place (0: none)");
    app.add_flag("--test-curve", s.test_curve,
                 "evaluate on the test set after every epoch (writes <model>-test-curve.csv)");
    app.add_option("-e,--epochs", s.epochs, "epochs (default: per model)");
    app.add_option("-b,--batch-size", s.batch_size, "minibatch size")->check(CLI::PositiveNumber);
    app.add_option("-l,--learning-rate", s.learning_rate, "learning rate (default: per model and optimizer)");
    app.add_option("--momentum", s.momentum, "SGD / Nesterov momentum in [0, 1)");
    app.add_option(
           "--weight-decay", s.weight_decay,
           "weight decay (L2 for sgd, nesterov and adam; decoupled for adamw; default 5e-4, 1e-4 for mobilenet)")
        ->check(CLI::NonNegativeNumber);
    app.add_option("-s,--seed", s.seed, "seed of initialisation, shuffles and the validation split");
    app.add_option("-o,--out", s.out, "output directory for the model, history and pictures");
    app.add_option("--data", s.data_dir, "directory of the Fashion-MNIST IDX files");
    app.add_option("--validation-split", s.validation_split, "fraction of training images held out");
    app.add_flag("--standardize", s.standardize, "standardise each pixel by the training set's mean and deviation");
    app.add_option("-t,--threads", s.threads, "threads sharing each minibatch")->check(CLI::PositiveNumber);
    app.add_option("--checkpoint", s.checkpoint, "checkpoint file, written every 200 batches and every epoch");
    app.add_flag("--resume", s.resume, "continue from --checkpoint if it exists (same options as the interrupted run)")
        ->needs(app.get_option("--checkpoint"));
    CLI11_PARSE(app, argc, argv);
    try {
        if (s.model == "linear") return run<linear_classifier>(s, 5, 0.01);
        if (s.model == "mlp") return run<mlp>(s, 15, 0.01);
        if (s.model == "lenet") return run<lenet>(s, 30, 0.02);
        if (s.model == "bn-cnn") return run<bn_cnn>(s, 20, 0.05);
        if (s.model == "resnet") return run<resnet>(s, 30, 0.05);
        // A network this small underfits rather than overfits: less decay, more epochs.
        if (s.model == "mobilenet") return run<mobilenet>(s, 40, 0.05, 1e-4);
        return run<cnn>(s, 15, 0.02);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "fashion_mnist: %s\n", e.what());
        return 1;
    }
}
