#pragma once
// The laws every layer obeys, each one test over a list of cases (laws/law_cases.hpp),
// included by the test_layer_laws sources, one per group of cases (so that the groups
// compile in parallel), each defining TYPENET_LAW_CASES (the list) and
// TYPENET_LAW_GROUP (a name for the tests) first. The laws: the compile-time constants and the stable name, the
// gradient check in double, the fused plan against the reference plan, no heap allocation in predict or a training
// step, and the weight-file round trip with refusal of another architecture's file. The exported header is held to its
// law by test_exported (the export fixture writes every case). Tests of what is particular to one layer stay in the
// other programs.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include <catch2/catch.hpp>

#include <typenet/typenet.hpp>

#include "../support.hpp"
#include "law_cases.hpp"

namespace laws {

using test_support::random_labels;
using test_support::random_values;

constexpr std::size_t batch = 5;

/// Targets for the case's loss: labels for classifiers, values in [0, 1] for mse.
template <class Case, class T>
std::vector<typename Case::loss::template target<T>> targets_for(std::uint64_t seed) {
    using Net = typename Case::net;
    if constexpr (Case::loss::is_classifier) {
        return random_labels(batch, Net::output_size, seed);
    } else {
        auto v = random_values<T>(batch * Net::output_size, seed);
        for (auto& x : v) x = (x + T(1)) / T(2);
        return v;
    }
}

/// A model whose biases and batch_norm parameters are not at their initial values,
/// so that every parameter matters to the laws.
template <class Net, class T>
model<Net, T> perturbed_model(std::uint64_t seed) {
    model<Net, T> m(seed);
    random_engine rng(seed + 100);
    for (auto& p : m.parameters()) p += static_cast<T>(rng.uniform(-0.05, 0.05));
    for (auto& s : m.state()) s += static_cast<T>(rng.uniform(0.0, 0.1));
    return m;
}

/// Forward (training or inference) and, in training, backward on one plan; outputs and
/// parameter gradients.
template <class Case, execution Mode>
std::pair<std::vector<float>, std::vector<float>> run_plan(const model<typename Case::net, float>& m,
                                                           const std::vector<float>& x, bool training) {
    using Net = typename Case::net;
    const auto y = targets_for<Case, float>(7);
    workspace<Net, float, Mode> ws(batch);
    random_engine masks(3);
    const pass_mode<float> mode =
        training ? pass_mode<float>{true, m.state().data(), nullptr, &masks} : m.inference_mode();
    forward_pass(m.parameters().data(), ws, x.data(), batch, false, mode);
    std::vector<float> out(ws.output(), ws.output() + batch * Net::output_size);
    if (!training) return {out, {}};
    Case::loss::template evaluate<Net::output_size>(ws.output(), y.data(), ws.output_gradient(), batch);
    backward_pass(m.parameters().data(), ws, batch);
    return {out, std::vector<float>(ws.parameter_gradients().begin(), ws.parameter_gradients().end())};
}

inline double largest_relative_difference(const std::vector<float>& a, const std::vector<float>& b) {
    REQUIRE(a.size() == b.size());
    double scale = 1e-3, worst = 0;
    for (std::size_t i = 0; i < a.size(); ++i) scale = std::max(scale, static_cast<double>(std::fabs(a[i])));
    for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(double(a[i]) - double(b[i])) / scale);
    return worst;
}

/// Another architecture, whose weight file each case must refuse (and which must refuse each case's).
using stranger = sequential<input<3>, dense<2>>;

}  // namespace laws

using namespace laws;

TEMPLATE_LIST_TEST_CASE("layer law: compile-time constants and the stable name (" TYPENET_LAW_GROUP ")", "[laws]",
                        TYPENET_LAW_CASES) {
    using Net = typename TestType::net;
    static_assert(Net::parameter_count == TestType::parameters, "the network's parameter count, worked out by hand");
    static_assert(layer<typename TestType::layer>);
    const std::string spelled{TestType::spelling.view()};
    INFO(type_name<Net>());
    CHECK(type_name<typename TestType::layer>() == spelled);
    CHECK(model<Net>::parameter_count == TestType::parameters);
    CHECK(Net::flops > 0);
    // Every stage of both plans is checked against the protocol when the plan is built.
    CHECK(Net::reference_plan::count == Net::layer_count);
    CHECK(Net::fused_plan::parameter_count == Net::reference_plan::parameter_count);
}

TEMPLATE_LIST_TEST_CASE("layer law: gradient check in double (" TYPENET_LAW_GROUP ")", "[laws]", TYPENET_LAW_CASES) {
    using Net = typename TestType::net;
    const auto m = perturbed_model<Net, double>(11);
    const auto x = random_values<double>(batch * Net::input_size, 12);
    const auto y = targets_for<TestType, double>(13);
    const auto r = gradient_check(m, typename TestType::loss{}, std::span<const double>(x),
                                  std::span<const typename TestType::loss::template target<double>>(y));
    std::size_t checked = 0;
    for (const auto& l : r.layers) {
        INFO("layer " << l.layer_index << " " << l.layer << ": parameter error " << l.parameter_error
                      << ", input error " << l.input_error << ", kinks skipped " << l.kinks_skipped);
        CHECK(l.parameter_error <= 1e-6);
        CHECK(l.input_error <= 1e-6);
        CHECK(l.inputs_checked > 0);
        checked += l.parameters_checked + l.inputs_checked;
    }
    INFO(r.kinks_skipped() << " of " << checked << " values left out at kinks");
    CHECK(r.kinks_skipped() * 20 <= checked);
}

TEMPLATE_LIST_TEST_CASE("layer law: the fused plan computes what the reference plan computes (" TYPENET_LAW_GROUP ")",
                        "[laws]", TYPENET_LAW_CASES) {
    using Net = typename TestType::net;
    const auto m = perturbed_model<Net, float>(21);
    const auto x = random_values<float>(batch * Net::input_size, 22);
    for (const bool training : {true, false}) {
        INFO((training ? "training" : "inference"));
        const auto fused = run_plan<TestType, execution::fused>(m, x, training);
        const auto reference = run_plan<TestType, execution::reference>(m, x, training);
        CHECK(largest_relative_difference(fused.first, reference.first) <= 1e-5);
        if (training) CHECK(largest_relative_difference(fused.second, reference.second) <= 1e-4);
    }
    // predict (one sample from stack buffers: a block keeps its body in the forward scratch)
    // against the batched inference through a workspace.
    const auto batched = run_plan<TestType, execution::fused>(m, x, false).first;
    std::vector<float> one_by_one;
    for (std::size_t i = 0; i < batch; ++i) {
        const auto y = m.predict(std::span<const float>(x.data() + i * Net::input_size, Net::input_size));
        one_by_one.insert(one_by_one.end(), y.begin(), y.end());
    }
    CHECK(largest_relative_difference(one_by_one, batched) <= 1e-5);
    // The inference network (batch_norm folded, dropout dropped, in blocks too) computes the same.
    const auto folded = fold_for_inference(m);
    std::vector<float> by_folded;
    for (std::size_t i = 0; i < batch; ++i) {
        const auto y = folded.predict(std::span<const float>(x.data() + i * Net::input_size, Net::input_size));
        by_folded.insert(by_folded.end(), y.begin(), y.end());
    }
    CHECK(largest_relative_difference(by_folded, batched) <= 1e-4);
}

TEMPLATE_LIST_TEST_CASE("layer law: predict and a training step allocate nothing (" TYPENET_LAW_GROUP ")", "[laws]",
                        TYPENET_LAW_CASES) {
    using Net = typename TestType::net;
    model<Net> m = perturbed_model<Net, float>(31);
    const auto x = random_values<float>(batch * Net::input_size, 32);
    const auto y = targets_for<TestType, float>(33);
    trainer<Net, float, typename TestType::loss, sgd> t(m, typename TestType::loss{}, sgd{.learning_rate = 0.01},
                                                        batch);
    t.step(x.data(), y.data(), batch);  // warm
    const std::size_t before = test_support::allocations;
    float sink = 0;
    for (int i = 0; i < 3; ++i) {
        CHECK(t.step(x.data(), y.data(), batch).finite);
        sink += m.predict(std::span<const float>(x.data(), Net::input_size))[0];
    }
    CHECK(test_support::allocations - before == 0);
    CHECK(std::isfinite(sink));
}

TEMPLATE_LIST_TEST_CASE("layer law: weights round-trip and another architecture's file is refused (" TYPENET_LAW_GROUP
                        ")",
                        "[laws]", TYPENET_LAW_CASES) {
    using Net = typename TestType::net;
    const test_support::temporary_directory dir;
    const auto original = perturbed_model<Net, float>(41);
    save(original, dir / "case.tnw");
    model<Net> loaded(42);
    load(loaded, dir / "case.tnw");
    CHECK(std::ranges::equal(loaded.parameters(), original.parameters()));
    CHECK(std::ranges::equal(loaded.state(), original.state()));

    model<stranger> other(43);
    const std::vector<float> other_before(other.parameters().begin(), other.parameters().end());
    CHECK_THROWS_AS(load(other, dir / "case.tnw"), weights_error);
    CHECK(std::ranges::equal(other.parameters(), other_before));

    save(other, dir / "stranger.tnw");
    CHECK_THROWS_AS(load(loaded, dir / "stranger.tnw"), weights_error);
    CHECK(std::ranges::equal(loaded.parameters(), original.parameters()));
}
