#pragma once
// What makes a type a layer. Every layer tag derives from layer_base and provides
//
//   template <class In, std::size_t Index, std::size_t ParamOffset> struct stage;
//
// the layer bound to an input shape at a position of the network. The stage
// computes output_shape (with static_asserts naming Index, the layer and In when
// the input does not fit), parameter_count, flops, scratch_size, and the static
// functions forward/backward over batched row-major buffers:
//
//   forward (params, in, out, batch, scratch)
//   backward(params, in, out, d_out, d_in, d_params, batch, scratch)
//
// scratch holds scratch_size values (forward needs only forward_scratch_size).
//
// backward may overwrite d_out (it is dead afterwards), must write d_in when it is
// not null, and overwrites (does not accumulate into) its slice of d_params.
//
// Contextual stages (dropout, batch_norm: contextual = true) behave differently in
// training and inference. Their forward and backward take one more argument, a
// stage_context: the mode, the stage's slice of the model's non-trainable state
// (running statistics, state_count values, kept out of the parameter block so that
// optimisers never touch them), and a per-stage buffer of saved_size(batch) values
// in the workspace where training forward leaves what backward needs (the dropout
// mask, the batch mean and inverse deviation). The passes detect them through
// `contextual`; every other stage keeps the plain protocol. Whatever a training
// pass changes or draws from besides the parameters (the state block, the
// per-thread random engines) is recorded by training checkpoints
// (train/checkpoint.hpp); a stage with any other hidden state would have to be
// added there, or resumed runs would no longer match uninterrupted ones.
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
    const T* state = nullptr;       ///< this stage's state slice (read at inference)
    T* running = nullptr;           ///< training: where running statistics are updated; null: not updated
    T* saved = nullptr;             ///< saved_size(batch) values in the workspace, forward -> backward
    random_engine* rng = nullptr;   ///< training: draws dropout masks; null: reuse the saved mask
};

struct layer_base {};

template <class L>
inline constexpr bool is_layer_v = std::is_base_of_v<layer_base, L>;

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
