#pragma once
// In-memory data sets: one sample per row of `inputs` (images flattened
// channel-major, as the network reads them), with class labels or real targets.
//
// What trainers and evaluation ask of a data set (labeled_images.hpp has a third):
// size(), features(), gather_inputs(indices, n, out) writing rows as the network's
// value type, gather_targets(indices, n, out), validate(width, outputs, who) and
// target_type.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include <xtensor/xtensor.hpp>

namespace typenet {

using label_t = std::uint32_t;

namespace detail {

/// Rows indices[0, n) of a samples x features array, one after another at out:
/// a batch as the network reads it.
template <class T>
void copy_rows(const T* rows, std::size_t features, const std::size_t* indices, std::size_t n, T* out) {
    for (std::size_t i = 0; i < n; ++i)
        std::memcpy(out + i * features, rows + indices[i] * features, features * sizeof(T));
}

/// labels[indices[i]] for i in [0, n), at out.
inline void gather_labels(const std::vector<label_t>& labels, const std::size_t* indices, std::size_t n, label_t* out) {
    for (std::size_t i = 0; i < n; ++i) out[i] = labels[indices[i]];
}

/// Throws std::invalid_argument unless a classification set of `samples` rows has
/// `width` features per row and one label below `classes` per row.
inline void validate_labeled(std::size_t samples, std::size_t features, const std::vector<label_t>& labels,
                             std::size_t width, std::size_t classes, const char* who) {
    const std::string w(who);
    if (samples == 0) throw std::invalid_argument(w + ": the data set is empty");
    if (features != width)
        throw std::invalid_argument(w + ": inputs have " + std::to_string(features) +
                                    " features per sample, the network's input needs " + std::to_string(width));
    if (labels.size() != samples)
        throw std::invalid_argument(w + ": " + std::to_string(labels.size()) + " labels for " +
                                    std::to_string(samples) + " samples");
    for (std::size_t i = 0; i < labels.size(); ++i)
        if (labels[i] >= classes)
            throw std::invalid_argument(w + ": label " + std::to_string(labels[i]) + " of sample " + std::to_string(i) +
                                        " is not below the number of classes (" + std::to_string(classes) + ")");
}

}  // namespace detail

/// Whether Data can write a batch of its inputs as T (what trainers and evaluation call).
template <class Data, class T>
concept gathers_inputs_as = requires(const Data& d, const std::size_t* indices, T* out) {
    d.gather_inputs(indices, std::size_t{}, out);
};

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
        detail::gather_labels(labels, indices, n, out);
    }

    /// Copies rows indices[0, n) one after another to out (trainer and evaluation batches).
    void gather_inputs(const std::size_t* indices, std::size_t n, T* out) const {
        detail::copy_rows(inputs.data(), features(), indices, n, out);
    }

    /// Throws std::invalid_argument unless every row has `width` features and a label < classes.
    void validate(std::size_t width, std::size_t classes, const char* who) const {
        detail::validate_labeled(size(), features(), labels, width, classes, who);
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

    void gather_inputs(const std::size_t* indices, std::size_t n, T* out) const {
        detail::copy_rows(inputs.data(), features(), indices, n, out);
    }

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
