// Architectures as types: shapes, sizes and costs are compile-time constants.
#include <catch2/catch.hpp>

#include <typenet/typenet.hpp>

#include "fashion_models.hpp"

using namespace typenet;

namespace {

using linear_regressor = sequential<input<1>, dense<1>>;
static_assert(linear_regressor::input_size == 1);
static_assert(linear_regressor::output_size == 1);
static_assert(linear_regressor::parameter_count == 2);
static_assert(linear_regressor::layer_count == 1);
static_assert(linear_regressor::flops == 2 + 1);

using mlp = sequential<input<784>, dense<128>, relu, dense<10>>;
static_assert(std::is_same_v<mlp::input_shape, shape<784>>);
static_assert(std::is_same_v<mlp::output_shape, shape<10>>);
static_assert(mlp::layer_count == 3);
static_assert(mlp::parameter_count == 784 * 128 + 128 + 128 * 10 + 10);
static_assert(mlp::parameter_bytes<float> == 4 * 101770);
// forward FLOPs: 2*K*N for each product, N for each bias add, 1 per ReLU output.
static_assert(mlp::flops == (2 * 784 * 128 + 128) + 128 + (2 * 128 * 10 + 10));

using image_mlp = sequential<input<1, 28, 28>, flatten, dense<256>, tanh_act, dense<128>, sigmoid, dense<10>, softmax>;
static_assert(std::is_same_v<image_mlp::input_shape, shape<1, 28, 28>>);
static_assert(image_mlp::input_size == 784);
static_assert(std::is_same_v<image_mlp::output_shape, shape<10>>);
static_assert(image_mlp::layer_count == 7);
static_assert(image_mlp::parameter_count == 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10);

using spiral_net = sequential<input<2>, dense<16>, tanh_act, dense<16>, tanh_act, dense<2>>;
static_assert(spiral_net::parameter_count == (2 * 16 + 16) + (16 * 16 + 16) + (16 * 2 + 2));
static_assert(spiral_net::output_size == 2);

// The fused plan merges dense+activation pairs; the reference plan keeps one stage per layer.
static_assert(mlp::reference_plan::count == 3);
static_assert(mlp::fused_plan::count == 2);
static_assert(spiral_net::fused_plan::count == 3);
static_assert(image_mlp::reference_plan::count == 7);
static_assert(image_mlp::fused_plan::count == 5);  // flatten, dense+tanh, dense+sigmoid, dense, softmax
static_assert(mlp::fused_plan::parameter_count == mlp::reference_plan::parameter_count);

// Costs a user can assert on: a model that must fit a budget.
static_assert(mlp::parameter_bytes<float> < 512 * 1024, "the MLP fits in 512 KiB");

}  // namespace

TEST_CASE("models are sized from their type and 64-byte aligned", "[model]") {
    model<mlp> m(1);
    CHECK(m.parameters().size() == mlp::parameter_count);
    CHECK(reinterpret_cast<std::uintptr_t>(m.parameters().data()) % 64 == 0);
    model<mlp, double> md(1);
    CHECK(md.parameters().size() == mlp::parameter_count);
    CHECK(reinterpret_cast<std::uintptr_t>(md.parameters().data()) % 64 == 0);
}

TEST_CASE("tensors are visited in layer order with their shapes", "[model]") {
    model<image_mlp> m(3);
    std::vector<std::string> seen;
    std::size_t total = 0;
    m.for_each_tensor([&](const tensor_ref<float>& t) {
        seen.push_back(std::to_string(t.layer_index) + ":" + std::string(t.name) + ":" +
                       std::to_string(t.values.size()));
        total += t.values.size();
    });
    CHECK(seen == std::vector<std::string>{"1:weights:200704", "1:bias:256", "3:weights:32768", "3:bias:128",
                                           "5:weights:1280", "5:bias:10"});
    CHECK(total == image_mlp::parameter_count);
}

TEST_CASE("initialisation is seeded: He before ReLU, Glorot otherwise, zero bias", "[model]") {
    model<mlp> a(7), b(7), c(8);
    CHECK(a == b);
    CHECK_FALSE(a == c);
    // first layer is followed by relu: He normal, std sqrt(2/784)
    double sum2 = 0;
    std::size_t n = 0;
    a.for_each_tensor([&](const tensor_ref<float>& t) {
        if (t.layer_index == 0 && t.name == "weights")
            for (float v : t.values) sum2 += double(v) * v, ++n;
        if (t.name == "bias")
            for (float v : t.values) CHECK(v == 0.0f);
        if (t.layer_index == 2 && t.name == "weights")
            for (float v : t.values) CHECK(std::abs(v) <= std::sqrt(6.0 / (128 + 10)));
    });
    CHECK(std::sqrt(sum2 / n) == Approx(std::sqrt(2.0 / 784)).epsilon(0.02));
}

namespace {

/// Each weight tensor's sample variance against the rule it must have been drawn by:
/// He, 2 / fan_in; Glorot uniform, 2 / (fan_in + fan_out) (its limit^2 / 3), and no value
/// beyond the limit. expected lists the rules of the layers with weights, in order, the
/// layers inside blocks (a residual's body, then its projection) where the block stands.
template <class Arch, class Plan>
void check_plan_variances(const model<Arch>& m, std::size_t base, const std::vector<init_rule>& expected,
                          std::size_t& k, bool top_level) {
    boost::hana::for_each(Plan::types, [&](auto t) {
        using S = typename decltype(t)::type;
        if constexpr (requires { typename S::body::plan; }) {
            check_plan_variances<Arch, typename S::body::plan>(m, base + S::param_offset, expected, k, false);
            if constexpr (requires { typename S::shortcut::plan; })
                check_plan_variances<Arch, typename S::shortcut::plan>(
                    m, base + S::param_offset + S::body::parameter_count, expected, k, false);
        } else if constexpr (S::parameter_count > 0 && requires { S::weight_count; }) {
            using In = typename S::input_shape;
            using Out = typename S::output_shape;
            constexpr std::size_t filters = Out::rank == 3 ? Out::dims[0] : Out::size;
            constexpr std::size_t in_channels = In::rank == 3 ? In::dims[0] : In::size;
            constexpr std::size_t fan_in = S::weight_count / filters;          // C K K, or the inputs
            constexpr std::size_t fan_out = filters * (fan_in / in_channels);  // F K K, or the outputs
            const auto w = m.parameters().subspan(base + S::param_offset, S::weight_count);
            double mean = 0, var = 0, largest = 0;
            for (float v : w) mean += v;
            mean /= static_cast<double>(w.size());
            for (float v : w) var += (v - mean) * (v - mean), largest = std::max(largest, std::abs(double(v)));
            var /= static_cast<double>(w.size() - 1);
            REQUIRE(k < expected.size());
            const init_rule rule = expected[k++];
            const double want = rule == init_rule::he ? 2.0 / fan_in : 2.0 / (fan_in + fan_out);
            INFO(type_name<Arch>() << ": weight tensor " << k << ", layer " << S::layer_index << " "
                                   << type_name<typename S::layer>() << ", " << w.size() << " weights, fan in "
                                   << fan_in << ", fan out " << fan_out);
            if (top_level) CHECK(Arch::initialization_rules[S::layer_index] == rule);
            // The sample variance of n draws strays by about sqrt(2 / n) of itself.
            CHECK(std::abs(var - want) <= 5 * std::sqrt(2.0 / static_cast<double>(w.size())) * want);
            if (rule == init_rule::glorot) CHECK(largest <= std::sqrt(3 * want));
        }
    });
}

template <class Arch>
void check_initial_variances(const std::vector<init_rule>& expected) {
    const model<Arch> m(3);
    std::size_t k = 0;
    check_plan_variances<Arch, typename Arch::reference_plan>(m, 0, expected, k, true);
    CHECK(k == expected.size());
}

}  // namespace

TEST_CASE("the bundled models start with the variance their nonlinearity asks for, through batch_norm", "[model]") {
    using enum init_rule;
    check_initial_variances<fashion_models::linear_classifier>({glorot});
    check_initial_variances<fashion_models::mlp>({he, he, glorot});
    check_initial_variances<fashion_models::lenet>({he, he, he, he, glorot});
    check_initial_variances<fashion_models::cnn>({he, he, he, glorot});
    // conv2d, batch_norm, relu: the convolution is drawn for the ReLU (He), not for batch_norm.
    check_initial_variances<fashion_models::bn_cnn>({he, he, he, glorot});
    // A body's last convolution is drawn for the ReLU after its block; the projection's too.
    check_initial_variances<fashion_models::resnet>({he, he, he, he, he, he, he, he, he, he, he, glorot});
    // The linear projections of inverted residuals (no nonlinearity after them) are Glorot.
    check_initial_variances<fashion_models::mobilenet>(
        {he, he, he, glorot, he, he, glorot, he, he, glorot, he, he, glorot});
    check_initial_variances<sequential<input<8>, dense<16>, dropout<20>, tanh_act, dense<16>, gelu, dense<2>>>(
        {glorot, he, glorot});
}

TEST_CASE("the bundled mobilenet costs at most a quarter of bn-cnn's multiply-adds", "[model]") {
    static_assert(4 * fashion_models::mobilenet::flops <= fashion_models::bn_cnn::flops);
    INFO("mobilenet " << fashion_models::mobilenet::flops << " flops, bn-cnn " << fashion_models::bn_cnn::flops);
    CHECK(4 * fashion_models::mobilenet::flops <= fashion_models::bn_cnn::flops);
}

TEST_CASE("layer names read like the declaration", "[model]") {
    CHECK(type_name<dense<128>>() == "dense<128>");
    CHECK(type_name<relu>() == "relu");
}

// Weight files carry type_name<Arch>() as their architecture fingerprint, so the
// name must not depend on the compiler or on how the type was spelled (g++ drops
// defaulted arguments only at the top level; clang keeps the written sugar).
TEST_CASE("type names are canonical: every template argument, however the type was written", "[model]") {
    CHECK(type_name<max_pool<2>>() == "max_pool<2, 2>");
    CHECK(type_name<max_pool<2, 2>>() == "max_pool<2, 2>");
    CHECK(type_name<conv2d<6, 5>>() == "conv2d<6, 5, 1, 0>");
    using short_spelling = sequential<input<1, 8, 8>, conv2d<2, 3>, relu, max_pool<2>, flatten, dense<3>>;
    using long_spelling = sequential<input<1, 8, 8>, conv2d<2, 3, 1, 0>, relu, max_pool<2, 2>, flatten, dense<3>>;
    const std::string expected =
        "sequential<input<1, 8, 8>, conv2d<2, 3, 1, 0>, relu, max_pool<2, 2>, flatten, dense<3>>";
    CHECK(type_name<short_spelling>() == expected);
    CHECK(type_name<long_spelling>() == expected);
    CHECK(type_name<sgd>() == "sgd");
}
