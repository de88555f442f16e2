#pragma once
// One training step, and the state it needs: a workspace sized for the largest
// batch, the optimiser's state, and buffers for a gathered batch. Everything is
// allocated when the trainer is built; step() allocates nothing.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <span>
#include <vector>

#include "../loss/loss.hpp"
#include "../network/model.hpp"
#include "../network/passes.hpp"

namespace typenet {

/// What a training step measured on its batch.
struct step_result {
    double loss = 0;            ///< mean loss over the batch
    std::size_t correct = 0;    ///< correctly classified samples (classifiers)
    bool finite = true;         ///< false: loss or gradient was NaN/Inf and the parameters were left unchanged
};

template <class T>
bool all_finite(std::span<const T> values) {
    // A sum is NaN/Inf iff some term is (or it overflowed, which is as bad).
    T acc = 0;
    for (T v : values) acc += v * T(0);
    return acc == T(0);
}

template <class Arch, class T, class Loss, class Optimizer>
class trainer {
public:
    using target_type = typename Loss::template target<T>;
    static constexpr std::size_t outputs = Arch::output_size;
    static constexpr std::size_t inputs = Arch::input_size;
    using loss_fits = typename Loss::template fits<typename Arch::output_shape>;

    trainer(model<Arch, T>& m, Loss loss, Optimizer optimizer, std::size_t max_batch)
        : model_(m),
          loss_(loss),
          optimizer_((optimizer.validate(), optimizer)),
          state_(optimizer.template make_state<T>(Arch::parameter_count)),
          workspace_(max_batch),
          targets_(max_batch * (Loss::is_classifier ? 1 : outputs)) {
        (void)sizeof(loss_fits);
    }

    std::size_t capacity() const noexcept { return workspace_.capacity(); }

    /// Trains on rows `indices` of `data` (gathered into the workspace first).
    template <class Data>
    step_result step(const Data& data, std::span<const std::size_t> indices) {
        const std::size_t batch = indices.size();
        workspace_.check_batch(batch, "trainer::step");
        T* x = workspace_.input();
        for (std::size_t i = 0; i < batch; ++i) std::memcpy(x + i * inputs, data.sample(indices[i]), inputs * sizeof(T));
        data.gather_targets(indices.data(), batch, targets_.data());
        return step(x, targets_.data(), batch);
    }

    /// Trains on `batch` samples laid out row by row at x, with their targets.
    step_result step(const T* x, const target_type* targets, std::size_t batch) {
        workspace_.check_batch(batch, "trainer::step");
        T* params = model_.parameters().data();
        forward_pass(params, workspace_, x, batch);
        step_result r;
        r.loss = Loss::template evaluate<outputs>(workspace_.output(), targets, workspace_.output_gradient(), batch);
        if constexpr (Loss::is_classifier) {
            const T* out = workspace_.output();
            for (std::size_t b = 0; b < batch; ++b)
                r.correct += predicted_class<outputs>(out + b * outputs) == targets[b] ? 1 : 0;
        }
        if (!std::isfinite(r.loss)) {
            r.finite = false;
            return r;
        }
        backward_pass(static_cast<const T*>(params), workspace_, batch);
        const auto grads = std::as_const(workspace_).parameter_gradients();
        if (!all_finite(grads)) {
            r.finite = false;
            return r;
        }
        optimizer_.step(model_.parameters(), grads, state_);
        return r;
    }

    const Optimizer& optimizer() const noexcept { return optimizer_; }

private:
    model<Arch, T>& model_;
    Loss loss_;
    Optimizer optimizer_;
    typename Optimizer::template state<T> state_;
    workspace<Arch, T, execution::fused> workspace_;
    std::vector<target_type> targets_;
};

}  // namespace typenet
