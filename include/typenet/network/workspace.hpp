#pragma once
// Everything a training step needs besides the parameters: the activations of
// every stage (backward reads them), the gradient flowing into each of them, the
// parameter gradients, and kernel scratch. All of it is sized from the type and a
// maximum batch given once; no pass allocates.
#include <array>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>

#include <boost/hana/for_each.hpp>

#include "../core/storage.hpp"
#include "plan.hpp"

namespace typenet {

/// Throws std::invalid_argument unless 1 <= batch <= capacity, naming `who`.
inline void check_batch_size(std::size_t batch, std::size_t capacity, const char* who) {
    if (batch == 0) throw std::invalid_argument(std::string(who) + ": batch size must be at least 1");
    if (batch > capacity)
        throw std::invalid_argument(std::string(who) + ": batch size " + std::to_string(batch) +
                                    " exceeds the workspace capacity " + std::to_string(capacity));
}

template <class Arch, class T = float, execution Mode = execution::fused>
class workspace {
public:
    using architecture = Arch;
    using value_type = T;
    using plan = typename Arch::template plan<Mode>;
    static constexpr std::size_t stage_count = plan::count;

    explicit workspace(std::size_t max_batch)
        : capacity_(max_batch),
          input_(max_batch * Arch::input_size),
          input_gradient_(max_batch * Arch::input_size),
          parameter_gradients_(Arch::parameter_count),
          scratch_(plan::max_scratch) {
        if (max_batch == 0) throw std::invalid_argument("workspace: max_batch must be at least 1");
        boost::hana::for_each(plan::types, [&](auto t) {
            using S = typename decltype(t)::type;
            if constexpr (!S::aliases_input) {
                outputs_[S::position] = aligned_buffer<T>(max_batch * S::output_shape::size);
                gradients_[S::position] = aligned_buffer<T>(max_batch * S::output_shape::size);
            }
            if constexpr (S::contextual) saved_[S::position] = aligned_buffer<T>(S::saved_size(max_batch));
        });
    }

    std::size_t capacity() const noexcept { return capacity_; }

    /// Where a batch is gathered before a forward pass (capacity x input size).
    T* input() noexcept { return input_.data(); }

    /// Binds the pass pointers: activation k (0 = the network input, k = output of
    /// stage k-1) and the gradient of the loss with respect to it. A stage that
    /// aliases its input (flatten) shares its input's buffers.
    void bind(const T* network_input, bool want_input_gradient) noexcept {
        activations_[0] = network_input;
        gradient_ptrs_[0] = want_input_gradient ? input_gradient_.data() : nullptr;
        boost::hana::for_each(plan::types, [&](auto t) {
            using S = typename decltype(t)::type;
            constexpr std::size_t k = S::position + 1;
            if constexpr (S::aliases_input) {
                activations_[k] = activations_[k - 1];
                gradient_ptrs_[k] = gradient_ptrs_[k - 1];
            } else {
                activations_[k] = outputs_[S::position].data();
                gradient_ptrs_[k] = gradients_[S::position].data();
            }
        });
    }

    /// Activation k as bound (k = 0 input ... stage_count network output).
    const T* activation(std::size_t k) const noexcept { return activations_[k]; }
    /// Writable output of stage s (never the network input: aliasing stages don't write).
    T* stage_output(std::size_t s) noexcept { return const_cast<T*>(activations_[s + 1]); }
    /// d loss / d activation k; null for k = 0 unless the input gradient was requested.
    T* gradient(std::size_t k) noexcept { return gradient_ptrs_[k]; }
    const T* gradient(std::size_t k) const noexcept { return gradient_ptrs_[k]; }

    const T* output() const noexcept { return activations_[stage_count]; }
    T* output_gradient() noexcept { return gradient_ptrs_[stage_count]; }
    const T* input_gradient() const noexcept { return input_gradient_.data(); }

    std::span<T> parameter_gradients() noexcept { return parameter_gradients_.span(); }
    std::span<const T> parameter_gradients() const noexcept { return parameter_gradients_.span(); }
    T* scratch() noexcept { return scratch_.data(); }
    /// What contextual stage s saved in its training forward for its backward (dropout mask, batch statistics).
    T* saved(std::size_t s) noexcept { return saved_[s].data(); }

    void check_batch(std::size_t batch, const char* who) const { check_batch_size(batch, capacity_, who); }

private:
    std::size_t capacity_;
    aligned_buffer<T> input_;
    aligned_buffer<T> input_gradient_;
    aligned_buffer<T> parameter_gradients_;
    aligned_buffer<T> scratch_;
    std::array<aligned_buffer<T>, stage_count> outputs_;
    std::array<aligned_buffer<T>, stage_count> gradients_;
    std::array<aligned_buffer<T>, stage_count> saved_;
    std::array<const T*, stage_count + 1> activations_{};
    std::array<T*, stage_count + 1> gradient_ptrs_{};
};

}  // namespace typenet
