#pragma once
// batch_norm: batch normalisation (Ioffe & Szegedy) of a dense layer's outputs
// (one channel per unit) or a convolution's (one channel per feature map,
// normalised over the batch and all positions):
//   y = gamma * (x - mean) / sqrt(var + eps) + beta
// Training uses the batch's mean and (biased) variance and moves the running
// statistics towards them (running <- (1 - momentum) running + momentum batch,
// with the unbiased variance, as PyTorch does); inference uses the running ones.
// gamma, beta are trainable parameters; the running mean and variance are model
// state (model::state()), out of the optimiser's reach. It must directly follow a layer
// that absorbs_channel_affine (dense, conv2d, depthwise_conv2d), so that
// fold_for_inference can merge it into that layer.
//
// Parameters: gamma[C], beta[C]. State: running_mean[C], running_var[C].
// Saved by a training forward for backward: mean[C], inverse deviation[C].
#include <array>
#include <cmath>
#include <cstddef>
#include <string_view>

#include "../core/random.hpp"
#include "../kernels/simd.hpp"
#include "protocol.hpp"

namespace typenet {

struct batch_norm : layer_base {
    static constexpr std::string_view name = "batch_norm";
    /// The layer before it is initialised for the nonlinearity after it.
    static constexpr bool keeps_initialization_rule = true;
    /// At inference a per-channel affine map, merged into the layer before it (network/fold.hpp).
    static constexpr layer_at_inference inference = layer_at_inference::folds_into_previous;
    static constexpr double epsilon = 1e-5;
    static constexpr double momentum = 0.1;

    template <class In, std::size_t Index, std::size_t ParamOffset>
    struct stage : stage_defaults {
        using layer = batch_norm;
        using input_shape = In;
        using output_shape = In;
        static constexpr std::size_t layer_index = Index;
        static constexpr std::size_t param_offset = ParamOffset;
        static constexpr std::size_t channels = In::rank == 3 ? In::dims[0] : In::size;
        static constexpr std::size_t spatial = In::size / channels;
        static constexpr std::size_t parameter_count = 2 * channels;
        static constexpr std::size_t state_count = 2 * channels;
        static constexpr std::size_t flops = 2 * In::size;
        static constexpr bool contextual = true;
        static constexpr std::size_t saved_size(std::size_t) { return 2 * channels; }

        template <class T>
        static void initialize(T* params, random_engine&, init_rule) {
            for (std::size_t c = 0; c < channels; ++c) {
                params[c] = T(1);
                params[channels + c] = T(0);
            }
        }
        template <class T>
        static void initialize_state(T* state) {
            for (std::size_t c = 0; c < channels; ++c) {
                state[c] = T(0);
                state[channels + c] = T(1);
            }
        }

        template <class F>
        static void describe_tensors(F&& f) {
            f("gamma", std::size_t{0}, std::array<std::size_t, 1>{channels});
            f("beta", channels, std::array<std::size_t, 1>{channels});
        }

        /// This stage at inference, y = s (z - mean) + beta with s = gamma / sqrt(var + eps), merged
        /// into the `count` parameters of the producer z = W x + b before it (weights
        /// [rows][channels], then bias [channels]: what absorbs_channel_affine promises):
        ///   W'[q][c] = s[c] W[q][c],   b'[c] = s[c] (b[c] - mean[c]) + beta[c].
        template <class T>
        static void fold_into(T* producer, std::size_t count, const T* params, const T* state) {
            const std::size_t rows = count / channels - 1;
            T* weights = producer;
            T* bias = producer + rows * channels;
            const T* gamma = params;
            const T* beta = params + channels;
            const T* mean = state;
            const T* var = state + channels;
            for (std::size_t c = 0; c < channels; ++c) {
                const T scale = static_cast<T>(gamma[c] / std::sqrt(static_cast<double>(var[c]) + epsilon));
                for (std::size_t q = 0; q < rows; ++q) weights[q * channels + c] *= scale;
                bias[c] = scale * (bias[c] - mean[c]) + beta[c];
            }
        }

        template <class F>
        static void describe_state(F&& f) {
            f("running_mean", std::size_t{0}, std::array<std::size_t, 1>{channels});
            f("running_var", channels, std::array<std::size_t, 1>{channels});
        }

        template <class T>
        static void forward(const T* params, const T* in, T* out, std::size_t batch, T*, const stage_context<T>& ctx) {
            const T* gamma = params;
            const T* beta = params + channels;
            for (std::size_t c = 0; c < channels; ++c) {
                T mean, inv_std;
                if (ctx.training) {
                    // Two passes (mean, then squared deviations), each map summed in
                    // vector lanes and the maps added up in double.
                    const double count = static_cast<double>(batch * spatial);
                    double sum = 0;
                    for (std::size_t b = 0; b < batch; ++b)
                        sum += kernels::sum(in + b * In::size + c * spatial, spatial);
                    const double mu = sum / count;
                    double squares = 0;
                    for (std::size_t b = 0; b < batch; ++b)
                        squares += kernels::sum_squared_deviations(in + b * In::size + c * spatial, spatial,
                                                                   static_cast<T>(mu));
                    const double var = squares / count;
                    mean = static_cast<T>(mu);
                    inv_std = static_cast<T>(1 / std::sqrt(var + epsilon));
                    ctx.saved[c] = mean;
                    ctx.saved[channels + c] = inv_std;
                    if (ctx.running != nullptr) {
                        const double unbiased = count > 1 ? var * count / (count - 1) : var;
                        ctx.running[c] = static_cast<T>((1 - momentum) * ctx.running[c] + momentum * mu);
                        ctx.running[channels + c] =
                            static_cast<T>((1 - momentum) * ctx.running[channels + c] + momentum * unbiased);
                    }
                } else {
                    mean = ctx.state[c];
                    inv_std = static_cast<T>(1 / std::sqrt(static_cast<double>(ctx.state[channels + c]) + epsilon));
                }
                const T scale = gamma[c] * inv_std;
                const T shift = beta[c] - mean * scale;
                for (std::size_t b = 0; b < batch; ++b) {
                    const T* x = in + b * In::size + c * spatial;
                    T* y = out + b * In::size + c * spatial;
                    for (std::size_t i = 0; i < spatial; ++i) y[i] = x[i] * scale + shift;
                }
            }
        }

        /// With x_hat = (x - mean) inv_std and M = batch x positions:
        ///   d beta = sum g,  d gamma = sum g x_hat,
        ///   d x = gamma inv_std (g - d beta / M - x_hat d gamma / M).
        template <class T>
        static void backward(const T* params, const T* in, const T*, T* d_out, T* d_in, T* d_params, std::size_t batch,
                             T*, const stage_context<T>& ctx) {
            const T* gamma = params;
            const double count = static_cast<double>(batch * spatial);
            for (std::size_t c = 0; c < channels; ++c) {
                const T mean = ctx.saved[c];
                const T inv_std = ctx.saved[channels + c];
                double sum_g = 0, sum_gx = 0;  // sum_gx: sum g (x - mean); times inv_std below gives sum g x_hat
                for (std::size_t b = 0; b < batch; ++b)
                    kernels::add_sum_and_centered_dot(d_out + b * In::size + c * spatial,
                                                      in + b * In::size + c * spatial, spatial, mean, sum_g, sum_gx);
                sum_gx *= static_cast<double>(inv_std);
                d_params[c] = static_cast<T>(sum_gx);
                d_params[channels + c] = static_cast<T>(sum_g);
                if (d_in == nullptr) continue;
                const T k = gamma[c] * inv_std;
                const T mean_g = static_cast<T>(sum_g / count);
                const T mean_gx = static_cast<T>(sum_gx / count);
                for (std::size_t b = 0; b < batch; ++b) {
                    const T* x = in + b * In::size + c * spatial;
                    const T* g = d_out + b * In::size + c * spatial;
                    T* dx = d_in + b * In::size + c * spatial;
                    for (std::size_t i = 0; i < spatial; ++i)
                        dx[i] = k * (g[i] - mean_g - (x[i] - mean) * inv_std * mean_gx);
                }
            }
        }
    };
};

}  // namespace typenet
