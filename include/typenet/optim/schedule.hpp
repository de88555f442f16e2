#pragma once
// Learning-rate schedules: the factor applied to the optimiser's learning rate at
// the start of each epoch (constant, step, cosine) or before every batch (one
// cycle). Large steps early move fast; small steps late settle into a minimum
// instead of bouncing around it. The one cycle (Smith and Topin's "super-
// convergence" schedule) rises from a small rate to the full one over the first
// part of the run, then falls to almost nothing along a cosine: the rise lets a
// large peak rate start without diverging, which is what makes short runs work.
#include <cmath>
#include <cstddef>
#include <numbers>
#include <stdexcept>

namespace typenet {

struct learning_rate_schedule {
    enum class kind { constant, step, cosine, one_cycle };
    kind type = kind::constant;
    std::size_t step_every = 10;  ///< step: multiply by step_factor every step_every epochs
    double step_factor = 0.1;
    double final_fraction = 0.0;    ///< cosine: the factor reached at the last epoch; one_cycle: at the last batch
    double warmup_fraction = 0.25;  ///< one_cycle: the share of the run's batches that the rise takes
    double start_fraction = 0.1;    ///< one_cycle: the factor at the first batch

    static learning_rate_schedule constant() { return {}; }
    static learning_rate_schedule step(std::size_t every, double factor) { return {kind::step, every, factor, 0}; }
    static learning_rate_schedule cosine(double final_fraction = 0.0) {
        return {kind::cosine, 10, 0.1, final_fraction};
    }
    static learning_rate_schedule one_cycle(double warmup_fraction = 0.25, double start_fraction = 0.1,
                                            double final_fraction = 0.002) {
        return {kind::one_cycle, 10, 0.1, final_fraction, warmup_fraction, start_fraction};
    }

    /// Whether the factor changes batch by batch (factor_at) rather than epoch by epoch.
    bool per_batch() const noexcept { return type == kind::one_cycle; }

    void validate() const {
        if (type == kind::step && (step_every == 0 || !(step_factor > 0)))
            throw std::invalid_argument("learning_rate_schedule: step needs step_every >= 1 and step_factor > 0");
        if (type == kind::cosine && !(final_fraction >= 0 && final_fraction <= 1))
            throw std::invalid_argument("learning_rate_schedule: cosine needs final_fraction in [0, 1]");
        if (type == kind::one_cycle && !(warmup_fraction >= 0 && warmup_fraction < 1 && start_fraction > 0 &&
                                         start_fraction <= 1 && final_fraction >= 0 && final_fraction <= 1))
            throw std::invalid_argument(
                "learning_rate_schedule: one_cycle needs warmup_fraction in [0, 1), start_fraction in (0, 1] and "
                "final_fraction in [0, 1]");
    }

    /// one_cycle's factor when `progress` of the run's batches are done (0 at the first
    /// batch, up to 1 at the end); for the others, the factor of its epoch.
    double factor_at(double progress, std::size_t epoch, std::size_t epochs) const {
        if (type != kind::one_cycle) return factor(epoch, epochs);
        if (progress < warmup_fraction) return start_fraction + (1 - start_fraction) * progress / warmup_fraction;
        const double t = warmup_fraction < 1 ? (progress - warmup_fraction) / (1 - warmup_fraction) : 1.0;
        return final_fraction + (1 - final_fraction) * 0.5 * (1 + std::cos(std::numbers::pi * (t < 1 ? t : 1.0)));
    }

    /// Factor for epoch `epoch` (0-based) of `epochs`.
    double factor(std::size_t epoch, std::size_t epochs) const {
        switch (type) {
            case kind::step:
                return std::pow(step_factor, static_cast<double>(epoch / step_every));
            case kind::cosine: {
                // Epoch 0 uses the full rate, the last epoch final_fraction of it.
                const double t = epochs > 1 ? static_cast<double>(epoch) / static_cast<double>(epochs - 1) : 0.0;
                return final_fraction + (1 - final_fraction) * 0.5 * (1 + std::cos(std::numbers::pi * t));
            }
            default:
                return 1.0;
        }
    }
};

}  // namespace typenet
