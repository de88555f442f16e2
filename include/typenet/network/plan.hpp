#pragma once
// From a layer list to an execution plan: a compile-time list of stages.
//
// The reference plan has one stage per layer. The fused plan applies one rule
// (network/fusion.hpp): a layer that accepts an epilogue (dense, conv2d) followed by
// an element-wise layer becomes one stage whose product applies bias and activation
// in registers. Both plans use the
// same parameter layout, so one model runs on either; the reference plan is what
// the fused one is tested against, and what gradient checks inspect layer by layer.
#include <algorithm>
#include <array>
#include <cstddef>

#include <boost/hana/basic_tuple.hpp>
#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>

#include "../layers/layer.hpp"
#include "../layers/protocol.hpp"
#include "fusion.hpp"

namespace typenet {

/// A stage placed in a plan: Position is its index among the plan's stages,
/// Layers how many layers of the network it executes.
template <class Stage, std::size_t Position, std::size_t Layers>
struct planned : Stage {
    using stage = Stage;
    static constexpr std::size_t position = Position;
    static constexpr std::size_t layers_covered = Layers;
};

template <class... Stages>
struct stage_list {
    static constexpr std::size_t count = sizeof...(Stages);
    static constexpr std::size_t parameter_count = (Stages::parameter_count + ... + 0);
    static constexpr std::size_t flops = (Stages::flops + ... + 0);
    static constexpr std::size_t max_scratch = std::max({std::size_t{0}, Stages::scratch_size...});
    static constexpr std::size_t max_forward_scratch = std::max({std::size_t{0}, Stages::forward_scratch_size...});
    /// Largest per-sample output of a stage that writes its own buffer.
    static constexpr std::size_t max_output_size =
        std::max({std::size_t{0}, (Stages::aliases_input ? 0 : Stages::output_shape::size)...});
    /// Non-trainable state values (running statistics) of all stages, and where
    /// each stage's slice of the state block starts (same in fused and reference
    /// plans: the stages that fuse have no state).
    static constexpr std::size_t state_count = (Stages::state_count + ... + 0);
    static constexpr std::array<std::size_t, count + 1> state_offsets = [] {
        std::array<std::size_t, count + 1> o{};
        const std::size_t counts[] = {Stages::state_count..., 0};
        for (std::size_t i = 0; i < count; ++i) o[i + 1] = o[i] + counts[i];
        return o;
    }();
    /// Whether any stage behaves differently in training (dropout, batch_norm).
    static constexpr bool has_contextual = (Stages::contextual || ... || false);
    /// The stages as a Boost.Hana tuple of types, for for_each / reverse.
    static constexpr auto types = boost::hana::tuple_t<Stages...>;
};

namespace detail {

template <class S, class List>
struct prepend;
template <class S, class... Ss>
struct prepend<S, stage_list<Ss...>> {
    using type = stage_list<S, Ss...>;
};

template <bool Fuse, std::size_t Position, class In, std::size_t Index, std::size_t Offset, class... Layers>
struct make_plan {
    using type = stage_list<>;
};

// One layer, one stage.
template <bool Fuse, std::size_t Position, class In, std::size_t Index, std::size_t Offset, class L, class... Rest>
struct make_plan<Fuse, Position, In, Index, Offset, L, Rest...> {
    using stage = planned<typename bind_layer<L, In, Index, Offset, Fuse>::type, Position, 1>;
    using type = typename prepend<stage, typename make_plan<Fuse, Position + 1, typename stage::output_shape, Index + 1,
                                                            Offset + stage::parameter_count, Rest...>::type>::type;
};

// A layer that accepts an epilogue followed by an element-wise layer: one fused
// stage (network/fusion.hpp), covering both layers.
template <std::size_t Position, class In, std::size_t Index, std::size_t Offset, class L, class Act, class... Rest>
requires fuses_v<L, Act>
struct make_plan<true, Position, In, Index, Offset, L, Act, Rest...> {
    using stage = planned<typename fused_stage<L, Act, In, Index, Offset>::type, Position, 2>;
    using type = typename prepend<stage, typename make_plan<true, Position + 1, typename stage::output_shape, Index + 2,
                                                            Offset + stage::parameter_count, Rest...>::type>::type;
};

template <class List>
struct last_stage;
template <class S>
struct last_stage<stage_list<S>> {
    using type = S;
};
template <class S, class... Ss>
requires(sizeof...(Ss) > 0) struct last_stage<stage_list<S, Ss...>> {
    using type = typename last_stage<stage_list<Ss...>>::type;
};

}  // namespace detail

/// Whether a plan fuses adjacent layers (what training and inference use) or runs
/// every layer as its own stage (the reference, and what gradient checks inspect).
enum class execution { fused, reference };

}  // namespace typenet
