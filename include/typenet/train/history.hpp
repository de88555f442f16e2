#pragma once
#include <cstddef>
#include <optional>
#include <vector>

namespace typenet {

/// What one epoch of training measured.
struct epoch_record {
    std::size_t epoch = 0;                      ///< 1-based
    double loss = 0;                            ///< mean training loss over the epoch's batches
    std::optional<double> accuracy;             ///< training accuracy (classifiers)
    std::optional<double> validation_loss;      ///< when a validation split is used
    std::optional<double> validation_accuracy;  ///< when a validation split is used (classifiers)
    double learning_rate = 0;                   ///< the optimiser's rate during the epoch
    double seconds = 0;                         ///< wall time of the epoch
    double samples_per_second = 0;
};

/// Per-epoch record of a fit() run.
struct history {
    std::vector<epoch_record> epochs;
    const epoch_record& last() const { return epochs.back(); }
    std::size_t size() const noexcept { return epochs.size(); }
};

}  // namespace typenet
