#pragma once
// The models whose weight files the weights fuzz target loads, and the training
// runs whose checkpoints the checkpoint fuzz target resumes; make_seeds writes the
// seed corpora from both, so that the fuzzers start from valid files.
//
// batch_norm gives the files state tensors (running statistics) besides the
// parameters; dropout and augmentation give the checkpoints their random streams.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include <typenet/typenet.hpp>

namespace typenet_fuzz {

namespace tn = typenet;

using mlp_model = tn::model<tn::sequential<tn::input<4>, tn::dense<5>, tn::relu, tn::dense<3>>, float>;
using conv_model = tn::model<
    tn::sequential<tn::input<1, 6, 6>, tn::conv2d<2, 3>, tn::relu, tn::max_pool<2>, tn::flatten, tn::dense<3>>, double>;
// batch_norm after a convolution (per feature map) and after a dense layer (per
// unit), then dropout: weight files of these hold "running_mean"/"running_var".
using conv_bn_model =
    tn::model<tn::sequential<tn::input<1, 6, 6>, tn::conv2d<2, 3>, tn::batch_norm, tn::relu, tn::max_pool<2>,
                             tn::flatten, tn::dense<4>, tn::batch_norm, tn::relu, tn::dropout<25>, tn::dense<3>>,
              float>;
using mlp_bn_model =
    tn::model<tn::sequential<tn::input<4>, tn::dense<5>, tn::batch_norm, tn::relu, tn::dropout<50>, tn::dense<3>>,
              double>;

template <class Model>
Model make_model() {
    return Model(42);
}

/// Bytewise equality (NaN payloads and signed zeros included, unlike ==).
template <class T>
bool same_bytes(std::span<const T> a, std::span<const T> b) {
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size_bytes()) == 0);
}

/// Overwrites the last eight bytes, where weight files and checkpoints keep their
/// checksum, with the FNV-1a 64 of the bytes before them (little-endian).
inline void recompute_trailing_checksum(std::span<unsigned char> bytes) {
    if (bytes.size() < 8) return;
    const std::size_t at = bytes.size() - 8;
    const std::uint64_t sum = tn::detail::fnv1a64(bytes.first(at));
    for (std::size_t i = 0; i < 8; ++i) bytes[at + i] = static_cast<unsigned char>(sum >> (8 * i));
}

/// Samples of a classification problem with three classes, for any input width.
template <class T>
tn::labeled_data<T> run_data(std::size_t samples, std::size_t features, std::uint64_t seed) {
    tn::random_engine rng(seed);
    tn::labeled_data<T> d;
    d.inputs = xt::xtensor<T, 2>::from_shape({samples, features});
    d.labels.resize(samples);
    for (std::size_t i = 0; i < samples; ++i) {
        d.labels[i] = static_cast<tn::label_t>(i % 3);
        for (std::size_t f = 0; f < features; ++f)
            d.inputs(i, f) = static_cast<T>(rng.normal(f % 3 == i % 3 ? 1.0 : 0.0, 0.5));
    }
    return d;
}

/// A training run whose checkpoints make seeds (make_seeds) and which the
/// checkpoint target resumes (fuzz_checkpoint.cpp): both must agree on the
/// model, the optimiser, the data size and fit's options, or no seed would get
/// past the settings check.
template <class Model, class Optimizer>
struct checkpoint_run {
    using model_type = Model;
    using optimizer_type = Optimizer;
    const char* name;
    Optimizer optimizer;
    std::size_t samples;
    tn::fit_options options;  ///< without checkpoint_path: make_seeds adds it

    tn::labeled_data<typename Model::value_type> data() const {
        return run_data<typename Model::value_type>(samples, Model::input_size, 5);
    }
};

// Three runs between them reach every part of the format: sgd with momentum
// (velocity), adam (two moments) and plain sgd (no optimiser state); two threads
// (two dropout streams) and one; augmentation and none; a validation split and
// none; shuffled and in order; model state (batch_norm) and none.
inline checkpoint_run<conv_bn_model, tn::sgd> conv_bn_sgd_run() {
    tn::fit_options o{
        .epochs = 2, .batch_size = 5, .seed = 7, .validation_split = 0.2, .progress = false, .threads = 2};
    o.checkpoint_every_batches = 1;  // mid-epoch checkpoints
    o.augment = {.horizontal_flip = true, .max_shift = 1};
    return {"conv-bn-sgd", tn::sgd{.learning_rate = 0.05, .momentum = 0.9, .weight_decay = 1e-4}, 20, o};
}
inline checkpoint_run<mlp_bn_model, tn::adam> mlp_bn_adam_run() {
    tn::fit_options o{.epochs = 2, .batch_size = 4, .seed = 3, .shuffle = false, .progress = false, .threads = 1};
    return {"mlp-bn-adam", tn::adam{.learning_rate = 0.01}, 12, o};  // end-of-epoch checkpoints only
}
inline checkpoint_run<mlp_model, tn::sgd> mlp_sgd_run() {
    tn::fit_options o{
        .epochs = 1, .batch_size = 3, .seed = 11, .validation_split = 0.25, .progress = false, .threads = 1};
    o.checkpoint_every_batches = 1;
    return {"mlp-sgd", tn::sgd{.learning_rate = 0.1}, 12, o};
}

}  // namespace typenet_fuzz
