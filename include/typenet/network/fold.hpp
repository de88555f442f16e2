#pragma once
// Folding for inference: the architecture without its training-only layers, and
// the parameters that make it compute what the original computes at inference.
//
// dropout is the identity at inference: it is dropped. batch_norm at inference is
// an affine map per channel, y = s (z - mean) + beta with s = gamma / sqrt(var + eps),
// of the outputs z = W x + b of the dense or conv2d layer it follows (sequential
// enforces that placement), so it merges into that layer:
//   W'[q][f] = s[f] W[q][f],   b'[f] = s[f] (b[f] - mean[f]) + beta[f].
// The folded network has no state and runs one GEMM per layer as before; it is
// what export_header writes.
#include <cmath>
#include <cstddef>

#include <boost/hana/for_each.hpp>

#include "model.hpp"
#include "sequential.hpp"

namespace typenet {

namespace detail {
template <class L>
inline constexpr bool is_training_only_v = std::is_same_v<L, batch_norm>;
template <std::size_t P>
inline constexpr bool is_training_only_v<dropout<P>> = true;

template <class Done, class... Rest>
struct fold_layers;
template <class Input, class... Kept>
struct fold_layers<sequential<Input, Kept...>> {
    using type = sequential<Input, Kept...>;
};
template <class Input, class... Kept, class L, class... Rest>
struct fold_layers<sequential<Input, Kept...>, L, Rest...> {
    using type = typename std::conditional_t<is_training_only_v<L>, fold_layers<sequential<Input, Kept...>, Rest...>,
                                             fold_layers<sequential<Input, Kept..., L>, Rest...>>::type;
};

template <class Arch>
struct folded;
template <class Input, class... Layers>
struct folded<sequential<Input, Layers...>> {
    using type = typename fold_layers<sequential<Input>, Layers...>::type;
};
}  // namespace detail

/// The inference architecture of Arch: Arch without batch_norm and dropout.
template <class Arch>
using folded_t = typename detail::folded<Arch>::type;

/// The model of folded_t<Arch> whose outputs equal m's inference outputs (up to rounding).
template <class Arch, class T>
model<folded_t<Arch>, T> fold_for_inference(const model<Arch, T>& m) {
    using Folded = folded_t<Arch>;
    model<Folded, T> out;
    T* dst = out.parameters().data();
    const T* src = m.parameters().data();
    const T* state = m.state().data();
    std::size_t written = 0, last_block = 0, last_count = 0;
    boost::hana::for_each(Arch::reference_plan::types, [&](auto t) {
        using S = typename decltype(t)::type;
        if constexpr (std::is_same_v<typename S::layer, batch_norm>) {
            // The previous block is the dense/conv2d this normalises: weights [Q][C], then bias [C].
            constexpr std::size_t C = S::channels;
            const T* gamma = src + S::param_offset;
            const T* beta = gamma + C;
            const T* mean = state + Arch::reference_plan::state_offsets[S::position];
            const T* var = mean + C;
            T* w = dst + last_block;
            T* b = w + (last_count - C);
            const std::size_t rows = (last_count - C) / C;
            for (std::size_t c = 0; c < C; ++c) {
                const T scale = static_cast<T>(gamma[c] / std::sqrt(static_cast<double>(var[c]) + batch_norm::epsilon));
                for (std::size_t q = 0; q < rows; ++q) w[q * C + c] *= scale;
                b[c] = scale * (b[c] - mean[c]) + beta[c];
            }
        } else if constexpr (S::parameter_count > 0) {
            std::copy(src + S::param_offset, src + S::param_offset + S::parameter_count, dst + written);
            last_block = written;
            last_count = S::parameter_count;
            written += S::parameter_count;
        }
    });
    return out;
}

}  // namespace typenet
