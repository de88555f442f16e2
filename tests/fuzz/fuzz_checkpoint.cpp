// Fuzz target: the checkpoint loader (train/checkpoint.hpp) as fit's resume uses
// it. The input is written to a scratch file and loaded, as fit(..., {.resume =
// true}) does, into each of the runs of fuzz_models.hpp: its model (batch_norm
// and dropout in two of them), its trainer (one or two threads, augmenting or
// not) and the trainer's optimiser state (sgd with momentum, adam, plain sgd).
// The seeds (tests/fuzz/corpus/checkpoint/) are checkpoints fit wrote in those
// runs, mid-epoch, at the end of an epoch and at the end of the run.
//
// As in the weights target, every input is loaded twice: as it is, and with the
// last eight bytes (the checksum) recomputed, so that mutations get past the
// checksum to the checks behind it.
//
// Properties besides "no crash, no sanitizer report, only weights_error":
//  - refused: the parameters, the model's state (batch_norm statistics) and the
//    optimiser's state (values and step count) are bytewise what they were;
//  - accepted: writing the loaded run again gives back the input (so every value
//    came from the file), the progress is one fit can continue from (the checks
//    fit relies on), restoring the random streams works as fit does it, no
//    restored generator is the all-zero state (xoshiro256** would return 0
//    forever, and a resumed run would hang in the shuffle), and the run's next
//    training step and next shuffle run.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <typenet/train/checkpoint.hpp>
#include <typenet/typenet.hpp>

#include "fuzz_models.hpp"
#include "fuzz_support.hpp"

namespace {

namespace tn = typenet;
using typenet_fuzz::require;
using typenet_fuzz::same_bytes;

bool stuck(const tn::random_engine::snapshot& g) {
    return g.words[0] == 0 && g.words[1] == 0 && g.words[2] == 0 && g.words[3] == 0;
}

/// One run of fuzz_models.hpp set up as fit sets it up before it reads a
/// checkpoint (fit_checked in train/fit.hpp), with reference values to compare with.
template <class Run>
class resume_target {
    using Model = typename Run::model_type;
    using Optimizer = typename Run::optimizer_type;
    using Arch = typename Model::architecture;
    using T = typename Model::value_type;
    using Trainer = tn::trainer<Arch, T, tn::softmax_cross_entropy, Optimizer>;

public:
    explicit resume_target(const Run& run) : run_(run), data_(run.data()), model_(typenet_fuzz::make_model<Model>()) {
        const tn::fit_options& o = run.options;
        const std::size_t validation =
            static_cast<std::size_t>(std::llround(o.validation_split * static_cast<double>(data_.size())));
        train_ = data_.size() - validation;
        batch_ = std::min(o.batch_size, train_);
        step_ =
            std::make_unique<Trainer>(model_, tn::softmax_cross_entropy{}, run.optimizer, batch_, o.threads, o.seed);
        step_->set_augmentation(o.augment, o.seed + 1);
        settings_ = tn::detail::checkpoint_settings_of(o, data_.size(), validation);
        // Values unlike the initial ones (zeros, 0 and 1), so that a partial copy shows.
        auto& state = step_->optimizer_state();
        for (std::size_t i = 0; i < state.values().size(); ++i) state.values()[i] = static_cast<T>(0.5 + 0.001 * i);
        state.steps = 12345;
        for (std::size_t i = 0; i < model_.state().size(); ++i) model_.state()[i] = static_cast<T>(0.25 + 0.125 * i);
        parameters_.assign(model_.parameters().begin(), model_.parameters().end());
        state_.assign(model_.state().begin(), model_.state().end());
        optimizer_values_.assign(state.values().begin(), state.values().end());
        optimizer_steps_ = state.steps;
    }

    void load(const std::filesystem::path& file, std::span<const unsigned char> bytes) {
        auto& state = step_->optimizer_state();
        try {
            const tn::detail::fit_progress at = tn::detail::load_checkpoint<Arch, T, Optimizer>(
                file, model_.parameters(), model_.state(), state, settings_, step_->threads(), step_->augments());
            accepted(at, bytes);
            restore();
        } catch (const tn::weights_error&) {
            require(same_bytes<T>(model_.parameters(), parameters_), "a refused checkpoint changed the parameters");
            require(same_bytes<T>(model_.state(), state_), "a refused checkpoint changed the model's state");
            require(same_bytes<T>(state.values(), optimizer_values_),
                    "a refused checkpoint changed the optimiser's state");
            require(state.steps == optimizer_steps_, "a refused checkpoint changed the optimiser's step count");
        }
    }

private:
    void accepted(const tn::detail::fit_progress& at, std::span<const unsigned char> bytes) {
        if (typenet_fuzz::verbose())
            std::fprintf(stderr, "typenet fuzz: accepted by run %s (epoch %zu, position %zu)\n", run_.name,
                         static_cast<std::size_t>(at.epoch), static_cast<std::size_t>(at.position));
        // What fit relies on after load_checkpoint returned.
        require(at.order.size() == train_, "accepted a training order of the wrong length");
        std::vector<bool> seen(data_.size(), false);
        for (std::size_t i : at.order) {
            require(i < seen.size() && !seen[i], "accepted a training order that is not distinct sample indices");
            seen[i] = true;
        }
        require(at.epoch >= 1 && at.epoch <= run_.options.epochs + 1 && at.position <= train_ &&
                    at.past.epochs.size() == at.epoch - 1,
                "accepted an epoch, position or history fit cannot continue from");
        require(!stuck(at.rng), "accepted an all-zero shuffling generator (it would return 0 forever)");
        for (const auto& g : at.streams.dropout)
            require(!stuck(g), "accepted an all-zero dropout generator (it would return 0 forever)");
        if (at.streams.augmentation)
            require(!stuck(*at.streams.augmentation),
                    "accepted an all-zero augmentation generator (it would return 0 forever)");

        // Every value came from the file: writing the run again gives back the
        // input, except for what the reader does not keep -- the value bits of an
        // absent optional history entry (read and dropped) -- and so the checksum.
        const std::vector<unsigned char> again = tn::detail::encode_checkpoint<Arch, T, Optimizer>(
            std::span<const T>(model_.parameters()), std::span<const T>(model_.state()), step_->optimizer_state(), at);
        require(again.size() == bytes.size(), "accepted a checkpoint that does not write back to its size");
        std::vector<unsigned char> canonical(bytes.begin(), bytes.end());
        const std::size_t history = history_offset(at);
        bool changed = false;
        for (std::size_t k = 0; k < at.past.epochs.size(); ++k) {
            const tn::epoch_record& e = at.past.epochs[k];
            const bool present[3] = {e.accuracy.has_value(), e.validation_loss.has_value(),
                                     e.validation_accuracy.has_value()};
            for (std::size_t j = 0; j < 3; ++j) {
                if (present[j]) continue;
                // A record: epoch (8), four doubles (32), three optionals (flag 4, value 8).
                const std::size_t value = history + 8 + k * 76 + 40 + 12 * j + 4;
                require(value + 8 <= canonical.size() - 8, "history layout out of bounds (target bug)");
                changed |= !std::equal(again.begin() + value, again.begin() + value + 8, canonical.begin() + value);
                std::copy(again.begin() + value, again.begin() + value + 8, canonical.begin() + value);
            }
        }
        if (changed) typenet_fuzz::recompute_trailing_checksum(canonical);
        require(again == canonical, "accepted a checkpoint that does not write back to the same bytes");

        // What fit does next: restore the generators, then train from the position
        // (rest of the epoch), then shuffle for the next epoch.
        tn::random_engine rng;
        rng.restore(at.rng);
        try {
            step_->restore_random_streams(at.streams);
        } catch (const std::invalid_argument&) {
            require(false, "restore_random_streams refused the streams load_checkpoint accepted");
        }
        if (at.epoch <= run_.options.epochs && at.position < train_) {
            const std::size_t n = std::min(batch_, train_ - at.position);
            (void)step_->step(data_, std::span<const std::size_t>(at.order.data() + at.position, n));
        }
        if (run_.options.shuffle) {
            std::vector<std::size_t> order = at.order;
            rng.shuffle(std::span<std::size_t>(order));
        }
    }

    /// Where the history starts in a checkpoint of this run (format in checkpoint.hpp).
    std::size_t history_offset(const tn::detail::fit_progress& at) const {
        const std::size_t generator = tn::detail::checkpoint_generator_bytes;
        return 8 + 4 + 4 + (8 + tn::type_name<Arch>().size()) + 8 + (8 + tn::type_name<Optimizer>().size()) +
               sizeof(tn::checkpoint_settings) + 4 * 8 + generator + (8 + generator * at.streams.dropout.size()) +
               (4 + (at.streams.augmentation ? generator : 0)) + (8 + 8 * at.order.size());
    }

    void restore() {
        std::copy(parameters_.begin(), parameters_.end(), model_.parameters().begin());
        std::copy(state_.begin(), state_.end(), model_.state().begin());
        auto& state = step_->optimizer_state();
        std::copy(optimizer_values_.begin(), optimizer_values_.end(), state.values().begin());
        state.steps = optimizer_steps_;
    }

    Run run_;
    tn::labeled_data<T> data_;
    Model model_;
    std::unique_ptr<Trainer> step_;
    tn::checkpoint_settings settings_;
    std::size_t train_ = 0, batch_ = 0;
    std::vector<T> parameters_, state_, optimizer_values_;
    std::uint64_t optimizer_steps_ = 0;
};

void load_all(const std::filesystem::path& file, std::span<const unsigned char> bytes) {
    static resume_target conv_bn(typenet_fuzz::conv_bn_sgd_run());
    static resume_target mlp_bn(typenet_fuzz::mlp_bn_adam_run());
    static resume_target mlp(typenet_fuzz::mlp_sgd_run());
    typenet_fuzz::write_file(file, bytes.data(), bytes.size());
    conv_bn.load(file, bytes);
    mlp_bn.load(file, bytes);
    mlp.load(file, bytes);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::filesystem::path file = typenet_fuzz::scratch_file("checkpoint");
    const std::span<const unsigned char> input(data, size);
    load_all(file, input);
    if (size >= 16) {
        std::vector<unsigned char> bytes(data, data + size);
        typenet_fuzz::recompute_trailing_checksum(bytes);
        if (!std::equal(bytes.begin(), bytes.end(), input.begin())) load_all(file, bytes);
    }
    return 0;
}
