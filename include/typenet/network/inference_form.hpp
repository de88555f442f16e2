#pragma once
// What a layer list becomes at inference, as types and as parameters: the pieces of
// folding (network/fold.hpp) that blocks reuse for their bodies and branches.
//
// Each layer says what it is at inference (protocol.hpp, L::inference): dropout is the
// identity and is dropped; batch_norm is a per-channel affine map merged into the layer
// before it; a block (blocks/) names its inference form (L::at_inference, its body
// folded in turn) and its stage folds its own parameters (S::fold_parameters).
#include <algorithm>
#include <cstddef>

#include <boost/hana/for_each.hpp>

#include "../layers/protocol.hpp"
#include "plan.hpp"

namespace typenet::detail {

template <class L>
inline constexpr bool is_training_only_v = inference_role<L>() != layer_at_inference::kept;

/// L at inference: itself, or the form it names (a block with its body folded).
template <class L>
struct inference_form {
    using type = L;
};
template <class L>
requires requires { typename L::at_inference; }
struct inference_form<L> {
    using type = typename L::at_inference;
};

/// Done = Template<Kept...>: appends the inference forms of Rest, leaving out the layers
/// that vanish or fold at inference. Template is sequential (Kept starts with the input),
/// or a block's template.
template <class Done, class... Rest>
struct fold_layers;
template <template <class...> class Template, class... Kept>
struct fold_layers<Template<Kept...>> {
    using type = Template<Kept...>;
};
template <template <class...> class Template, class... Kept, class L, class... Rest>
struct fold_layers<Template<Kept...>, L, Rest...> {
    using type =
        typename std::conditional_t<is_training_only_v<L>, fold_layers<Template<Kept...>, Rest...>,
                                    fold_layers<Template<Kept..., typename inference_form<L>::type>, Rest...>>::type;
};

/// Writes the inference parameters of the stages of Plan (a reference plan) to dst from
/// their training parameters src and state; returns how many it wrote.
template <class Plan, class T>
std::size_t fold_plan_parameters(const T* src, const T* state, T* dst) {
    std::size_t written = 0, last_producer = 0, last_count = 0;
    boost::hana::for_each(Plan::types, [&](auto t) {
        using S = typename decltype(t)::type;
        constexpr layer_at_inference role = inference_role<typename S::layer>();
        if constexpr (role == layer_at_inference::folds_into_previous) {
            // The last stage with parameters is the layer this folds into (sequential checks it).
            S::fold_into(dst + last_producer, last_count, src + S::param_offset,
                         state + Plan::state_offsets[S::position]);
        } else if constexpr (role == layer_at_inference::kept && requires { S::fold_parameters(src, state, dst); }) {
            last_producer = written;
            last_count =
                S::fold_parameters(src + S::param_offset, state + Plan::state_offsets[S::position], dst + written);
            written += last_count;
        } else if constexpr (role == layer_at_inference::kept && S::parameter_count > 0) {
            std::copy(src + S::param_offset, src + S::param_offset + S::parameter_count, dst + written);
            last_producer = written;
            last_count = S::parameter_count;
            written += S::parameter_count;
        }
    });
    return written;
}

}  // namespace typenet::detail
