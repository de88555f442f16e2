#pragma once
// A chain: a list of layers run one after another inside a block (the body of a
// residual, a branch of a concat, a projection shortcut). It is what sequential is to
// a network, without a network's buffers: the block hands it one region of memory and
// the chain lays its stages' activations, gradients and saved values out in it.
//
// Where the region comes from (blocks are contextual stages, layers/layer.hpp):
//   - a training or batched pass through a workspace: the block's saved buffer
//     (saved_size(batch) values), which holds every stage's activation and gradient,
//     since backward reads them;
//   - batch-1 inference (network/inference.hpp, an exported header): the block's
//     forward scratch, which holds the activations only (no gradient is needed), the
//     inner stages' own scratch first.
// Parameters and state are the chain's plan's, at offsets relative to the chain's first.
#include <algorithm>
#include <array>
#include <cstddef>
#include <type_traits>

#include <boost/hana/for_each.hpp>
#include <boost/hana/reverse.hpp>

#include "../core/bfloat16.hpp"
#include "../core/storage.hpp"
#include "../layers/layer.hpp"
#include "../network/plan.hpp"
#include "../network/sequential.hpp"

namespace typenet::detail {

template <class Plan>
struct chain_sizes;
template <class... Ss>
struct chain_sizes<stage_list<Ss...>> {
    /// Values of all stage outputs for `batch` samples (each buffer rounded to whole cache lines).
    template <class T>
    static constexpr std::size_t activations(std::size_t batch) {
        return ((Ss::aliases_input ? 0 : aligned_count<T>(batch * Ss::output_shape::size)) + ... + 0);
    }
    template <class T>
    static constexpr std::size_t saved(std::size_t batch) {
        return ((Ss::contextual ? aligned_count<T>(Ss::saved_size(batch)) : 0) + ... + 0);
    }
};

template <bool Fuse, class In, class... Layers>
struct chain {
    static_assert(sizeof...(Layers) >= 1, "typenet: a block's body, branch or projection needs at least one layer");
    static_assert(folding_placement<0, void, Layers...>::value);
    static_assert(distinct_names<0, Layers...>::value);

    using plan = typename make_plan<Fuse, 0, In, 0, 0, Layers...>::type;
    using input_shape = In;
    using output_shape = typename last_stage<plan>::type::output_shape;
    static constexpr std::size_t stages = plan::count;
    static constexpr std::size_t parameter_count = plan::parameter_count;
    static constexpr std::size_t state_count = plan::state_count;
    static constexpr std::size_t flops = plan::flops;
    /// Scratch the stages need, in training (backward) and in a forward pass alike.
    static constexpr std::size_t scratch_size = std::max(plan::max_scratch, plan::max_forward_scratch);

    /// Values of the region for a pass through a workspace: activations, gradients, saved.
    template <class T>
    static constexpr std::size_t training_size(std::size_t batch) {
        return 2 * chain_sizes<plan>::template activations<T>(batch) + chain_sizes<plan>::template saved<T>(batch);
    }
    /// Values of the region for one sample's inference: the activations only.
    template <class T>
    static constexpr std::size_t inference_size = chain_sizes<plan>::template activations<T>(1);

    /// Where each activation (k = 0 the chain's input ... stages its output), each gradient
    /// and each stage's saved values are, for `batch` samples in `region`.
    template <class T>
    struct layout {
        std::array<const T*, stages + 1> activation{};
        std::array<T*, stages + 1> gradient{};
        std::array<T*, stages> saved{};

        /// with_gradients: a training region (training_size); else an inference one.
        layout(const T* in, T* d_in, T* region, std::size_t batch, bool with_gradients) {
            activation[0] = in;
            gradient[0] = d_in;
            T* next = region;
            boost::hana::for_each(plan::types, [&](auto t) {
                using S = typename decltype(t)::type;
                constexpr std::size_t k = S::position + 1;
                if constexpr (S::aliases_input) {
                    activation[k] = activation[k - 1];
                    gradient[k] = gradient[k - 1];
                } else {
                    activation[k] = next;
                    next += aligned_count<T>(batch * S::output_shape::size);
                    if (with_gradients) {
                        gradient[k] = next;
                        next += aligned_count<T>(batch * S::output_shape::size);
                    }
                }
            });
            boost::hana::for_each(plan::types, [&](auto t) {
                using S = typename decltype(t)::type;
                if constexpr (S::contextual) {
                    if (with_gradients) {
                        saved[S::position] = next;
                        next += aligned_count<T>(S::saved_size(batch));
                    }
                }
            });
        }
        T* output() const { return const_cast<T*>(activation[stages]); }
        T* output_gradient() const { return gradient[stages]; }
    };

    /// Runs the stages forward; the chain's output is lay.output(). The inner stages'
    /// state and running statistics are the block's, at the plan's offsets.
    template <class Stored, class T>
    static void forward(const Stored* params, const layout<T>& lay, std::size_t batch, T* scratch,
                        const stage_context<T>& ctx) {
        boost::hana::for_each(plan::types, [&](auto t) {
            using S = typename decltype(t)::type;
            constexpr std::size_t p = S::position;
            if constexpr (S::aliases_input) {
                return;
            } else if constexpr (S::contextual) {
                constexpr std::size_t offset = plan::state_offsets[p];
                const stage_context<T> inner{ctx.training, ctx.state ? ctx.state + offset : nullptr,
                                             ctx.running ? ctx.running + offset : nullptr, lay.saved[p], ctx.rng};
                S::forward(params + S::param_offset, lay.activation[p], const_cast<T*>(lay.activation[p + 1]), batch,
                           scratch, inner);
            } else if constexpr (S::parameter_count > 0) {
                S::forward(params + S::param_offset, lay.activation[p], const_cast<T*>(lay.activation[p + 1]), batch,
                           scratch);
            } else {  // as network/inference.hpp: a stage without parameters takes a pointer of the value type
                S::forward(static_cast<const T*>(nullptr), lay.activation[p], const_cast<T*>(lay.activation[p + 1]),
                           batch, scratch);
            }
        });
    }

    /// Propagates lay.output_gradient() back to lay.gradient[0] (skipped when null),
    /// overwriting the chain's slice of d_params.
    template <class T>
    static void backward(const T* params, const layout<T>& lay, T* d_params, std::size_t batch, T* scratch) {
        boost::hana::for_each(boost::hana::reverse(plan::types), [&](auto t) {
            using S = typename decltype(t)::type;
            constexpr std::size_t p = S::position;
            if constexpr (S::contextual)
                S::backward(params + S::param_offset, lay.activation[p], lay.activation[p + 1], lay.gradient[p + 1],
                            lay.gradient[p], d_params + S::param_offset, batch, scratch,
                            stage_context<T>{true, nullptr, nullptr, lay.saved[p], nullptr});
            else if constexpr (!S::aliases_input)
                S::backward(params + S::param_offset, lay.activation[p], lay.activation[p + 1], lay.gradient[p + 1],
                            lay.gradient[p], d_params + S::param_offset, batch, scratch);
        });
    }

    /// Draws the parameters by the initialisation rules of the chain's layers; `after` is
    /// the rule of the nonlinearity after the block, for the layers at the chain's end.
    template <class T>
    static void initialize(T* params, random_engine& rng, init_rule after) {
        const auto rules = initialization_rules<Layers...>(after);
        boost::hana::for_each(plan::types, [&](auto t) {
            using S = typename decltype(t)::type;
            if constexpr (S::parameter_count > 0) S::initialize(params + S::param_offset, rng, rules[S::layer_index]);
        });
    }
    template <class T>
    static void initialize_state(T* state) {
        boost::hana::for_each(plan::types, [&](auto t) {
            using S = typename decltype(t)::type;
            if constexpr (S::state_count > 0) S::initialize_state(state + plan::state_offsets[S::position]);
        });
    }

    /// Calls f(name, offset, dims) for every parameter tensor (kind: describe_tensors or
    /// describe_state), the name prefixed with `prefix` and the stage's position in the chain.
    template <bool State, class F>
    static void describe(const char* prefix, std::size_t base, F& f) {
        boost::hana::for_each(plan::types, [&](auto t) {
            using S = typename decltype(t)::type;
            auto named = [&](const char* name, std::size_t offset, const auto& dims) {
                // Tensor names are visited, not kept (network/model.hpp): a buffer on the stack serves.
                char full[96];
                std::size_t n = 0;
                auto put = [&](const char* s) {
                    while (*s && n + 1 < sizeof full) full[n++] = *s++;
                };
                char index[8] = {char('0' + S::layer_index / 10 % 10), char('0' + S::layer_index % 10), '.', 0};
                put(prefix);
                put(S::layer_index < 10 ? index + 1 : index);
                put(name);
                full[n] = 0;
                f(static_cast<const char*>(full), base + offset, dims);
            };
            if constexpr (State && S::state_count > 0)
                S::describe_state([&](const char* name, std::size_t offset, const auto& dims) {
                    named(name, plan::state_offsets[S::position] + offset, dims);
                });
            else if constexpr (!State && S::parameter_count > 0)
                S::describe_tensors([&](const char* name, std::size_t offset, const auto& dims) {
                    named(name, S::param_offset + offset, dims);
                });
        });
    }

    /// Stage facts a block passes on: bfloat16 re-layout of its stages' parameters.
    static void interleave_bfloat16(const float* from, bfloat16* to) {
        boost::hana::for_each(plan::types, [&](auto t) {
            using S = typename decltype(t)::type;
            if constexpr (requires { S::interleave_bfloat16(from, to); })
                S::interleave_bfloat16(from + S::param_offset, to + S::param_offset);
        });
    }
};

/// Copies n values (a gradient that two consumers read, one of which may overwrite it).
template <class T>
void copy_values(const T* from, T* to, std::size_t n) {
    std::copy(from, from + n, to);
}

}  // namespace typenet::detail
