#pragma once
// concat<Branch...>: runs each branch on the block's input and joins their outputs along
// channels (the first dimension), as an Inception module or a DenseNet layer does.
// A branch is branch<Layers...>, or a single layer:
//
//   concat<conv2d<8, 1>, branch<conv2d<8, 1>, relu, conv2d<8, 3, 1, 1>>, branch<max_pool<3, 1>, conv2d<8, 1, 1, 1>>>
//
// Every branch's output must agree in every dimension but the first. Backward splits the
// output gradient among the branches and adds their input gradients. Parameters: the
// branches', in order. Like residual (blocks/residual.hpp), a contextual stage whose saved
// buffer holds the branches' activations and gradients (blocks/chain.hpp).
#include <algorithm>
#include <array>
#include <cstddef>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include <boost/hana/for_each.hpp>

#include "../core/diagnostic.hpp"
#include "../kernels/simd.hpp"
#include "../network/inference_form.hpp"
#include "chain.hpp"
#include "residual.hpp"

namespace typenet {

/// Several layers as one branch of a concat.
template <class... Layers>
struct branch {
    static constexpr std::string_view name = "branch";
    using at_inference = typename detail::fold_layers<branch<>, Layers...>::type;
};

template <class... Branches>
struct concat;

namespace diagnostic {
/// Which branch of a block is wrong (0 = the first) and its output shape, next to the first branch's.
template <std::size_t Position, class Shape>
struct branch_output {};
template <class Shape>
struct first_branch_output {};
}  // namespace diagnostic

namespace detail {

template <class B>
struct branch_layers {
    using type = type_list<B>;
};
template <class... L>
struct branch_layers<branch<L...>> {
    using type = type_list<L...>;
};

/// Shapes that differ at most in their first dimension.
template <class A, class B>
inline constexpr bool joinable_v = false;
template <std::size_t A0, std::size_t... A, std::size_t B0, std::size_t... B>
inline constexpr bool joinable_v<shape<A0, A...>, shape<B0, B...>> = sizeof...(A) == sizeof...(B) && ((A == B) && ...);
template <std::size_t Channels, class S>
struct with_first_dim;
template <std::size_t Channels, std::size_t D0, std::size_t... D>
struct with_first_dim<Channels, shape<D0, D...>> {
    using type = shape<Channels, D...>;
};

template <std::size_t Index, class Layer, class First, std::size_t Position, class Out>
struct branch_joins : std::true_type {
    static_assert(diagnostic::check<joinable_v<First, Out>, diagnostic::at_layer<Index, Layer>,
                                    diagnostic::first_branch_output<First>, diagnostic::branch_output<Position, Out>>,
                  "typenet: concat<Branch...>: this branch's output differs from the first branch's in a "
                  "dimension other than the first (channels), so the two cannot be concatenated");
};

template <bool Fuse, class Layer, class In, std::size_t Index, std::size_t ParamOffset>
struct concat_stage;
template <bool Fuse, class... Branches, class In, std::size_t Index, std::size_t ParamOffset>
struct concat_stage<Fuse, concat<Branches...>, In, Index, ParamOffset> : stage_defaults {
    static_assert(sizeof...(Branches) >= 1, "typenet: concat<Branch...> needs at least one branch");
    using layer = concat<Branches...>;
    static constexpr std::size_t count = sizeof...(Branches);
    template <std::size_t K>
    using chain_at = typename std::tuple_element_t<
        K, std::tuple<typename chain_of<Fuse, In, typename branch_layers<Branches>::type>::type...>>;
    using first_output = typename chain_at<0>::output_shape;
    template <std::size_t... K>
    static constexpr bool all_join(std::index_sequence<K...>) {
        return (branch_joins<Index, layer, first_output, K, typename chain_at<K>::output_shape>::value && ...);
    }
    static_assert(all_join(std::make_index_sequence<count>{}));

    static constexpr std::array<std::size_t, count> sizes{
        chain_of<Fuse, In, typename branch_layers<Branches>::type>::type::output_shape::size...};
    static constexpr std::array<std::size_t, count> params{
        chain_of<Fuse, In, typename branch_layers<Branches>::type>::type::parameter_count...};
    static constexpr std::array<std::size_t, count> states{
        chain_of<Fuse, In, typename branch_layers<Branches>::type>::type::state_count...};
    /// Where branch K starts in a sum over the branches of the per-branch values `of`.
    static constexpr std::size_t start(const std::array<std::size_t, count>& of, std::size_t k) {
        std::size_t s = 0;
        for (std::size_t i = 0; i < k; ++i) s += of[i];
        return s;
    }

    using input_shape = In;
    using output_shape = typename with_first_dim<
        (chain_of<Fuse, In, typename branch_layers<Branches>::type>::type::output_shape::dims[0] + ...),
        first_output>::type;
    static constexpr std::size_t layer_index = Index;
    static constexpr std::size_t param_offset = ParamOffset;
    static constexpr std::size_t parameter_count = start(params, count);
    static constexpr std::size_t state_count = start(states, count);
    static constexpr std::size_t flops =
        (chain_of<Fuse, In, typename branch_layers<Branches>::type>::type::flops + ... + 0);
    static constexpr bool contextual = true;
    static constexpr std::size_t scratch_size =
        std::max({chain_of<Fuse, In, typename branch_layers<Branches>::type>::type::scratch_size...});
    static constexpr std::size_t inner_scratch = aligned_count<float>(scratch_size);
    static constexpr std::size_t forward_scratch_size =
        inner_scratch +
        (chain_of<Fuse, In, typename branch_layers<Branches>::type>::type::template inference_size<float> + ...);
    /// The branches' regions, then one input gradient for the branches after the first.
    static constexpr std::size_t saved_size(std::size_t batch) {
        return (chain_of<Fuse, In, typename branch_layers<Branches>::type>::type::template training_size<float>(batch) +
                ...) +
               aligned_count<float>(batch * In::size);
    }

    /// Calls f(chain, index) for every branch, in order.
    template <class F>
    static void for_each_branch(F&& f) {
        [&]<std::size_t... K>(std::index_sequence<K...>) {
            (f(std::type_identity<chain_at<K>>{}, std::integral_constant<std::size_t, K>{}), ...);
        }
        (std::make_index_sequence<count>{});
    }
    template <class T>
    static std::size_t region_start(std::size_t k, std::size_t batch, bool keep) {
        std::size_t s = 0;
        for_each_branch([&](auto c, auto i) {
            using C = typename decltype(c)::type;
            if (i < k) s += keep ? C::template training_size<T>(batch) : C::template inference_size<T>;
        });
        return s;
    }

    template <class T>
    static void initialize(T* p, random_engine& rng, init_rule after) {
        for_each_branch([&](auto c, auto i) {
            using C = typename decltype(c)::type;
            if constexpr (C::parameter_count > 0) C::initialize(p + start(params, i), rng, after);
        });
    }
    template <class T>
    static void initialize_state(T* state) {
        for_each_branch([&](auto c, auto i) {
            using C = typename decltype(c)::type;
            if constexpr (C::state_count > 0) C::initialize_state(state + start(states, i));
        });
    }
    static constexpr const char* branch_names[] = {"branch0.", "branch1.", "branch2.", "branch3.",
                                                   "branch4.", "branch5.", "branch6.", "branch7."};
    static_assert(count <= 8, "typenet: concat<Branch...> takes at most 8 branches");
    template <class F>
    static void describe_tensors(F&& f) {
        for_each_branch(
            [&](auto c, auto i) { decltype(c)::type::template describe<false>(branch_names[i], start(params, i), f); });
    }
    template <class F>
    static void describe_state(F&& f) {
        for_each_branch(
            [&](auto c, auto i) { decltype(c)::type::template describe<true>(branch_names[i], start(states, i), f); });
    }
    template <class T>
    static std::size_t fold_parameters(const T* src, const T* state, T* dst) {
        std::size_t n = 0;
        for_each_branch([&](auto c, auto i) {
            using C = typename decltype(c)::type;
            n += fold_plan_parameters<typename C::plan>(src + start(params, i), state + start(states, i), dst + n);
        });
        return n;
    }
    static void interleave_bfloat16(const float* from, bfloat16* to) {
        for_each_branch([&](auto c, auto i) {
            decltype(c)::type::interleave_bfloat16(from + start(params, i), to + start(params, i));
        });
    }

    template <class Stored, class T>
    static void forward(const Stored* p, const T* in, T* out, std::size_t batch, T* scratch,
                        const stage_context<T>& ctx) {
        const bool keep = ctx.saved != nullptr;  // see residual_stage::forward
        T* region = keep ? ctx.saved : scratch + inner_scratch;
        for_each_branch([&](auto c, auto i) {
            using C = typename decltype(c)::type;
            const typename C::template layout<T> lay(in, nullptr, region + region_start<T>(i, batch, keep), batch,
                                                     keep);
            const std::size_t state_at = start(states, i);
            C::forward(p + start(params, i), lay, batch, scratch,
                       stage_context<T>{ctx.training, ctx.state ? ctx.state + state_at : nullptr,
                                        ctx.running ? ctx.running + state_at : nullptr, nullptr, ctx.rng});
            const T* y = lay.output();
            for (std::size_t b = 0; b < batch; ++b)
                std::copy(y + b * sizes[i], y + (b + 1) * sizes[i], out + b * output_shape::size + start(sizes, i));
        });
    }

    template <class T>
    static void backward(const T* p, const T* in, const T*, T* d_out, T* d_in, T* d_params, std::size_t batch,
                         T* scratch, const stage_context<T>& ctx) {
        T* region = ctx.saved;
        T* d_later = region + region_start<T>(count, batch, true);  // a later branch's input gradient
        for_each_branch([&](auto c, auto i) {
            using C = typename decltype(c)::type;
            T* d_branch_in = d_in == nullptr ? nullptr : i == 0 ? d_in : d_later;
            typename C::template layout<T> lay(in, d_branch_in, region + region_start<T>(i, batch, true), batch, true);
            T* g = lay.output_gradient();
            for (std::size_t b = 0; b < batch; ++b) {
                const T* from = d_out + b * output_shape::size + start(sizes, i);
                std::copy(from, from + sizes[i], g + b * sizes[i]);
            }
            C::backward(p + start(params, i), lay, d_params + start(params, i), batch, scratch);
            if (i > 0 && d_in != nullptr)
                kernels::transform(static_cast<const T*>(d_in), static_cast<const T*>(d_later), d_in, batch * In::size,
                                   [](auto u, auto v) { return u + v; });
        });
    }
};

}  // namespace detail

template <class... Branches>
struct concat : layer_base {
    static constexpr std::string_view name = "concat";
    /// The same block with each branch folded for inference.
    using at_inference = concat<typename detail::inference_form<Branches>::type...>;
    template <class In, std::size_t Index, std::size_t ParamOffset>
    struct stage : detail::concat_stage<false, concat, In, Index, ParamOffset> {};
    template <class In, std::size_t Index, std::size_t ParamOffset>
    struct fusing_stage : detail::concat_stage<true, concat, In, Index, ParamOffset> {};
};

}  // namespace typenet
