#pragma once
// The pieces every layer is made of: layer_base (what marks a type as a layer),
// stage_defaults (the zeros of a stage without parameters, scratch or state) and
// stage_context (what a contextual stage sees). The protocol itself, with the
// concepts that check it, is layers/protocol.hpp.
//
// Contextual stages (dropout, batch_norm, and a fused product whose activation's
// derivative reads its input: contextual = true) behave differently in training and
// inference. Their forward and backward take one more argument, a stage_context: the
// mode, the stage's slice of the model's non-trainable state (running statistics,
// state_count values, kept out of the parameter block so that optimisers never touch
// them), and a per-stage buffer of saved_size(batch) values in the workspace where
// training forward leaves what backward needs (the dropout mask, the batch mean and
// inverse deviation). Whatever a training pass changes or draws from besides the
// parameters (the state block, the per-thread random engines) is recorded by
// training checkpoints (train/checkpoint.hpp); a stage with any other hidden state
// would have to be added there, or resumed runs would no longer match uninterrupted ones.
#include <cstddef>
#include <type_traits>

#include "../core/diagnostic.hpp"
#include "../core/random.hpp"
#include "../core/shape.hpp"

namespace typenet {

/// What a contextual stage sees besides its parameters and buffers.
template <class T>
struct stage_context {
    bool training = false;
    const T* state = nullptr;      ///< this stage's state slice (read at inference)
    T* running = nullptr;          ///< training: where running statistics are updated; null: not updated
    T* saved = nullptr;            ///< saved_size(batch) values in the workspace, forward -> backward
    random_engine* rng = nullptr;  ///< training: draws dropout masks; null: reuse the saved mask
};

struct layer_base {};

/// How a layer's weights are drawn, chosen by the nonlinearity that follows it
/// (layers/initialization.hpp).
enum class init_rule {
    glorot,  ///< uniform, limit sqrt(6 / (fan_in + fan_out)): tanh, sigmoid, linear
    he,      ///< normal, std sqrt(2 / fan_in): ReLU and its kin
};

/// What an element-wise layer's derivative is written in: its output y (relu,
/// sigmoid, tanh: backward needs only what forward wrote) or its input z (gelu, silu:
/// a fused stage keeps the pre-activations for backward).
enum class derivative_from { output, input };

/// Stages without parameters or scratch inherit these defaults.
struct stage_defaults {
    static constexpr std::size_t parameter_count = 0;
    static constexpr std::size_t scratch_size = 0;
    static constexpr std::size_t forward_scratch_size = 0;
    /// True when the output is the input buffer reinterpreted (flatten): no copy, no pass.
    static constexpr bool aliases_input = false;
    /// See the file comment: true for stages with a training and an inference mode.
    static constexpr bool contextual = false;
    /// Non-trainable values (running statistics) in the model's state block.
    static constexpr std::size_t state_count = 0;
    static constexpr std::size_t saved_size(std::size_t) { return 0; }
};

}  // namespace typenet
