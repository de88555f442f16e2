#pragma once
// Learning-rate schedules: the factor applied to the optimiser's learning rate at
// the start of each epoch. Large steps early move fast; small steps late settle
// into a minimum instead of bouncing around it.
#include <cmath>
#include <cstddef>
#include <numbers>
#include <stdexcept>

namespace typenet {

struct learning_rate_schedule {
    enum class kind { constant, step, cosine };
    kind type = kind::constant;
    std::size_t step_every = 10;  ///< step: multiply by step_factor every step_every epochs
    double step_factor = 0.1;
    double final_fraction = 0.0;  ///< cosine: the factor reached at the last epoch

    static learning_rate_schedule constant() { return {}; }
    static learning_rate_schedule step(std::size_t every, double factor) { return {kind::step, every, factor, 0}; }
    static learning_rate_schedule cosine(double final_fraction = 0.0) {
        return {kind::cosine, 10, 0.1, final_fraction};
    }

    void validate() const {
        if (type == kind::step && (step_every == 0 || !(step_factor > 0)))
            throw std::invalid_argument("learning_rate_schedule: step needs step_every >= 1 and step_factor > 0");
        if (type == kind::cosine && !(final_fraction >= 0 && final_fraction <= 1))
            throw std::invalid_argument("learning_rate_schedule: cosine needs final_fraction in [0, 1]");
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
