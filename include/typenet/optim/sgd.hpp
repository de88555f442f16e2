#pragma once
// Stochastic gradient descent, optionally with heavy-ball momentum and L2 weight
// decay (coupled: added to the gradient, as the derivative of wd/2 * ||p||^2):
//   g' = g + weight_decay * p;   v <- momentum * v + g';   p <- p - learning_rate * v
// (momentum = 0: p <- p - lr g'). One fused SIMD pass over the flat parameter array per step.
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

    /// Throws std::invalid_argument naming the bad setting.
    void validate() const {
        if (!(learning_rate > 0) || !std::isfinite(learning_rate))
            throw std::invalid_argument("sgd: learning_rate must be a finite number > 0, got " +
                                        std::to_string(learning_rate));
        if (!(momentum >= 0 && momentum < 1))
            throw std::invalid_argument("sgd: momentum must be in [0, 1), got " + std::to_string(momentum));
        if (!(weight_decay >= 0) || !std::isfinite(weight_decay))
            throw std::invalid_argument("sgd: weight_decay must be a finite number >= 0, got " + std::to_string(weight_decay));
    }

    /// The optimiser's state. The contract every optimiser's state keeps, so that
    /// checkpoints (train/checkpoint.hpp) can save and restore it without knowing
    /// the optimiser: values() is all of its floating-point state, contiguous (may
    /// be empty), and `steps` counts the updates (the trainer increments it before
    /// each update, so an update sees 1, 2, ...).
    template <class T>
    struct state {
        aligned_buffer<T> velocity;
        std::uint64_t steps = 0;
        std::span<T> values() noexcept { return velocity.span(); }
        std::span<const T> values() const noexcept { return velocity.span(); }
    };

    template <class T>
    state<T> make_state(std::size_t parameter_count) const {
        return {momentum > 0 ? aligned_buffer<T>(parameter_count) : aligned_buffer<T>(), 0};
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
