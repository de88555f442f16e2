#pragma once
// Adam (Kingma & Ba) with bias correction, and its AdamW variant.
//
//   g' = g + weight_decay * p                       (coupled L2; adam only)
//   m <- beta1 m + (1 - beta1) g'                   v <- beta2 v + (1 - beta2) g'^2
//   p <- p - lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + epsilon)
//
// decoupled_weight_decay = true (AdamW, Loshchilov & Hutter): the decay is not
// part of the gradient, so Adam's per-parameter scaling does not shrink it; each
// step first applies p <- p (1 - lr * weight_decay), then the Adam step on g.
// adamw(lr, wd) returns adam with that flag set. t is state.steps, advanced once
// per step by advance() before the slices are updated (see sgd.hpp for the protocol).
// One fused pass over each slice: m, v and p are read and written once.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>

#include <xsimd/xsimd.hpp>

#include "../core/storage.hpp"
#include "../kernels/simd.hpp"

namespace typenet {

struct adam {
    double learning_rate = 0.001;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double epsilon = 1e-8;
    double weight_decay = 0.0;
    bool decoupled_weight_decay = false;  ///< true: AdamW

    void validate() const {
        const char* who = decoupled_weight_decay ? "adamw" : "adam";
        auto fail = [&](const std::string& what, double v) {
            throw std::invalid_argument(std::string(who) + ": " + what + ", got " + std::to_string(v));
        };
        if (!(learning_rate > 0) || !std::isfinite(learning_rate))
            fail("learning_rate must be a finite number > 0", learning_rate);
        if (!(beta1 >= 0 && beta1 < 1)) fail("beta1 must be in [0, 1)", beta1);
        if (!(beta2 >= 0 && beta2 < 1)) fail("beta2 must be in [0, 1)", beta2);
        if (!(epsilon > 0) || !std::isfinite(epsilon)) fail("epsilon must be a finite number > 0", epsilon);
        if (!(weight_decay >= 0) || !std::isfinite(weight_decay))
            fail("weight_decay must be a finite number >= 0", weight_decay);
    }

    /// values() = [m_0 .. m_{n-1}, v_0 .. v_{n-1}]: first and second moments.
    template <class T>
    struct state {
        aligned_buffer<T> moments;
        std::size_t count = 0;    ///< n, the number of parameters
        std::uint64_t steps = 0;  ///< t in the bias correction
        std::span<T> values() noexcept { return moments.span(); }
        std::span<const T> values() const noexcept { return moments.span(); }
    };

    template <class T>
    state<T> make_state(std::size_t parameter_count) const {
        return {aligned_buffer<T>(2 * parameter_count), parameter_count, 0};
    }

    template <class T>
    void advance(state<T>& s) const noexcept {
        ++s.steps;
    }

    template <class T>
    void step(std::span<T> params, std::span<const T> grads, state<T>& s, std::size_t offset = 0) const {
        // A step before advance() is taken as the first (t = 0 would divide by zero).
        const double t = static_cast<double>(s.steps > 0 ? s.steps : 1);
        const T b1 = static_cast<T>(beta1), b2 = static_cast<T>(beta2);
        const T c1 = static_cast<T>(1 - beta1), c2 = static_cast<T>(1 - beta2);
        // lr / (1 - beta1^t) folded into one factor; sqrt(1 - beta2^t) scales epsilon
        // equivalently: m_hat / (sqrt(v_hat) + eps) = (m / bc1) / (sqrt(v)/sqrt(bc2) + eps).
        const double bc1 = 1 - std::pow(beta1, t), bc2 = 1 - std::pow(beta2, t);
        const T rate = static_cast<T>(learning_rate / bc1 * std::sqrt(bc2));
        const T eps = static_cast<T>(epsilon * std::sqrt(bc2));
        const T coupled = decoupled_weight_decay ? T(0) : static_cast<T>(weight_decay);
        const T shrink = decoupled_weight_decay ? static_cast<T>(1 - learning_rate * weight_decay) : T(1);

        T* p = params.data();
        const T* g = grads.data();
        T* m = s.moments.data() + offset;
        T* v = s.moments.data() + s.count + offset;
        auto body = [&](auto pv, auto gv, auto mv, auto vv, auto store) {
            using L = decltype(pv);
            const L grad = kernels::mul_add(L(coupled), pv, gv);
            mv = kernels::mul_add(L(b1), mv, L(c1) * grad);
            vv = kernels::mul_add(L(b2), vv, L(c2) * grad * grad);
            L root;
            if constexpr (kernels::is_scalar_lane_v<L>)
                root = std::sqrt(vv);
            else
                root = xsimd::sqrt(vv);
            store(pv * L(shrink) - L(rate) * mv / (root + L(eps)), mv, vv);
        };
        using V = kernels::simd<T>;
        constexpr std::size_t W = V::size;
        const std::size_t n = params.size();
        std::size_t i = 0;
        for (; i + W <= n; i += W)
            body(V::load_unaligned(p + i), V::load_unaligned(g + i), V::load_unaligned(m + i), V::load_unaligned(v + i),
                 [&](V np, V nm, V nv) {
                     np.store_unaligned(p + i);
                     nm.store_unaligned(m + i);
                     nv.store_unaligned(v + i);
                 });
        for (; i < n; ++i)
            body(p[i], g[i], m[i], v[i], [&](T np, T nm, T nv) {
                p[i] = np;
                m[i] = nm;
                v[i] = nv;
            });
    }
};

/// AdamW: adam with decoupled weight decay (0.01 by default, as in PyTorch). One
/// type for both ideas; this only names the AdamW configuration.
inline adam adamw(double learning_rate = 0.001, double weight_decay = 0.01) {
    return adam{.learning_rate = learning_rate, .weight_decay = weight_decay, .decoupled_weight_decay = true};
}

}  // namespace typenet
