#pragma once
// fit(): minibatch training. Each epoch reshuffles the training indices with a
// seeded Fisher-Yates shuffle and walks them in batches, so every sample is used
// exactly once per epoch (drawn without replacement); the last batch is smaller
// when the batch size does not divide the data. batch_size = full_batch gives
// plain (full-batch) gradient descent.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/random.hpp"
#include "../optim/schedule.hpp"
#include "checkpoint.hpp"
#include "history.hpp"
#include "metrics.hpp"
#include "progress.hpp"
#include "trainer.hpp"

namespace typenet {

inline constexpr std::size_t full_batch = std::numeric_limits<std::size_t>::max();

struct fit_options {
    std::size_t epochs = 10;
    std::size_t batch_size = 32;  ///< full_batch for gradient descent on the whole set
    std::uint64_t seed = 0;       ///< drives the shuffles and the validation split
    bool shuffle = true;
    double validation_split = 0;           ///< fraction of the data held out for validation, in [0, 1)
    bool progress = true;                  ///< progress on stderr (see progress.hpp)
    std::size_t threads = 1;               ///< threads sharing each minibatch (results are reproducible per count)
    learning_rate_schedule schedule = {};  ///< per-epoch (or, one_cycle, per-batch) factor on the learning rate

    // Crash-safe training (train/checkpoint.hpp). With a checkpoint_path, fit writes
    // a checkpoint atomically at the end of every epoch and, when
    // checkpoint_every_batches > 0, also after every that many batches. With resume,
    // a run finds the checkpoint there (if any) and continues from it, ending with
    // the parameters and batch_norm statistics an uninterrupted run would have, bit
    // for bit, dropout and augmentation included; without one it starts afresh. The
    // run's settings (data size, batch size, threads, epochs, seed, shuffle,
    // validation split, augmentation) must be those of the checkpointed run.
    std::filesystem::path checkpoint_path = {};
    std::size_t checkpoint_every_batches = 0;  ///< 0: at the end of each epoch only
    bool resume = false;
    augmentation augment = {};  ///< random flips / shifts / cutout of training images (image inputs), seeded by `seed`
    /// Called after each epoch with its record (e.g. to evaluate on a test set); its time is not in rec.seconds.
    std::function<void(const epoch_record&)> on_epoch = {};
};

/// Thrown when a loss or gradient becomes NaN or infinite; the model keeps the
/// parameters of the last good step.
struct training_diverged : std::runtime_error {
    std::size_t epoch, batch;
    training_diverged(std::size_t e, std::size_t b, double loss)
        : std::runtime_error("fit: training diverged at epoch " + std::to_string(e) + ", batch " + std::to_string(b) +
                             " (loss " + std::to_string(loss) +
                             "); the model keeps the parameters of the last finite step. Lower the learning rate."),
          epoch(e),
          batch(b) {}
};

namespace detail {
inline void validate_fit_options(const fit_options& o) {
    if (o.epochs == 0) throw std::invalid_argument("fit: epochs must be at least 1");
    if (o.batch_size == 0)
        throw std::invalid_argument("fit: batch_size must be at least 1 (full_batch for all samples)");
    if (o.threads == 0) throw std::invalid_argument("fit: threads must be at least 1");
    if (!(o.validation_split >= 0 && o.validation_split < 1))
        throw std::invalid_argument("fit: validation_split must be in [0, 1), got " +
                                    std::to_string(o.validation_split));
    if (o.checkpoint_path.empty() && (o.resume || o.checkpoint_every_batches > 0))
        throw std::invalid_argument("fit: resume and checkpoint_every_batches need a checkpoint_path");
    if (!o.checkpoint_path.empty()) {
        // Checked now rather than at the first checkpoint, when the model would already have changed.
        const std::filesystem::path dir =
            o.checkpoint_path.has_parent_path() ? o.checkpoint_path.parent_path() : std::filesystem::path(".");
        std::error_code ec;
        if (!std::filesystem::is_directory(dir, ec))
            throw std::invalid_argument("fit: the directory of checkpoint_path, " + dir.string() + ", does not exist");
    }
}

/// The settings a checkpoint of this run records and a resume must match (checkpoint.hpp),
/// for a data set of `samples` with `validation` of them held out.
inline checkpoint_settings checkpoint_settings_of(const fit_options& o, std::size_t samples, std::size_t validation) {
    return {samples,
            validation,
            o.batch_size,
            o.threads,
            o.epochs,
            o.seed,
            o.shuffle ? 1u : 0u,
            o.augment.horizontal_flip ? 1u : 0u,
            o.augment.max_shift,
            o.augment.cutout};
}
}  // namespace detail

namespace detail {

template <class Arch, class T, class Data, class Loss, class Optimizer>
history fit_checked(model<Arch, T>& m, const Data& data, Loss loss, Optimizer optimizer, fit_options options) {
    constexpr std::size_t outputs = Arch::output_size;

    // Validate everything before touching the model: a bad call changes nothing.
    detail::validate_fit_options(options);
    optimizer.validate();
    options.schedule.validate();
    data.validate(Arch::input_size, Loss::is_classifier ? class_count<outputs> : outputs, "fit");

    random_engine rng(options.seed);
    std::vector<std::size_t> order = detail::all_indices(data.size());
    std::size_t validation_count = static_cast<std::size_t>(std::llround(options.validation_split * data.size()));
    if (validation_count > 0) rng.shuffle(std::span<std::size_t>(order));
    if (validation_count >= data.size())
        throw std::invalid_argument("fit: validation_split leaves no training samples");
    std::vector<std::size_t> train(order.begin(), order.end() - static_cast<std::ptrdiff_t>(validation_count));
    const std::vector<std::size_t> validation(order.end() - static_cast<std::ptrdiff_t>(validation_count), order.end());

    const std::size_t batch = std::min(options.batch_size, train.size());
    trainer<Arch, T, Loss, Optimizer> step(m, loss, optimizer, batch, options.threads, options.seed);
    step.set_augmentation(options.augment, options.seed + 1);

    // A checkpoint holds whatever a step reads and changes besides the data: the
    // parameters, batch_norm's running statistics (model state), the optimiser's
    // state, and every random stream -- shuffling (rng), dropout (one per thread)
    // and augmentation (the trainer's). Leaving any out would resume a different run.
    const std::size_t batches = (train.size() + batch - 1) / batch;
    detail::fit_progress at;  // where the run stands; what a checkpoint records
    at.settings = detail::checkpoint_settings_of(options, data.size(), validation_count);
    if (options.resume && std::filesystem::exists(options.checkpoint_path)) {
        // Throws before changing anything unless the file fits this model, run and trainer.
        at = detail::load_checkpoint<Arch, T, Optimizer>(options.checkpoint_path, m.parameters(), m.state(),
                                                         step.optimizer_state(), at.settings, step.threads(),
                                                         step.augments());
        rng.restore(at.rng);
        step.restore_random_streams(at.streams);  // checked by load_checkpoint: cannot throw
        train = at.order;
    }
    auto checkpoint = [&] {
        at.rng = rng.save();
        at.streams = step.save_random_streams();
        at.order = train;
        detail::save_checkpoint<Arch, T, Optimizer>(options.checkpoint_path, std::span<const T>(m.parameters()),
                                                    std::span<const T>(m.state()), step.optimizer_state(), at);
    };

    progress_reporter progress(options.progress, options.epochs, batches, train.size());
    history& h = at.past;
    for (; at.epoch <= options.epochs; ++at.epoch) {
        const std::size_t epoch = at.epoch;
        const auto start = std::chrono::steady_clock::now();
        progress.epoch_started(epoch);
        step.set_learning_rate(optimizer.learning_rate * options.schedule.factor(epoch - 1, options.epochs));
        // A resumed epoch was shuffled before the checkpoint: its order is restored as it was.
        if (at.position == 0) {
            if (options.shuffle) rng.shuffle(std::span<std::size_t>(train));
            at.loss_sum = 0;
            at.correct = 0;
        }
        for (std::size_t first = at.position, b = first / batch + 1; first < train.size(); first += batch, ++b) {
            const std::size_t n = std::min(batch, train.size() - first);
            if (options.schedule.per_batch()) {
                const double done = static_cast<double>((epoch - 1) * batches + (b - 1)) /
                                    static_cast<double>(options.epochs * batches);
                step.set_learning_rate(optimizer.learning_rate *
                                       options.schedule.factor_at(done, epoch - 1, options.epochs));
            }
            const step_result r = step.step(data, std::span<const std::size_t>(train.data() + first, n));
            if (!r.finite) throw training_diverged(epoch, b, r.loss);
            at.loss_sum += r.loss * static_cast<double>(n);
            at.correct += r.correct;
            progress.batch_done(b, first + n, at.loss_sum / static_cast<double>(first + n));
            at.position = first + n;
            if (options.checkpoint_every_batches > 0 && b % options.checkpoint_every_batches == 0 &&
                at.position < train.size())
                checkpoint();
        }
        epoch_record rec;
        rec.epoch = epoch;
        rec.learning_rate = step.optimizer().learning_rate;
        rec.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        rec.samples_per_second = rec.seconds > 0 ? static_cast<double>(train.size()) / rec.seconds : 0;
        rec.loss = at.loss_sum / static_cast<double>(train.size());
        if constexpr (Loss::is_classifier)
            rec.accuracy = static_cast<double>(at.correct) / static_cast<double>(train.size());
        if (!validation.empty()) {
            const evaluation v = evaluate(m, data, loss, std::span<const std::size_t>(validation),
                                          evaluation_batch_size, options.threads);
            rec.validation_loss = v.loss;
            if constexpr (Loss::is_classifier) rec.validation_accuracy = v.accuracy;
        }
        h.epochs.push_back(rec);
        progress.epoch_finished(rec);
        if (options.on_epoch) options.on_epoch(rec);
        at.position = 0;
        if (!options.checkpoint_path.empty()) {
            ++at.epoch;  // the checkpoint says: the next epoch is to start
            checkpoint();
            --at.epoch;
        }
    }
    return std::move(at.past);
}

}  // namespace detail

template <class Arch, class T, class Data, class Loss, class Optimizer>
history fit(model<Arch, T>& m, const Data& data, Loss loss, Optimizer optimizer, fit_options options = {}) {
    constexpr bool targets_agree = std::is_same_v<typename Data::target_type, typename Loss::template target<T>>;
    constexpr bool inputs_agree = gathers_inputs_as<Data, T>;
    static_assert(targets_agree,
                  "typenet: fit: the loss and the data set disagree on targets (classification losses "
                  "need labeled_data or labeled_images, mse needs regression_data)");
    static_assert(inputs_agree,
                  "typenet: fit: the data set cannot give its inputs as the model's value type T "
                  "(a labeled_data<double> for a float model, say)");
    (void)sizeof(typename Loss::template fits<typename Arch::output_shape>);
    // Only a call that passed the checks is compiled further, so that a mistake
    // gets the message above and not a page of errors from inside the loop.
    if constexpr (targets_agree && inputs_agree)
        return detail::fit_checked(m, data, std::move(loss), std::move(optimizer), std::move(options));
    else
        return {};
}

}  // namespace typenet
