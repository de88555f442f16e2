#pragma once
// model<Arch, T>: the parameters of an architecture, and inference.
//
// All parameters live in one contiguous, 64-byte aligned block whose size is
// Arch::parameter_count. Layers own fixed slices of it (offsets known at compile
// time), so optimisers, serialisation and gradient checks work on one flat array
// while layers see their own weights.
//
// Non-trainable state (batch_norm running mean and variance) lives in a second
// block, state(): optimisers get parameters() only, so weight decay and momentum
// never touch it; training updates it, inference reads it.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

#include <boost/hana/for_each.hpp>

#include "../core/random.hpp"
#include "../core/storage.hpp"
#include "inference.hpp"
#include "passes.hpp"
#include "sequential.hpp"

namespace typenet {

/// One named parameter tensor of a model, as visited by model::for_each_tensor.
/// `dims` is valid during the visit only (copy it to keep it); `values` as long as the model.
template <class T>
struct tensor_ref {
    std::size_t layer_index;  ///< position of its layer in the sequential list
    std::string_view name;    ///< "weights", "bias", ...
    std::span<const std::size_t> dims;
    std::span<T> values;
};

template <class Arch, class T = float>
class model {
    static_assert(is_sequential_v<Arch>, "typenet: model<Arch> needs Arch = sequential<input<...>, layers...>");
    static_assert(std::is_floating_point_v<T>, "typenet: model<Arch, T> needs a floating-point T (float or double)");

public:
    using architecture = Arch;
    using value_type = T;
    using input_shape = typename Arch::input_shape;
    using output_shape = typename Arch::output_shape;
    static constexpr std::size_t parameter_count = Arch::parameter_count;
    static constexpr std::size_t state_count = Arch::state_count;
    static constexpr std::size_t input_size = Arch::input_size;
    static constexpr std::size_t output_size = Arch::output_size;
    using output_type = std::array<T, output_size>;

    /// Parameters initialised from `seed` (by the rule of the nonlinearity after each layer:
    /// Arch::initialization_rules).
    explicit model(std::uint64_t seed = 0) { initialize(seed); }

    void initialize(std::uint64_t seed) {
        random_engine rng(seed);
        T* p = params_.data();
        boost::hana::for_each(Arch::fused_plan::types, [&](auto t) {
            using S = typename decltype(t)::type;
            if constexpr (S::parameter_count > 0)
                S::initialize(p + S::param_offset, rng, Arch::initialization_rules[S::layer_index]);
            if constexpr (S::state_count > 0)
                S::initialize_state(state_.data() + Arch::fused_plan::state_offsets[S::position]);
        });
    }

    /// All parameters as one flat array (layer after layer).
    std::span<T> parameters() noexcept { return params_.span(); }
    std::span<const T> parameters() const noexcept { return params_.span(); }

    /// Non-trainable state (running statistics), layer after layer; empty without batch_norm.
    std::span<T> state() noexcept { return state_.span(); }
    std::span<const T> state() const noexcept { return state_.span(); }
    /// How a pass over this model infers (see passes.hpp).
    pass_mode<T> inference_mode() const noexcept { return pass_mode<T>::inference(state_.data()); }

    /// Calls f(tensor_ref<T>) for every parameter tensor, in layer order.
    template <class F>
    void for_each_tensor(F&& f) {
        visit_tensors<T>(params_.data(), f);
    }
    template <class F>
    void for_each_tensor(F&& f) const {
        visit_tensors<const T>(params_.data(), f);
    }

    /// Calls f(tensor_ref<T>) for every state tensor (batch_norm "running_mean", "running_var"), in layer order.
    template <class F>
    void for_each_state_tensor(F&& f) {
        visit_state_tensors<T>(state_.data(), f);
    }
    template <class F>
    void for_each_state_tensor(F&& f) const {
        visit_state_tensors<const T>(state_.data(), f);
    }

    /// Inference on one sample of input_size values; allocates nothing (see inference.hpp).
    output_type predict(std::span<const T> x) const {
        if (x.size() != input_size)
            throw std::invalid_argument("predict: input has " + std::to_string(x.size()) +
                                        " values, the network's input needs " + std::to_string(input_size));
        return infer<Arch>(params_.data(), static_cast<const T*>(state_.data()), x.data());
    }
    output_type operator()(std::span<const T> x) const { return predict(x); }

    /// Index of the largest output (the predicted class of a classifier; for a
    /// single output, 1 if it is positive).
    std::size_t classify(std::span<const T> x) const {
        const output_type y = predict(x);
        return predicted_class<output_size>(y.data());
    }

    /// Value equality of all parameters and state (so NaN != NaN and -0 == +0; compare bytes for bit identity).
    friend bool operator==(const model& a, const model& b) {
        const auto pa = a.parameters();
        const auto pb = b.parameters();
        for (std::size_t i = 0; i < parameter_count; ++i)
            if (pa[i] != pb[i]) return false;
        for (std::size_t i = 0; i < state_count; ++i)
            if (a.state_[i] != b.state_[i]) return false;
        return true;
    }

private:
    template <class U, class P, class F>
    static void visit_tensors(P* base, F& f) {
        boost::hana::for_each(Arch::reference_plan::types, [&](auto t) {
            using S = typename decltype(t)::type;
            if constexpr (S::parameter_count > 0) {
                S::describe_tensors([&](std::string_view name, std::size_t offset, const auto& dims) {
                    std::size_t n = 1;
                    for (auto d : dims) n *= d;
                    f(tensor_ref<U>{S::layer_index, name, std::span<const std::size_t>(dims.data(), dims.size()),
                                    std::span<U>(base + S::param_offset + offset, n)});
                });
            }
        });
    }

    template <class U, class P, class F>
    static void visit_state_tensors(P* base, F& f) {
        boost::hana::for_each(Arch::reference_plan::types, [&](auto t) {
            using S = typename decltype(t)::type;
            if constexpr (S::state_count > 0) {
                S::describe_state([&](std::string_view name, std::size_t offset, const auto& dims) {
                    std::size_t n = 1;
                    for (auto d : dims) n *= d;
                    f(tensor_ref<U>{S::layer_index, name, std::span<const std::size_t>(dims.data(), dims.size()),
                                    std::span<U>(base + Arch::reference_plan::state_offsets[S::position] + offset, n)});
                });
            }
        });
    }

    fixed_buffer<T, parameter_count> params_;
    fixed_buffer<T, state_count> state_;
};

}  // namespace typenet
