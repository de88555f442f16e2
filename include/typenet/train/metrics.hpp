#pragma once
// Evaluation over a whole data set, in batches through one workspace.
#include <algorithm>
#include <concepts>
#include <cstddef>
#include <numeric>
#include <span>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "../loss/loss.hpp"
#include "../network/batch_inference.hpp"
#include "../network/model.hpp"
#include "../network/passes.hpp"

namespace typenet {

/// Samples per forward pass of evaluate, accuracy and confusion_matrix unless told
/// otherwise; fit's validation passes use it too.
inline constexpr std::size_t evaluation_batch_size = 256;

struct evaluation {
    double loss = 0;
    double accuracy = 0;  ///< classifiers only (0 otherwise)
    std::size_t samples = 0;
};

namespace detail {

/// Runs the model over rows `indices` of data in batches, each split across
/// `threads` (batch_predictor); calls on_batch(outputs, batch_indices) for each.
template <class Arch, class T, class Data, class F>
void for_each_output_batch(const model<Arch, T>& m, const Data& data, std::span<const std::size_t> indices,
                           std::size_t batch_size, F&& on_batch, std::size_t threads = 1) {
    constexpr std::size_t inputs = Arch::input_size, outputs = Arch::output_size;
    const std::size_t cap = std::max<std::size_t>(1, std::min(batch_size, indices.size()));
    batch_predictor<Arch, T> predictor(m, cap, threads);
    std::vector<T> x(cap * inputs), y(cap * outputs);
    for (std::size_t start = 0; start < indices.size(); start += cap) {
        const std::size_t n = std::min(cap, indices.size() - start);
        data.gather_inputs(indices.data() + start, n, x.data());
        predictor.predict(std::span<const T>(x.data(), n * inputs), std::span<T>(y.data(), n * outputs));
        on_batch(static_cast<const T*>(y.data()), indices.subspan(start, n));
    }
}

inline std::vector<std::size_t> all_indices(std::size_t n) {
    std::vector<std::size_t> idx(n);
    std::iota(idx.begin(), idx.end(), std::size_t{0});
    return idx;
}

}  // namespace detail

/// Mean loss (and accuracy for classifiers) of the model over rows `indices` of data.
/// `threads` splits each batch (outputs do not depend on it; see batch_predictor).
template <class Arch, class T, class Data, class Loss>
evaluation evaluate(const model<Arch, T>& m, const Data& data, Loss, std::span<const std::size_t> indices,
                    std::size_t batch_size = evaluation_batch_size, std::size_t threads = 1) {
    constexpr std::size_t outputs = Arch::output_size;
    (void)sizeof(typename Loss::template fits<typename Arch::output_shape>);
    evaluation e;
    double loss_sum = 0;
    std::size_t correct = 0;
    const std::size_t width = Loss::is_classifier ? 1 : outputs;
    std::vector<typename Data::target_type> targets(std::min(batch_size, indices.size()) * width);
    detail::for_each_output_batch(
        m, data, indices, batch_size,
        [&](const T* out, std::span<const std::size_t> idx) {
            data.gather_targets(idx.data(), idx.size(), targets.data());
            loss_sum += Loss::template evaluate<outputs>(out, targets.data(), static_cast<T*>(nullptr), idx.size()) *
                        static_cast<double>(idx.size());
            if constexpr (Loss::is_classifier)
                for (std::size_t b = 0; b < idx.size(); ++b)
                    correct += predicted_class<outputs>(out + b * outputs) == targets[b] ? 1 : 0;
        },
        threads);
    e.samples = indices.size();
    e.loss = indices.empty() ? 0 : loss_sum / static_cast<double>(indices.size());
    e.accuracy = indices.empty() ? 0 : static_cast<double>(correct) / static_cast<double>(indices.size());
    return e;
}

template <class Arch, class T, class Data, class Loss>
evaluation evaluate(const model<Arch, T>& m, const Data& data, Loss loss,
                    std::size_t batch_size = evaluation_batch_size, std::size_t threads = 1) {
    data.validate(Arch::input_size, Loss::is_classifier ? class_count<Arch::output_size> : Arch::output_size,
                  "evaluate");
    const auto idx = detail::all_indices(data.size());
    return evaluate(m, data, loss, std::span<const std::size_t>(idx), batch_size, threads);
}

/// Fraction of samples whose predicted class is their label.
template <class Arch, class T, class Data>
requires std::same_as<typename Data::target_type, label_t>
double accuracy(const model<Arch, T>& m, const Data& data, std::size_t batch_size = evaluation_batch_size,
                std::size_t threads = 1) {
    constexpr std::size_t outputs = Arch::output_size;
    data.validate(Arch::input_size, class_count<outputs>, "accuracy");
    const auto idx = detail::all_indices(data.size());
    std::size_t correct = 0;
    detail::for_each_output_batch(
        m, data, std::span<const std::size_t>(idx), batch_size,
        [&](const T* out, std::span<const std::size_t> batch) {
            for (std::size_t b = 0; b < batch.size(); ++b)
                correct += predicted_class<outputs>(out + b * outputs) == data.labels[batch[b]];
        },
        threads);
    return static_cast<double>(correct) / static_cast<double>(data.size());
}

/// counts(true class, predicted class) over the data set.
template <class Arch, class T, class Data>
requires std::same_as<typename Data::target_type, label_t> xt::xtensor<std::size_t, 2> confusion_matrix(
    const model<Arch, T>& m, const Data& data, std::size_t batch_size = evaluation_batch_size,
    std::size_t threads = 1) {
    constexpr std::size_t outputs = Arch::output_size;
    constexpr std::size_t classes = class_count<outputs>;
    data.validate(Arch::input_size, classes, "confusion_matrix");
    xt::xtensor<std::size_t, 2> counts = xt::zeros<std::size_t>({classes, classes});
    const auto idx = detail::all_indices(data.size());
    detail::for_each_output_batch(
        m, data, std::span<const std::size_t>(idx), batch_size,
        [&](const T* out, std::span<const std::size_t> batch) {
            for (std::size_t b = 0; b < batch.size(); ++b)
                ++counts(data.labels[batch[b]], predicted_class<outputs>(out + b * outputs));
        },
        threads);
    return counts;
}

}  // namespace typenet
