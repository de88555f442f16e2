#pragma once
// One training step, and the state it needs: per-thread workspaces sized for the
// largest batch, the optimiser's state, and buffers for a gathered batch.
// Everything is allocated when the trainer is built; step() allocates nothing.
//
// With several threads the batch is cut into contiguous parts, one per thread;
// each computes its part's gradient, scaled to its share of the batch, in its own
// workspace. The parts are then summed in a fixed order (thread 0, 1, ...) over
// slices of the parameters, and each thread updates its slice. For a given thread
// count the result is therefore bit-identical from run to run.
//
// Passes run in training mode: each thread draws its dropout masks from its own
// seeded engine, and batch_norm normalises each thread's part of the batch with
// that part's statistics (so with t threads, statistics over batch / t samples,
// "ghost" batch norm); only thread 0's part moves the running statistics, so
// that no two threads write them. The dropout and augmentation engines can be
// saved and restored (save_random_streams), so that a checkpointed run resumes
// with the very masks, flips and shifts it would have drawn (train/checkpoint.hpp).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "../core/thread_pool.hpp"
#include "../data/dataset.hpp"
#include "../kernels/simd.hpp"
#include "../loss/loss.hpp"
#include "../network/model.hpp"
#include "../network/passes.hpp"
#include "augment.hpp"
#include "gradient_sum.hpp"
#include "random_streams.hpp"

namespace typenet {

/// What a training step measured on its batch.
struct step_result {
    double loss = 0;          ///< mean loss over the batch
    std::size_t correct = 0;  ///< correctly classified samples (classifiers)
    bool finite = true;       ///< false: loss or gradient was NaN/Inf and the parameters were left unchanged
};

template <class T>
bool all_finite(std::span<const T> values) {
    return kernels::all_finite(values.data(), values.size());
}

template <class Arch, class T, class Loss, class Optimizer>
class trainer {
public:
    using target_type = typename Loss::template target<T>;
    static constexpr std::size_t outputs = Arch::output_size;
    static constexpr std::size_t inputs = Arch::input_size;
    static constexpr std::size_t parameters = Arch::parameter_count;
    static constexpr std::size_t target_width = Loss::is_classifier ? 1 : outputs;
    using loss_fits = typename Loss::template fits<typename Arch::output_shape>;

    trainer(model<Arch, T>& m, Loss loss, Optimizer optimizer, std::size_t max_batch, std::size_t threads = 1,
            std::uint64_t seed = 0)
        : model_(m),
          loss_(loss),
          optimizer_((optimizer.validate(), optimizer)),
          state_(optimizer.template make_state<T>(parameters)),
          capacity_(max_batch),
          team_(std::clamp<std::size_t>(threads, 1, std::max<std::size_t>(1, max_batch))),
          inputs_(max_batch * inputs),
          targets_(max_batch * target_width),
          gradients_(team_.size() > 1 ? parameters : 0),
          parts_(team_.size()) {
        (void)sizeof(loss_fits);
        if (max_batch == 0) throw std::invalid_argument("trainer: max_batch must be at least 1");
        const std::size_t per_thread = (max_batch + team_.size() - 1) / team_.size();
        for (std::size_t t = 0; t < team_.size(); ++t) {
            workspaces_.emplace_back(std::make_unique<ws_type>(per_thread));
            rngs_.emplace_back(seed * 0x9E3779B97F4A7C15ull + t + 1);
            part_gradients_.push_back(std::as_const(*workspaces_.back()).parameter_gradients().data());
        }
    }

    /// Augments every batch gathered by step(data, indices) from now on (image inputs only).
    void set_augmentation(augmentation a, std::uint64_t seed) {
        using in = typename Arch::input_shape;
        if constexpr (in::rank == 3) {
            if (a.enabled())
                augmenter_ = std::make_unique<augmenter<T>>(a, in::dims[0], in::dims[1], in::dims[2], seed);
            else
                augmenter_.reset();
        } else {
            if (a.enabled()) throw std::invalid_argument("trainer: augmentation needs an image input (input<C, H, W>)");
        }
    }

    std::size_t capacity() const noexcept { return capacity_; }
    std::size_t threads() const noexcept { return team_.size(); }
    bool augments() const noexcept { return augmenter_ != nullptr; }

    /// Where the dropout and augmentation streams stand (for checkpoints): a trainer
    /// restored from it draws the masks, flips and shifts this one would draw next.
    random_streams save_random_streams() const {
        random_streams s;
        s.dropout.reserve(rngs_.size());
        for (const random_engine& r : rngs_) s.dropout.push_back(r.save());
        if (augmenter_) s.augmentation = augmenter_->save_random();
        return s;
    }
    /// Restores streams saved by a trainer with the same thread count and
    /// augmentation; otherwise throws std::invalid_argument and changes nothing.
    void restore_random_streams(const random_streams& s) {
        if (s.dropout.size() != rngs_.size())
            throw std::invalid_argument("trainer: " + std::to_string(s.dropout.size()) +
                                        " dropout streams for a trainer with " + std::to_string(rngs_.size()) +
                                        " threads");
        if (s.augmentation.has_value() != augments())
            throw std::invalid_argument(augments()
                                            ? "trainer: no augmentation stream for an augmenting trainer"
                                            : "trainer: an augmentation stream for a trainer that does not augment");
        for (std::size_t t = 0; t < rngs_.size(); ++t) rngs_[t].restore(s.dropout[t]);
        if (augmenter_) augmenter_->restore_random(*s.augmentation);
    }

    /// Trains on rows `indices` of `data` (gathered into contiguous buffers first).
    template <class Data>
    step_result step(const Data& data, std::span<const std::size_t> indices) {
        const std::size_t batch = indices.size();
        check_batch(batch);
        static_assert(gathers_inputs_as<Data, T>,
                      "typenet: trainer::step: the data set cannot gather its inputs as the trainer's value type T "
                      "(a labeled_data<double> for a float trainer, say)");
        T* x = inputs_.data();
        target_type* y = targets_.data();
        if (augmenter_) {
            // One augmentation stream over the whole batch, in order (checkpoints restore it).
            data.gather_inputs(indices.data(), batch, x);
            data.gather_targets(indices.data(), batch, y);
            augmenter_->apply(x, batch);
            return run_step(x, y, batch, [](std::size_t, std::size_t) {});
        }
        // Each thread gathers its own part: in parallel, and into its own core's caches.
        return run_step(x, y, batch, [&](std::size_t first, std::size_t n) {
            data.gather_inputs(indices.data() + first, n, x + first * inputs);
            data.gather_targets(indices.data() + first, n, y + first * target_width);
        });
    }

    /// Trains on `batch` samples laid out row by row at x, with their targets.
    step_result step(const T* x, const target_type* targets, std::size_t batch) {
        check_batch(batch);
        return run_step(x, targets, batch, [](std::size_t, std::size_t) {});
    }

    const Optimizer& optimizer() const noexcept { return optimizer_; }
    /// The optimiser's state (momentum etc.), for checkpoints.
    typename Optimizer::template state<T>& optimizer_state() noexcept { return state_; }
    const typename Optimizer::template state<T>& optimizer_state() const noexcept { return state_; }
    /// For schedules: changes the rate of later steps (validated like the optimiser's).
    void set_learning_rate(double rate) {
        Optimizer changed = optimizer_;
        changed.learning_rate = rate;
        changed.validate();
        optimizer_ = changed;
    }

private:
    using ws_type = workspace<Arch, T, execution::fused>;

    /// One step; prepare(first, n) makes rows [first, first + n) of x and targets ready
    /// (each thread calls it for its part before its forward pass).
    template <class Prepare>
    step_result run_step(const T* x, const target_type* targets, std::size_t batch, Prepare&& prepare) {
        T* params = model_.parameters().data();
        const std::size_t team = std::min(team_.size(), batch);
        // The batch's gradient: thread 0's when it ran alone, else the sum of the parts.
        const std::span<const T> grads =
            team == 1 ? std::as_const(*workspaces_[0]).parameter_gradients() : std::as_const(gradients_).span();

        // The whole step is one job of the team, its phases separated by meetings
        // (thread_team::sync, which spins: a step of the MLP is ~130 us, too short to
        // put threads to sleep and wake them three times).
        auto whole_step = [&](std::size_t t) {
            // 1. Each thread: forward, loss and backward on its part of the batch.
            gradients_of_part(params, x, targets, batch, team, t, prepare);
            team_.sync();
            // Every member reads the same parts, so all take the same branch below.
            if (!parts_finite(team)) return;

            // 2. Sum the parts' gradients in a fixed order (thread 0, 1, ...), slice by
            //    slice in parallel, checking that the sums are finite in the same pass.
            const auto [begin, end] = split_range(parameters, team_.size(), t, 16);
            parts_[t].finite_gradients =
                team == 1 ? all_finite(grads.subspan(begin, end - begin))
                          : add_checking_finite(part_gradients_.data(), team, begin, end, gradients_.data());
            team_.sync();
            for (std::size_t m = 0; m < team_.size(); ++m)
                if (!parts_[m].finite_gradients) return;

            // 3. The optimiser's update, slice by slice, after counting the step once
            //    (optimisers without advance() keep no step count of their own).
            if (t == 0) {
                if constexpr (requires { optimizer_.advance(state_); })
                    optimizer_.advance(state_);
                else
                    ++state_.steps;
            }
            team_.sync();
            optimizer_.step(model_.parameters().subspan(begin, end - begin), grads.subspan(begin, end - begin), state_,
                            begin);
        };
        team_.run(whole_step);

        step_result r;
        for (std::size_t t = 0; t < team; ++t) {
            if (parts_[t].error) std::rethrow_exception(parts_[t].error);
            r.loss += parts_[t].loss * static_cast<double>(parts_[t].samples);
            r.correct += parts_[t].correct;
        }
        r.loss /= static_cast<double>(batch);
        r.finite = std::isfinite(r.loss);
        for (const part& p : parts_) r.finite = r.finite && p.finite_gradients;
        return r;
    }

    struct part {
        double loss = 0;
        std::size_t correct = 0, samples = 0;
        bool finite_gradients = true;  ///< this member's slice of the summed gradients
        std::exception_ptr error;      ///< what its forward or backward threw, rethrown after the step
    };

    /// Member t's part of step(): forward, loss and backward on its share of the batch,
    /// its gradient scaled to that share. Catches what it throws (see thread_team::sync).
    template <class Prepare>
    void gradients_of_part(const T* params, const T* x, const target_type* targets, std::size_t batch, std::size_t team,
                           std::size_t t, Prepare& prepare) noexcept {
        part& p = parts_[t];
        p = part{};
        if (t >= team) return;
        try {
            const auto [first, last] = split_range(batch, team, t);
            const std::size_t n = last - first;
            prepare(first, n);
            ws_type& ws = *workspaces_[t];
            T* state = model_.state().data();
            const pass_mode<T> mode{true, state, t == 0 ? state : nullptr, &rngs_[t]};
            forward_pass(params, ws, x + first * inputs, n, false, mode);
            const target_type* y = targets + first * target_width;
            p.loss = Loss::template evaluate<outputs>(ws.output(), y, ws.output_gradient(), n);
            if constexpr (Loss::is_classifier)
                for (std::size_t b = 0; b < n; ++b)
                    p.correct += predicted_class<outputs>(ws.output() + b * outputs) == y[b] ? 1 : 0;
            p.samples = n;
            if (!std::isfinite(p.loss)) return;
            if (team > 1) {
                // The loss averaged over this part; the step needs the average over the batch.
                const T share = static_cast<T>(n) / static_cast<T>(batch);
                T* g = ws.output_gradient();
                for (std::size_t i = 0; i < n * outputs; ++i) g[i] *= share;
            }
            backward_pass(params, ws, n);
        } catch (...) {
            p.error = std::current_exception();
        }
    }

    /// Whether every part finished with a finite loss (and without an error).
    bool parts_finite(std::size_t team) const noexcept {
        for (std::size_t t = 0; t < team; ++t)
            if (parts_[t].error || !std::isfinite(parts_[t].loss)) return false;
        return true;
    }

    void check_batch(std::size_t batch) const { check_batch_size(batch, capacity_, "trainer::step"); }

    model<Arch, T>& model_;
    Loss loss_;
    Optimizer optimizer_;
    typename Optimizer::template state<T> state_;
    std::size_t capacity_;
    thread_team team_;
    std::vector<std::unique_ptr<ws_type>> workspaces_;
    aligned_buffer<T> inputs_;
    std::vector<target_type> targets_;
    aligned_buffer<T> gradients_;
    std::vector<part> parts_;
    std::vector<const T*> part_gradients_;  ///< each thread's gradient, in the order they are summed
    std::vector<random_engine> rngs_;
    std::unique_ptr<augmenter<T>> augmenter_;
};

}  // namespace typenet
