#pragma once
// Numerical gradient check: the analytic gradients of the reference (unfused)
// plan against central differences (f(x+h) - f(x-h)) / 2h, all in double
// precision, reported layer by layer: for every layer the error of its parameter
// gradients and of the gradient with respect to its input.
//
// Error of one value: |analytic - numeric| / max(|analytic|, |numeric|, floor).
// Networks with dropout or batch_norm are checked in training mode: batch_norm
// with the batch's statistics (they depend on the inputs, and the check includes
// that), dropout with one fixed mask (drawn once, then reused by every probe).
//
// The floor (default 1e-4) keeps values that are zero or nearly so (a dead ReLU,
// a zero-margin hinge term) from turning rounding noise into huge relative errors.
//
// Kinks. Where the loss is not differentiable in a component (ReLU zeros tied inside a
// max-pool window, a hinge margin of exactly zero), the central difference is no
// derivative at all and the error there says nothing about the code. Such components
// are found by how the one-sided differences disagree: with d(s) = fwd(s) - bwd(s) =
// (f(x+s) - 2 f(x) + f(x-s)) / s, a smooth loss gives d(h) = 10 d(h/10) up to O(h^2)
// terms, and a kink within the step does not (its jump in slope does not shrink with
// s). Only components whose error exceeds `kink_suspect` are probed again, at h/10;
// those that fail the test are left out of the error and counted (kinks_skipped). A
// real bug in a backward pass (a wrong sign, a missing factor) is smooth, so the
// one-sided differences agree and its error is reported.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <boost/hana/for_each.hpp>

#include "../core/type_name.hpp"
#include "../network/model.hpp"
#include "../network/passes.hpp"

namespace typenet {

struct gradient_check_options {
    double step = 1e-5;            ///< h of the central difference
    double floor = 1e-4;           ///< see the file comment
    std::size_t max_values = 200;  ///< per tensor checked (evenly spaced); 0 = all
    std::uint64_t mask_seed = 1;   ///< seeds the one dropout mask the check holds fixed
    double kink_suspect = 1e-7;    ///< errors above this are tested for a kink (file comment)
    double kink_tolerance = 1e-3;  ///< |d(h) - 10 d(h/10)| above this, relative to the slope: a kink
};

struct layer_gradient_error {
    std::size_t layer_index = 0;
    std::string layer;  ///< e.g. "dense<16>"
    std::size_t parameters_checked = 0;
    double parameter_error = 0;  ///< max over the checked parameters (0 if it has none)
    std::size_t inputs_checked = 0;
    double input_error = 0;         ///< max over the checked values of d loss / d layer input
    std::size_t kinks_skipped = 0;  ///< checked values left out of both errors: the loss has a kink there
};

struct gradient_check_result {
    std::vector<layer_gradient_error> layers;
    double max_error() const {
        double e = 0;
        for (const auto& l : layers) e = std::max({e, l.parameter_error, l.input_error});
        return e;
    }
    std::size_t kinks_skipped() const {
        std::size_t n = 0;
        for (const auto& l : layers) n += l.kinks_skipped;
        return n;
    }
};

namespace detail {

inline double gradient_error(double analytic, double numeric, double floor) {
    return std::fabs(analytic - numeric) / std::max({std::fabs(analytic), std::fabs(numeric), floor});
}

inline std::vector<std::size_t> spaced_indices(std::size_t n, std::size_t max_values) {
    std::vector<std::size_t> idx;
    if (max_values == 0 || n <= max_values) {
        for (std::size_t i = 0; i < n; ++i) idx.push_back(i);
    } else {
        for (std::size_t k = 0; k < max_values; ++k) idx.push_back(k * n / max_values);
    }
    return idx;
}

/// The error of one component whose value is v, given the loss at a value: the central
/// difference against `analytic`, or nothing (a kink: see the file comment).
template <class LossAt>
std::optional<double> component_error(double& v, double analytic, double loss_here, LossAt loss_at,
                                      const gradient_check_options& o) {
    const double saved = v;
    const auto differences = [&](double s) {
        v = saved + s;
        const double up = loss_at();
        v = saved - s;
        const double down = loss_at();
        v = saved;
        return std::pair{(up - down) / (2 * s), (up - 2 * loss_here + down) / s};
    };
    const auto [central, disagreement] = differences(o.step);
    const double error = gradient_error(analytic, central, o.floor);
    if (error <= o.kink_suspect) return error;
    const auto [fine_central, fine_disagreement] = differences(o.step / 10);
    const double slope = std::max({std::fabs(central), std::fabs(fine_central), std::fabs(analytic), o.floor});
    if (std::fabs(disagreement - 10 * fine_disagreement) > o.kink_tolerance * slope) return std::nullopt;
    return error;
}

/// Forward from stage `first` on (earlier activations are taken as they are).
template <class Arch, class T, execution Mode>
void forward_from(std::size_t first, const T* params, workspace<Arch, T, Mode>& ws, std::size_t batch,
                  const pass_mode<T>& mode) {
    using plan = typename workspace<Arch, T, Mode>::plan;
    boost::hana::for_each(plan::types, [&](auto t) {
        using S = typename decltype(t)::type;
        if constexpr (!S::aliases_input)
            if (S::position >= first) forward_stage<S>(params, ws, batch, mode);
    });
}

}  // namespace detail

/// Checks `m` on the batch x (batch x input_size values, row-major) with targets y
/// (one label per sample for classifiers, batch x outputs values for mse).
template <class Arch, class T, class Loss, class Target>
gradient_check_result gradient_check(const model<Arch, T>& m, Loss, std::span<const T> x, std::span<const Target> y,
                                     gradient_check_options options = {}) {
    using D = double;
    constexpr std::size_t inputs = Arch::input_size;
    constexpr std::size_t outputs = Arch::output_size;
    using plan = typename Arch::reference_plan;
    (void)sizeof(typename Loss::template fits<typename Arch::output_shape>);
    if (x.empty() || x.size() % inputs != 0)
        throw std::invalid_argument("gradient_check: x must hold a whole number of samples of " +
                                    std::to_string(inputs) + " values");
    const std::size_t batch = x.size() / inputs;
    const std::size_t target_width = Loss::is_classifier ? 1 : outputs;
    if (y.size() != batch * target_width)
        throw std::invalid_argument("gradient_check: y must hold " + std::to_string(batch * target_width) + " targets");

    // Everything in double: copy parameters, inputs and targets.
    model<Arch, D> md;
    std::copy(m.parameters().begin(), m.parameters().end(), md.parameters().begin());
    std::vector<D> xd(x.begin(), x.end());
    using DT = typename Loss::template target<D>;
    std::vector<DT> yd(y.begin(), y.end());
    D* params = md.parameters().data();

    // Analytic gradients.
    // Training mode (see the file comment); running statistics are not updated.
    random_engine mask_rng(options.mask_seed), probe_rng(options.mask_seed);
    const pass_mode<D> mode{true, nullptr, nullptr, &mask_rng};
    const pass_mode<D> probe_first{true, nullptr, nullptr, &probe_rng};  // draws the same masks
    const pass_mode<D> probe_mode{true, nullptr, nullptr, nullptr};      // reuses them
    workspace<Arch, D, execution::reference> ws(batch);
    forward_pass(static_cast<const D*>(params), ws, xd.data(), batch, true, mode);
    Loss::template evaluate<outputs>(ws.output(), yd.data(), ws.output_gradient(), batch);
    backward_pass(static_cast<const D*>(params), ws, batch);

    // Numerical ones, on a second workspace.
    workspace<Arch, D, execution::reference> probe(batch);
    auto loss_at = [&](std::size_t first_stage) {
        detail::forward_from(first_stage, static_cast<const D*>(params), probe, batch, probe_mode);
        return Loss::template evaluate<outputs>(probe.output(), yd.data(), static_cast<D*>(nullptr), batch);
    };
    forward_pass(static_cast<const D*>(params), probe, xd.data(), batch, false, probe_first);

    gradient_check_result result;
    boost::hana::for_each(plan::types, [&](auto t) {
        using S = typename decltype(t)::type;
        layer_gradient_error e;
        e.layer_index = S::layer_index;
        e.layer = type_name<typename S::layer>();

        const D loss_here = loss_at(S::position);
        const auto record = [&](std::optional<double> error, double& worst, std::size_t& checked) {
            ++checked;
            if (error)
                worst = std::max(worst, *error);
            else
                ++e.kinks_skipped;
        };
        const auto probe_from_here = [&] { return loss_at(S::position); };

        // Parameters of this layer.
        const D* analytic_p = ws.parameter_gradients().data() + S::param_offset;
        for (std::size_t i : detail::spaced_indices(S::parameter_count, options.max_values))
            record(detail::component_error(params[S::param_offset + i], analytic_p[i], loss_here, probe_from_here,
                                           options),
                   e.parameter_error, e.parameters_checked);
        loss_at(S::position);  // restore the probe's activations

        // The layer's input (for stage 0, the network input).
        D* act = S::position == 0 ? xd.data() : probe.stage_output(S::position - 1);
        const D* analytic_x = ws.gradient(S::position);
        const std::size_t n = batch * S::input_shape::size;
        for (std::size_t i : detail::spaced_indices(n, options.max_values))
            record(detail::component_error(act[i], analytic_x[i], loss_here, probe_from_here, options), e.input_error,
                   e.inputs_checked);
        loss_at(S::position);
        result.layers.push_back(e);
    });
    return result;
}

}  // namespace typenet
