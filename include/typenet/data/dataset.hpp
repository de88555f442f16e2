#pragma once
// In-memory data sets: one sample per row of `inputs` (images flattened
// channel-major, as the network reads them), with class labels or real targets.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <xtensor/xtensor.hpp>

namespace typenet {

using label_t = std::uint32_t;

/// Samples with a class label each (classification).
template <class T = float>
struct labeled_data {
    using value_type = T;
    using target_type = label_t;

    xt::xtensor<T, 2> inputs;     ///< samples x features
    std::vector<label_t> labels;  ///< one per sample

    std::size_t size() const noexcept { return inputs.shape(0); }
    std::size_t features() const noexcept { return inputs.shape(1); }
    const T* sample(std::size_t i) const noexcept { return inputs.data() + i * features(); }
    static constexpr std::size_t target_width(std::size_t) noexcept { return 1; }

    void gather_targets(const std::size_t* indices, std::size_t n, label_t* out) const {
        for (std::size_t i = 0; i < n; ++i) out[i] = labels[indices[i]];
    }

    /// Throws std::invalid_argument unless every row has `width` features and a label < classes.
    void validate(std::size_t width, std::size_t classes, const char* who) const {
        const std::string w(who);
        if (size() == 0) throw std::invalid_argument(w + ": the data set is empty");
        if (features() != width)
            throw std::invalid_argument(w + ": inputs have " + std::to_string(features()) +
                                        " features per sample, the network's input needs " + std::to_string(width));
        if (labels.size() != size())
            throw std::invalid_argument(w + ": " + std::to_string(labels.size()) + " labels for " +
                                        std::to_string(size()) + " samples");
        for (std::size_t i = 0; i < labels.size(); ++i)
            if (labels[i] >= classes)
                throw std::invalid_argument(w + ": label " + std::to_string(labels[i]) + " of sample " +
                                            std::to_string(i) + " is not below the number of classes (" +
                                            std::to_string(classes) + ")");
    }
};

/// Samples with a vector of real targets each (regression).
template <class T = float>
struct regression_data {
    using value_type = T;
    using target_type = T;

    xt::xtensor<T, 2> inputs;   ///< samples x features
    xt::xtensor<T, 2> targets;  ///< samples x outputs

    std::size_t size() const noexcept { return inputs.shape(0); }
    std::size_t features() const noexcept { return inputs.shape(1); }
    const T* sample(std::size_t i) const noexcept { return inputs.data() + i * features(); }
    std::size_t target_width(std::size_t) const noexcept { return targets.shape(1); }

    void gather_targets(const std::size_t* indices, std::size_t n, T* out) const {
        const std::size_t w = targets.shape(1);
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = 0; j < w; ++j) out[i * w + j] = targets(indices[i], j);
    }

    void validate(std::size_t width, std::size_t outputs, const char* who) const {
        const std::string w(who);
        if (size() == 0) throw std::invalid_argument(w + ": the data set is empty");
        if (features() != width)
            throw std::invalid_argument(w + ": inputs have " + std::to_string(features()) +
                                        " features per sample, the network's input needs " + std::to_string(width));
        if (targets.shape(0) != size() || targets.shape(1) != outputs)
            throw std::invalid_argument(w + ": targets must be " + std::to_string(size()) + " x " +
                                        std::to_string(outputs) + " (samples x network outputs)");
    }
};

}  // namespace typenet
