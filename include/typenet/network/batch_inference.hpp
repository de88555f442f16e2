#pragma once
// batch_predictor<Arch, T>: inference on many samples at once, the batch split
// across a team of threads.
//
// model::predict runs one sample on the calling thread, which is what an
// embedded application wants for latency. Scoring a data set or serving batches
// wants throughput instead: batched GEMMs reuse every weight across the batch,
// and a second core doubles the arithmetic available. Each thread owns a
// workspace for its share of max_batch, made once at construction, so predict
// and classify allocate nothing. Every thread computes whole samples with the
// same kernels as a single-threaded pass, so the outputs do not depend on the
// number of threads.
//
// The predictor reads the model's parameters and state when it predicts: keep
// the model alive, and do not train it while a prediction runs. One predictor
// serves one caller at a time (its workspaces are shared by its calls).
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "../core/classes.hpp"
#include "../core/thread_pool.hpp"
#include "model.hpp"
#include "passes.hpp"
#include "workspace.hpp"

namespace typenet {

template <class Arch, class T = float>
class batch_predictor {
public:
    static constexpr std::size_t input_size = Arch::input_size;
    static constexpr std::size_t output_size = Arch::output_size;

    /// Predicts up to max_batch samples per round on `threads` threads (the
    /// calling thread is one of them); larger requests run in several rounds.
    batch_predictor(const model<Arch, T>& m, std::size_t max_batch, std::size_t threads = 1)
        : model_(&m),
          capacity_(max_batch),
          team_(std::clamp<std::size_t>(threads, 1, std::max<std::size_t>(1, max_batch))) {
        if (max_batch == 0) throw std::invalid_argument("batch_predictor: max_batch must be at least 1");
        const std::size_t per_thread = (max_batch + team_.size() - 1) / team_.size();
        for (std::size_t t = 0; t < team_.size(); ++t) workspaces_.emplace_back(std::make_unique<ws_type>(per_thread));
    }

    std::size_t threads() const noexcept { return team_.size(); }
    std::size_t max_batch() const noexcept { return capacity_; }

    /// outputs (n x output_size, row by row) for the n = inputs.size() / input_size
    /// samples in inputs (n x input_size, row by row).
    void predict(std::span<const T> inputs, std::span<T> outputs) {
        const std::size_t n = sample_count(inputs, "predict");
        if (outputs.size() != n * output_size)
            throw std::invalid_argument("batch_predictor::predict: " + std::to_string(n) + " samples need " +
                                        std::to_string(n * output_size) + " output values, got " +
                                        std::to_string(outputs.size()));
        run(inputs.data(), n, [&](const T* y, std::size_t first, std::size_t count) {
            std::memcpy(outputs.data() + first * output_size, y, count * output_size * sizeof(T));
        });
    }

    /// classes[i] = the predicted class of sample i (see predicted_class).
    void classify(std::span<const T> inputs, std::span<std::size_t> classes) {
        const std::size_t n = sample_count(inputs, "classify");
        if (classes.size() != n)
            throw std::invalid_argument("batch_predictor::classify: " + std::to_string(n) + " samples need " +
                                        std::to_string(n) + " classes, got " + std::to_string(classes.size()));
        run(inputs.data(), n, [&](const T* y, std::size_t first, std::size_t count) {
            for (std::size_t i = 0; i < count; ++i)
                classes[first + i] = predicted_class<output_size>(y + i * output_size);
        });
    }

private:
    using ws_type = workspace<Arch, T, execution::fused>;

    static std::size_t sample_count(std::span<const T> inputs, const char* who) {
        if (inputs.size() % input_size != 0)
            throw std::invalid_argument(std::string("batch_predictor::") + who + ": " + std::to_string(inputs.size()) +
                                        " input values are not a whole number of samples of " +
                                        std::to_string(input_size));
        return inputs.size() / input_size;
    }

    // Rounds of up to capacity_ samples; in each, thread t runs the forward pass
    // on its contiguous share and hands its outputs to deliver(outputs, first sample, count).
    template <class Deliver>
    void run(const T* x, std::size_t n, Deliver&& deliver) {
        const T* params = model_->parameters().data();
        const pass_mode<T> mode = model_->inference_mode();
        for (std::size_t round = 0; round < n; round += capacity_) {
            const std::size_t size = std::min(capacity_, n - round);
            auto part = [&](std::size_t t) {
                const auto [begin, end] = split_range(size, team_.size(), t);
                if (begin == end) return;
                ws_type& ws = *workspaces_[t];
                forward_pass(params, ws, x + (round + begin) * input_size, end - begin, false, mode);
                deliver(static_cast<const T*>(ws.output()), round + begin, end - begin);
            };
            team_.run(part);
        }
    }

    const model<Arch, T>* model_;
    std::size_t capacity_;
    thread_team team_;
    std::vector<std::unique_ptr<ws_type>> workspaces_;
};

}  // namespace typenet
