#pragma once
// Reduced-precision inference: a trained float model's parameters rounded to
// bfloat16, run by the same kernels with float accumulation.
//
// Why bfloat16 and not int8: this path targets batch-1 latency, where the cost is
// streaming the weights (an MLP's 400 KB of float weights come from L2 on every
// call). bfloat16 halves those bytes, keeps float's range (no per-tensor scales to
// calibrate, nothing to clip), and widening is a shift or a mask per lane, which
// AVX2 does without AVX-512 BF16. Accuracy and speed are measured in bench/README.md.
//
// Layout: as model<Arch, float>::parameters(), value for value, except where a stage
// re-lays out its slice for its kernels (S::interleave_bfloat16: dense interleaves its
// weight rows for the GEMM, kernels::interleave_bfloat16).
//
//   typenet::bfloat16_model<arch> compact(trained);   // rounds once
//   auto scores = compact.predict(pixels);             // float in, float out
#include <array>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>

#include "../core/bfloat16.hpp"
#include "../core/classes.hpp"
#include "../core/storage.hpp"
#include "../kernels/simd.hpp"
#include "fold.hpp"
#include "model.hpp"

#include <boost/hana/for_each.hpp>

namespace typenet {

/// The parameters of Arch rounded to the nearest bfloat16 (ties to even), in the
/// layout the bfloat16 inference path reads (see the file comment).
template <class Arch>
void pack_bfloat16_parameters(const float* from, bfloat16* to) noexcept {
    for (std::size_t i = 0; i < Arch::parameter_count; ++i) to[i] = to_bfloat16(from[i]);
    boost::hana::for_each(Arch::fused_plan::types, [&](auto t) {
        using S = typename decltype(t)::type;
        if constexpr (requires { S::interleave_bfloat16(from, to); })
            S::interleave_bfloat16(from + S::param_offset, to + S::param_offset);
    });
}

/// The parameters of a model<Arch, float> stored as bfloat16, for inference only.
template <class Arch>
class bfloat16_model {
    static_assert(std::is_same_v<Arch, folded_t<Arch>>,
                  "typenet: bfloat16_model needs an inference network: fold dropout and batch_norm away first "
                  "(fold_for_inference, network/fold.hpp)");

public:
    using architecture = Arch;
    static constexpr std::size_t parameter_count = Arch::parameter_count;
    static constexpr std::size_t input_size = Arch::input_size;
    static constexpr std::size_t output_size = Arch::output_size;
    using output_type = std::array<float, output_size>;

    explicit bfloat16_model(const model<Arch, float>& trained) {
        pack_bfloat16_parameters<Arch>(trained.parameters().data(), params_.data());
    }

    std::span<const bfloat16> parameters() const noexcept { return params_.span(); }

    /// Inference on one sample; allocates nothing.
    output_type predict(std::span<const float> x) const {
        if (x.size() != input_size)
            throw std::invalid_argument("predict: input has " + std::to_string(x.size()) +
                                        " values, the network's input needs " + std::to_string(input_size));
        return infer<Arch>(params_.data(), x.data());
    }
    output_type operator()(std::span<const float> x) const { return predict(x); }

    std::size_t classify(std::span<const float> x) const {
        const output_type y = predict(x);
        return predicted_class<output_size>(y.data());
    }

private:
    fixed_buffer<bfloat16, parameter_count> params_;
};

}  // namespace typenet
