#pragma once
// Stochastic gradient descent, optionally with heavy-ball momentum and L2 weight
// decay (coupled: added to the gradient, as the derivative of wd/2 * ||p||^2):
//   g' = g + weight_decay * p;   v <- momentum * v + g';   p <- p - learning_rate * v
// (momentum = 0: p <- p - lr g'). With nesterov = true the step looks ahead along
// the new velocity (the form PyTorch and Sutskever et al. use):
//   p <- p - learning_rate * (g' + momentum * v)
// One fused SIMD pass over the parameter slice per step.
//
// The optimiser protocol (sgd, adam): validate(); make_state<T>(n); advance(state)
// once per step before the slices are updated (it counts steps, which Adam's bias
// correction needs); step(params, grads, state, offset) over a slice starting at
// `offset`, so that threads update disjoint slices concurrently. Every state<T>
// exposes values(), all its floating-point state in one contiguous buffer laid out
// per parameter index (so a slice at `offset` is found in it), and `steps`.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>

#include "../core/storage.hpp"
#include "../kernels/simd.hpp"

namespace typenet {

struct sgd {
    double learning_rate = 0.01;
    double momentum = 0.0;
    double weight_decay = 0.0;
    bool nesterov = false;  ///< Nesterov momentum (needs momentum > 0)

    /// Throws std::invalid_argument naming the bad setting.
    void validate() const {
        if (!(learning_rate > 0) || !std::isfinite(learning_rate))
            throw std::invalid_argument("sgd: learning_rate must be a finite number > 0, got " +
                                        std::to_string(learning_rate));
        if (!(momentum >= 0 && momentum < 1))
            throw std::invalid_argument("sgd: momentum must be in [0, 1), got " + std::to_string(momentum));
        if (!(weight_decay >= 0) || !std::isfinite(weight_decay))
            throw std::invalid_argument("sgd: weight_decay must be a finite number >= 0, got " +
                                        std::to_string(weight_decay));
        if (nesterov && momentum == 0) throw std::invalid_argument("sgd: nesterov needs momentum > 0");
    }

    /// The optimiser's state. The contract every optimiser's state keeps, so that
    /// checkpoints (train/checkpoint.hpp) can save and restore it without knowing
    /// the optimiser: values() is all of its floating-point state, contiguous (may
    /// be empty), and `steps` counts the updates (advance() increments it once per
    /// step, before the slices are updated, so an update sees 1, 2, ...).
    template <class T>
    struct state {
        aligned_buffer<T> velocity;  ///< one value per parameter; empty without momentum
        std::uint64_t steps = 0;     ///< steps taken (sgd's update does not depend on it)
        /// All floating-point state: the velocity (empty without momentum).
        std::span<T> values() noexcept { return velocity.span(); }
        std::span<const T> values() const noexcept { return velocity.span(); }
    };

    template <class T>
    state<T> make_state(std::size_t parameter_count) const {
        return {momentum > 0 ? aligned_buffer<T>(parameter_count) : aligned_buffer<T>(), 0};
    }

    /// Called once per step, before step() runs on the slices.
    template <class T>
    void advance(state<T>& s) const noexcept {
        ++s.steps;
    }

    /// Updates params with grads; they may be a slice of the model's parameters
    /// starting at `offset`, so that threads can update disjoint slices.
    template <class T>
    void step(std::span<T> params, std::span<const T> grads, state<T>& s, std::size_t offset = 0) const {
        using V = kernels::simd<T>;
        constexpr std::size_t W = V::size;
        const T lr = static_cast<T>(learning_rate);
        const std::size_t n = params.size();
        T* p = params.data();
        const T* g = grads.data();
        const T wd = static_cast<T>(weight_decay);
        if (momentum == 0) {
            kernels::transform(p, g, p, n, [lr, wd](auto pv, auto gv) {
                using L = decltype(pv);
                return pv - (gv + pv * L(wd)) * L(lr);
            });
            return;
        }
        const T mu = static_cast<T>(momentum);
        T* v = s.velocity.data() + offset;
        std::size_t i = 0;
        if (nesterov) {
            for (; i + W <= n; i += W) {
                const V pv = V::load_unaligned(p + i);
                const V grad = kernels::mul_add(V(wd), pv, V::load_unaligned(g + i));
                const V vel = kernels::mul_add(V(mu), V::load_unaligned(v + i), grad);
                vel.store_unaligned(v + i);
                (pv - V(lr) * kernels::mul_add(V(mu), vel, grad)).store_unaligned(p + i);
            }
            for (; i < n; ++i) {
                const T grad = g[i] + wd * p[i];
                v[i] = mu * v[i] + grad;
                p[i] -= lr * (grad + mu * v[i]);
            }
            return;
        }
        for (; i + W <= n; i += W) {
            const V pv = V::load_unaligned(p + i);
            const V grad = kernels::mul_add(V(wd), pv, V::load_unaligned(g + i));
            const V vel = kernels::mul_add(V(mu), V::load_unaligned(v + i), grad);
            vel.store_unaligned(v + i);
            (pv - V(lr) * vel).store_unaligned(p + i);
        }
        for (; i < n; ++i) {
            v[i] = mu * v[i] + (g[i] + wd * p[i]);
            p[i] -= lr * v[i];
        }
    }
};

}  // namespace typenet
