#pragma once
// dropout<Percent>: inverted dropout. In training each value is kept with
// probability 1 - p (p = Percent / 100) and scaled by 1 / (1 - p), so that the
// expected activation equals the inference activation and inference is the plain
// identity (no rescaling, nothing to fold). The mask (0 or 1 / (1 - p) per value)
// is drawn from the pass's seeded random engine and saved in the workspace for
// backward; a training pass without an engine reuses the saved mask, which is how
// gradient checks hold it fixed.
#include <algorithm>
#include <cstddef>
#include <string_view>

#include "../kernels/simd.hpp"
#include "protocol.hpp"

namespace typenet {

template <std::size_t Percent>
struct dropout : layer_base {
    static constexpr std::string_view name = "dropout";
    static constexpr bool keeps_initialization_rule = true;
    static constexpr layer_at_inference inference = layer_at_inference::identity;
    static constexpr double rate = Percent / 100.0;

    template <class In, std::size_t Index, std::size_t ParamOffset>
    struct stage : stage_defaults {
        static_assert(
            diagnostic::check<(Percent <= 99), diagnostic::at_layer<Index, dropout>, diagnostic::received<In>>,
            "typenet: dropout<Percent> needs Percent in [0, 99] (dropout<100> would drop everything)");
        using layer = dropout;
        using input_shape = In;
        using output_shape = In;
        static constexpr std::size_t layer_index = Index;
        static constexpr std::size_t param_offset = ParamOffset;
        static constexpr std::size_t flops = 0;  // the identity at inference
        static constexpr bool contextual = true;
        static constexpr std::size_t saved_size(std::size_t batch) { return batch * In::size; }

        template <class T>
        static void forward(const T*, const T* in, T* out, std::size_t batch, T*, const stage_context<T>& ctx) {
            const std::size_t n = batch * In::size;
            if (!ctx.training || Percent == 0) {
                std::copy(in, in + n, out);
                if (ctx.training) std::fill(ctx.saved, ctx.saved + n, T(1));
                return;
            }
            T* mask = ctx.saved;
            if (ctx.rng != nullptr) {
                const T keep = static_cast<T>(1 / (1 - rate));
                for (std::size_t i = 0; i < n; ++i) mask[i] = ctx.rng->uniform() < rate ? T(0) : keep;
            }
            kernels::transform(in, mask, out, n, [](auto x, auto m) { return x * m; });
        }

        template <class T>
        static void backward(const T*, const T*, const T*, T* d_out, T* d_in, T*, std::size_t batch, T*,
                             const stage_context<T>& ctx) {
            if (d_in == nullptr) return;
            kernels::transform(d_out, ctx.saved, d_in, batch * In::size, [](auto g, auto m) { return g * m; });
        }
    };
};

}  // namespace typenet
