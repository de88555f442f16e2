// ONNX import: models exported by PyTorch (scripts/make_onnx_fixtures.py, files in
// tests/onnx/) give PyTorch's outputs; a declared type that differs, a corrupt or
// truncated file, or an unsupported op gives an onnx_error that names the problem
// and leaves the model unchanged; the declaration tool prints the matching type.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cstddef>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <typenet/core/type_name.hpp>
#include <typenet/io/onnx.hpp>

#include "support.hpp"

namespace tn = typenet;

namespace {

const std::filesystem::path fixtures = TYPENET_ONNX_FIXTURES;

// The types onnx_declaration prints for the fixtures (checked below).
using mlp_t =
    tn::sequential<tn::input<784>, tn::dense<32>, tn::relu, tn::dense<16>, tn::tanh_act, tn::dense<10>, tn::sigmoid>;
using lenet_t =
    tn::sequential<tn::input<1, 28, 28>, tn::conv2d<6, 5, 1, 2>, tn::relu, tn::max_pool<2>, tn::conv2d<16, 5>,
                   tn::tanh_act, tn::avg_pool<2>, tn::flatten, tn::dense<32>, tn::sigmoid, tn::dense<10>, tn::softmax>;
using small_cnn_t = tn::sequential<tn::input<1, 12, 12>, tn::conv2d<4, 3, 2, 1>, tn::relu, tn::max_pool<2, 1>,
                                   tn::flatten, tn::dense<3>>;
using tiny_t = tn::sequential<tn::input<8>, tn::dense<4>, tn::relu, tn::dense<3>>;
using leaky_t = tn::sequential<tn::input<8>, tn::dense<4>, tn::leaky_relu<1, 10>, tn::dense<3>>;
// Blocks. ResNet BasicBlocks: the relu after each Add is outside the block; the downsample path
// (fewer layers) is the projection; every BatchNormalization is folded into its Conv.
using resnet_t = tn::sequential<
    tn::input<3, 12, 12>, tn::conv2d<8, 3, 1, 1>, tn::relu,
    tn::residual<tn::conv2d<8, 3, 1, 1>, tn::relu, tn::conv2d<8, 3, 1, 1>>, tn::relu,
    tn::residual<tn::projection<tn::conv2d<16, 1, 2, 0>>, tn::conv2d<16, 3, 2, 1>, tn::relu, tn::conv2d<16, 3, 1, 1>>,
    tn::relu, tn::global_avg_pool, tn::dense<10>>;
// MobileNetV2 inverted residuals: the stride-2 one (depth multiplier 2) has no shortcut.
using mobilenet_t = tn::sequential<
    tn::input<3, 12, 12>, tn::conv2d<8, 3, 1, 1>, tn::relu6,
    tn::residual<tn::conv2d<16, 1>, tn::relu6, tn::depthwise_conv2d<3, 1, 1, 1>, tn::relu6, tn::conv2d<8, 1>>,
    tn::conv2d<16, 1>, tn::relu6, tn::depthwise_conv2d<3, 2, 1, 2>, tn::relu6, tn::conv2d<12, 1>, tn::global_avg_pool,
    tn::dense<5>>;
using inception_t =
    tn::sequential<tn::input<3, 8, 8>, tn::conv2d<6, 3>, tn::relu,
                   tn::concat<tn::conv2d<4, 1>, tn::branch<tn::conv2d<3, 1>, tn::relu, tn::conv2d<5, 3, 1, 1>>,
                              tn::branch<tn::conv2d<6, 3, 1, 1>, tn::relu>>,
                   tn::relu, tn::global_avg_pool, tn::dense<4>>;

/// Inputs and PyTorch's outputs (float32, and float64 from the same weights) of a fixture.
struct reference {
    std::size_t samples = 0, inputs = 0, outputs = 0;
    std::vector<std::vector<double>> x, y32, y64;
};

reference read_reference(const std::string& name) {
    std::ifstream in(fixtures / (name + ".ref"));
    REQUIRE(in);
    std::string magic;
    int version = 0;
    reference r;
    in >> magic >> version >> r.samples >> r.inputs >> r.outputs;
    REQUIRE(magic == "typenet-onnx-reference");
    auto rows = [&](std::size_t width) {
        std::vector<std::vector<double>> v(r.samples, std::vector<double>(width));
        for (auto& row : v)
            for (auto& value : row) in >> value;
        return v;
    };
    r.x = rows(r.inputs);
    r.y32 = rows(r.outputs);
    r.y64 = rows(r.outputs);
    REQUIRE(in);
    return r;
}

/// Largest |a - b| / |b| over the outputs (each output on its own, no absolute floor).
template <class Y>
double max_relative_error(const Y& got, const std::vector<double>& want) {
    if (want.size() != got.size()) return HUGE_VAL;
    double worst = 0;
    for (std::size_t i = 0; i < got.size(); ++i)
        worst = std::max(worst, std::abs(static_cast<double>(got[i]) - want[i]) / std::max(std::abs(want[i]), 1e-300));
    return worst;
}

template <class Arch>
void check_against_pytorch(const std::string& name) {
    const auto ref = read_reference(name);
    REQUIRE(ref.inputs == Arch::input_size);
    REQUIRE(ref.outputs == Arch::output_size);
    const auto m32 = tn::load_onnx<Arch>(fixtures / (name + ".onnx"));
    const auto m64 = tn::load_onnx<Arch, double>(fixtures / (name + ".onnx"));
    for (std::size_t s = 0; s < ref.samples; ++s) {
        // The inputs are float32 values (printed with 9 digits): round to float, then widen.
        std::vector<float> x32(ref.x[s].begin(), ref.x[s].end());
        const std::vector<double> x64(x32.begin(), x32.end());
        const auto y32 = m32.predict(x32);
        const auto y64 = m64.predict(x64);
        if (std::getenv("TYPENET_ONNX_PRINT_ERRORS"))
            std::printf("%s sample %zu: largest relative error float %.3g, double %.3g\n", name.c_str(), s,
                        max_relative_error(y32, ref.y32[s]), max_relative_error(y64, ref.y64[s]));
        INFO(name << " sample " << s);
        CHECK(max_relative_error(y32, ref.y32[s]) <= 1e-5);
        // Same weights and inputs, in double on both sides: only rounding differs.
        CHECK(max_relative_error(y64, ref.y64[s]) <= 1e-12);
    }
}

/// Largest |a - b| over the outputs.
template <class Y>
double max_abs_error(const Y& got, const std::vector<double>& want) {
    if (want.size() != got.size()) return HUGE_VAL;
    double worst = 0;
    for (std::size_t i = 0; i < got.size(); ++i)
        worst = std::max(worst, std::abs(static_cast<double>(got[i]) - want[i]));
    return worst;
}

/// For networks with blocks and folded batch norms: outputs near zero make relative errors
/// meaningless, so the bound is absolute. float: PyTorch's own (unfolded) network in float32;
/// double: the file's weights in float64 (scripts/make_onnx_fixtures.py).
template <class Arch>
void check_against_pytorch_absolute(const std::string& name) {
    const auto ref = read_reference(name);
    REQUIRE(ref.inputs == Arch::input_size);
    REQUIRE(ref.outputs == Arch::output_size);
    const auto m32 = tn::load_onnx<Arch>(fixtures / (name + ".onnx"));
    const auto m64 = tn::load_onnx<Arch, double>(fixtures / (name + ".onnx"));
    double worst32 = 0, worst64 = 0;
    for (std::size_t s = 0; s < ref.samples; ++s) {
        std::vector<float> x32(ref.x[s].begin(), ref.x[s].end());
        const std::vector<double> x64(x32.begin(), x32.end());
        const double e32 = max_abs_error(m32.predict(x32), ref.y32[s]);
        const double e64 = max_abs_error(m64.predict(x64), ref.y64[s]);
        worst32 = std::max(worst32, e32);
        worst64 = std::max(worst64, e64);
        INFO(name << " sample " << s);
        CHECK(e32 <= 1e-5);
        CHECK(e64 <= 1e-12);
    }
    if (std::getenv("TYPENET_ONNX_PRINT_ERRORS"))
        std::printf("%s: largest absolute error float %.3g, double %.3g (%zu samples)\n", name.c_str(), worst32,
                    worst64, ref.samples);
}

std::vector<unsigned char> read_bytes(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    REQUIRE(in);
    return {std::istreambuf_iterator<char>(in), {}};
}

onnx::ModelProto parse(const std::string& name) {
    const auto bytes = read_bytes(fixtures / (name + ".onnx"));
    onnx::ModelProto m;
    REQUIRE(m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())));
    return m;
}

std::vector<unsigned char> serialize(const onnx::ModelProto& m) {
    const std::string s = m.SerializeAsString();
    return {s.begin(), s.end()};
}

/// The message of the onnx_error that importing bytes into a model<Arch> throws ("" when none is thrown).
template <class Arch>
std::string import_error(const std::vector<unsigned char>& bytes, const std::string& where = "edited.onnx") {
    tn::model<Arch> m(7);
    const tn::model<Arch> before = m;
    try {
        tn::import_onnx(m, bytes, where);
    } catch (const tn::onnx_error& e) {
        CHECK(m == before);  // nothing changed
        return e.what();
    }
    return "";
}

template <class Arch>
std::string import_error(const std::filesystem::path& path) {
    tn::model<Arch> m(7);
    const tn::model<Arch> before = m;
    try {
        tn::import_onnx(m, path);
    } catch (const tn::onnx_error& e) {
        CHECK(m == before);
        return e.what();
    }
    return "";
}

onnx::AttributeProto& attribute(onnx::NodeProto& node, const std::string& name) {
    for (auto& a : *node.mutable_attribute())
        if (a.name() == name) return a;
    FAIL("no attribute " << name);
    throw;
}

std::string without_namespace(std::string s) {
    for (auto p = s.find("typenet::"); p != std::string::npos; p = s.find("typenet::")) s.erase(p, 9);
    return s;
}

}  // namespace

using Catch::Matchers::Contains;

TEST_CASE("ONNX models exported by PyTorch give PyTorch's outputs", "[onnx]") {
    check_against_pytorch<mlp_t>("mlp");              // Gemm (transB), MatMul+Add, relu, tanh, sigmoid
    check_against_pytorch<lenet_t>("lenet");          // Conv (padded), max/avg pooling, Flatten, softmax
    check_against_pytorch<small_cnn_t>("small_cnn");  // strided Conv, pool stride 1, Reshape, Dropout
    check_against_pytorch<tiny_t>("tiny_mlp");
    check_against_pytorch<leaky_t>("leaky");  // LeakyRelu(0.1)
}

TEST_CASE("ONNX models with branches exported by PyTorch give PyTorch's outputs", "[onnx]") {
    check_against_pytorch_absolute<resnet_t>("resnet");        // Add -> residual (identity, projection), BN kept
    check_against_pytorch_absolute<inception_t>("inception");  // Concat -> concat, BN in a branch
    check_against_pytorch_absolute<mobilenet_t>("mobilenet");  // depthwise Conv, Clip -> relu6, BN folded
}

TEST_CASE("ONNX weights stored as float_data import like raw_data", "[onnx]") {
    auto proto = parse("lenet");
    for (auto& t : *proto.mutable_graph()->mutable_initializer()) {
        const std::string raw = t.raw_data();
        std::vector<float> v(raw.size() / sizeof(float));
        std::memcpy(v.data(), raw.data(), raw.size());
        t.clear_raw_data();
        for (float f : v) t.add_float_data(f);
    }
    tn::model<lenet_t> from_floats(1), from_raw(2);
    tn::import_onnx(from_floats, serialize(proto));
    tn::import_onnx(from_raw, fixtures / "lenet.onnx");
    CHECK(from_floats == from_raw);
}

TEST_CASE("ONNX variants of the same layers import the same parameters", "[onnx]") {
    SECTION("the bias as the first operand of the Add after MatMul") {
        auto proto = parse("mlp");
        for (auto& n : *proto.mutable_graph()->mutable_node())
            if (n.op_type() == "Add") {
                const std::string a = n.input(0), b = n.input(1);
                n.set_input(0, b);
                n.set_input(1, a);
            }
        tn::model<mlp_t> swapped(1), original(2);
        tn::import_onnx(swapped, serialize(proto));
        tn::import_onnx(original, fixtures / "mlp.onnx");
        CHECK(swapped == original);
    }
    SECTION("Gemm with transB = 0 and its weight stored [in][out]") {
        auto proto = parse("tiny_mlp");
        for (auto& n : *proto.mutable_graph()->mutable_node())
            if (n.op_type() == "Gemm") attribute(n, "transB").set_i(0);
        for (auto& t : *proto.mutable_graph()->mutable_initializer()) {
            if (t.dims_size() != 2) continue;
            const auto rows = static_cast<std::size_t>(t.dims(0)), cols = static_cast<std::size_t>(t.dims(1));
            std::vector<float> w(rows * cols), wt(rows * cols);
            std::memcpy(w.data(), t.raw_data().data(), w.size() * sizeof(float));
            for (std::size_t r = 0; r < rows; ++r)
                for (std::size_t c = 0; c < cols; ++c) wt[c * rows + r] = w[r * cols + c];
            t.set_raw_data(std::string(reinterpret_cast<const char*>(wt.data()), wt.size() * sizeof(float)));
            t.set_dims(0, static_cast<std::int64_t>(cols));
            t.set_dims(1, static_cast<std::int64_t>(rows));
        }
        tn::model<tiny_t> untransposed(1), original(2);
        tn::import_onnx(untransposed, serialize(proto));
        tn::import_onnx(original, fixtures / "tiny_mlp.onnx");
        CHECK(untransposed == original);
    }
}

TEST_CASE("the ONNX declaration names the matching typenet type", "[onnx]") {
    CHECK(without_namespace(tn::onnx_declaration(fixtures / "mlp.onnx")) ==
          "using imported = " + tn::type_name<mlp_t>() + ";");
    CHECK(without_namespace(tn::onnx_declaration(fixtures / "lenet.onnx", "lenet")) ==
          "using lenet = " + tn::type_name<lenet_t>() + ";");
    CHECK(without_namespace(tn::onnx_declaration(fixtures / "small_cnn.onnx")) ==
          "using imported = " + tn::type_name<small_cnn_t>() + ";");
    CHECK(tn::onnx_declaration(fixtures / "tiny_mlp.onnx", "tiny") ==
          "using tiny = typenet::sequential<typenet::input<8>, typenet::dense<4>, typenet::relu, typenet::dense<3>>;");
    CHECK(tn::onnx_declaration(fixtures / "leaky.onnx") ==
          "using imported = typenet::sequential<typenet::input<8>, typenet::dense<4>, typenet::leaky_relu<1, 10>, "
          "typenet::dense<3>>;");
    CHECK(without_namespace(tn::onnx_declaration(fixtures / "leaky.onnx")) ==
          "using imported = " + tn::type_name<leaky_t>() + ";");
    CHECK(without_namespace(tn::onnx_declaration(fixtures / "resnet.onnx")) ==
          "using imported = " + tn::type_name<resnet_t>() + ";");
    CHECK(without_namespace(tn::onnx_declaration(fixtures / "inception.onnx")) ==
          "using imported = " + tn::type_name<inception_t>() + ";");
    CHECK(without_namespace(tn::onnx_declaration(fixtures / "mobilenet.onnx")) ==
          "using imported = " + tn::type_name<mobilenet_t>() + ";");
    CHECK(tn::onnx_declaration(fixtures / "inception.onnx", "net") ==
          "using net = typenet::sequential<typenet::input<3, 8, 8>, typenet::conv2d<6, 3, 1, 0>, typenet::relu, "
          "typenet::concat<typenet::conv2d<4, 1, 1, 0>, typenet::branch<typenet::conv2d<3, 1, 1, 0>, typenet::relu, "
          "typenet::conv2d<5, 3, 1, 1>>, typenet::branch<typenet::conv2d<6, 3, 1, 1>, typenet::relu>>, "
          "typenet::relu, typenet::global_avg_pool, typenet::dense<4>>;");
}

namespace {

/// The spelling of the layer a declared stage expects, from the layer's facts alone.
template <class L>
std::string spelling_from_facts() {
    tn::onnx_import::layer_spec s;
    s.name = std::string(L::name);
    s.arguments = tn::onnx_import::arguments_of<L>();
    return tn::onnx_import::layer_name(s);
}

/// The LeakyRelu of leaky.onnx with its alpha set (or removed: the ONNX default 0.01).
onnx::ModelProto leaky_with_alpha(const float* alpha) {
    auto proto = parse("leaky");
    for (auto& n : *proto.mutable_graph()->mutable_node())
        if (n.op_type() == "LeakyRelu") {
            if (alpha)
                attribute(n, "alpha").set_f(*alpha);
            else
                n.clear_attribute();
        }
    return proto;
}

std::string declared_slope(const float* alpha) {
    const auto g = tn::onnx_import::read_graph(serialize(leaky_with_alpha(alpha)), "alpha.onnx");
    return tn::onnx_import::layer_name(g.layers.at(1).spec);
}

}  // namespace

TEST_CASE("the ONNX op table comes from the layers' facts and spells layers as type_name does", "[onnx]") {
    namespace oi = tn::onnx_import;
    CHECK(spelling_from_facts<tn::conv2d<6, 5, 1, 2>>() == tn::type_name<tn::conv2d<6, 5, 1, 2>>());
    CHECK(spelling_from_facts<tn::conv2d<16, 5>>() == tn::type_name<tn::conv2d<16, 5>>());
    CHECK(spelling_from_facts<tn::dense<10>>() == tn::type_name<tn::dense<10>>());
    CHECK(spelling_from_facts<tn::max_pool<2>>() == tn::type_name<tn::max_pool<2>>());
    CHECK(spelling_from_facts<tn::avg_pool<3, 1>>() == tn::type_name<tn::avg_pool<3, 1>>());
    CHECK(spelling_from_facts<tn::leaky_relu<>>() == "leaky_relu<1, 100>");
    CHECK(spelling_from_facts<tn::leaky_relu<>>() == tn::type_name<tn::leaky_relu<>>());
    CHECK(spelling_from_facts<tn::relu>() == tn::type_name<tn::relu>());
    CHECK(spelling_from_facts<tn::flatten>() == tn::type_name<tn::flatten>());
    CHECK(spelling_from_facts<tn::softmax>() == tn::type_name<tn::softmax>());
    // Each layer with an onnx_op is in the table under it; gelu and silu have none.
    STATIC_REQUIRE(oi::fact_for(tn::relu::onnx_op)->layer == tn::relu::name);
    STATIC_REQUIRE(oi::fact_for(tn::tanh_act::onnx_op)->layer == "tanh_act");
    STATIC_REQUIRE(oi::fact_for("LeakyRelu")->arity == 2);
    STATIC_REQUIRE(oi::fact_for("Conv")->arity == 4);
    STATIC_REQUIRE(oi::fact_for("Sigmoid")->elementwise);
    STATIC_REQUIRE_FALSE(oi::fact_for("Softmax")->elementwise);
    STATIC_REQUIRE(oi::fact_for("Elu") == nullptr);
    STATIC_REQUIRE_FALSE(oi::has_onnx_op<tn::gelu>);
    STATIC_REQUIRE_FALSE(oi::has_onnx_op<tn::silu>);
}

TEST_CASE("an ONNX LeakyRelu imports as leaky_relu<N, D> with N / D its alpha", "[onnx]") {
    const auto slope = [](float a) { return declared_slope(&a); };
    CHECK(declared_slope(nullptr) == "leaky_relu<1, 100>");  // no alpha: the ONNX default 0.01
    CHECK(slope(0.01f) == "leaky_relu<1, 100>");
    CHECK(slope(0.1f) == "leaky_relu<1, 10>");
    CHECK(slope(0.2f) == "leaky_relu<1, 5>");
    CHECK(slope(0.125f) == "leaky_relu<1, 8>");
    CHECK(slope(0.35f) == "leaky_relu<7, 20>");
    CHECK(slope(1.0f) == "leaky_relu<1, 1>");
    CHECK(slope(0.000001f) == "leaky_relu<1, 1000000>");
    CHECK(slope(0.123457f) == "leaky_relu<123457, 1000000>");

    // Slopes leaky_relu cannot take, or not as a fraction n / 10^k with k <= 6.
    const auto refused = [](float a) {
        const auto proto = leaky_with_alpha(&a);
        try {
            (void)tn::onnx_import::read_graph(serialize(proto), "alpha.onnx");
        } catch (const tn::onnx_error& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    CHECK_THAT(refused(1.0f / 3.0f), Contains("alpha.onnx: node '/1/LeakyRelu' (LeakyRelu): alpha = 0.333333343: "
                                              "typenet's leaky_relu<N, D> needs a slope in (0, 1] with at most 6 "
                                              "decimal places"));
    CHECK_THAT(refused(0.0f), Contains("node '/1/LeakyRelu' (LeakyRelu): alpha = 0:"));
    CHECK_THAT(refused(-0.1f), Contains("node '/1/LeakyRelu' (LeakyRelu): alpha = -0.100000001:"));
    CHECK_THAT(refused(1.5f), Contains("node '/1/LeakyRelu' (LeakyRelu): alpha = 1.5:"));
    CHECK_THAT(refused(1e-7f), Contains("node '/1/LeakyRelu' (LeakyRelu): alpha = 1.00000001e-07:"));
    CHECK_THAT(refused(std::nanf("")), Contains("node '/1/LeakyRelu' (LeakyRelu): alpha = nan:"));
    CHECK_THAT(refused(HUGE_VALF), Contains("node '/1/LeakyRelu' (LeakyRelu): alpha = inf:"));

    // A declared slope that differs names the node and both spellings; slopes compare as written (in lowest terms).
    using other_slope = tn::sequential<tn::input<8>, tn::dense<4>, tn::leaky_relu<>, tn::dense<3>>;
    CHECK_THAT(import_error<other_slope>(fixtures / "leaky.onnx"),
               Contains("leaky.onnx: node '/1/LeakyRelu' (LeakyRelu) does not match the declared type: expected "
                        "layer 1 leaky_relu<1, 100> [4] -> [4], found leaky_relu<1, 10> [4] -> [4]"));
    using unreduced = tn::sequential<tn::input<8>, tn::dense<4>, tn::leaky_relu<10, 100>, tn::dense<3>>;
    CHECK_THAT(import_error<unreduced>(fixtures / "leaky.onnx"),
               Contains("expected layer 1 leaky_relu<10, 100> [4] -> [4], found leaky_relu<1, 10> [4] -> [4]"));
    CHECK_THAT(import_error<tiny_t>(fixtures / "leaky.onnx"),
               Contains("node '/1/LeakyRelu' (LeakyRelu) does not match the declared type: expected layer 1 relu "
                        "[4] -> [4], found leaky_relu<1, 10> [4] -> [4]"));
    CHECK_THAT(import_error<leaky_t>(fixtures / "tiny_mlp.onnx"),
               Contains("node '/1/Relu' (Relu) does not match the declared type: expected layer 1 leaky_relu<1, 10> "
                        "[4] -> [4], found relu [4] -> [4]"));
}

TEST_CASE("a declared type that differs from the ONNX graph names the node and both shapes", "[onnx]") {
    const auto lenet = fixtures / "lenet.onnx";
    const auto mlp = fixtures / "mlp.onnx";
    // conv without the padding PyTorch used
    using unpadded =
        tn::sequential<tn::input<1, 28, 28>, tn::conv2d<6, 5>, tn::relu, tn::max_pool<2>, tn::conv2d<16, 5>,
                       tn::tanh_act, tn::avg_pool<2>, tn::flatten, tn::dense<32>, tn::sigmoid, tn::dense<10>>;
    std::string e = import_error<unpadded>(lenet);
    CHECK_THAT(
        e,
        Contains("lenet.onnx: node '/0/Conv' (Conv) does not match the declared type: expected layer 0 "
                 "conv2d<6, 5, 1, 0> [1, 28, 28] -> [6, 24, 24], found conv2d<6, 5, 1, 2> [1, 28, 28] -> [6, 28, 28]"));
    // relu where the graph has Tanh
    using relu_not_tanh =
        tn::sequential<tn::input<784>, tn::dense<32>, tn::relu, tn::dense<16>, tn::relu, tn::dense<10>, tn::sigmoid>;
    CHECK_THAT(
        import_error<relu_not_tanh>(mlp),
        Contains("node '/3/Tanh' (Tanh) does not match the declared type: expected layer 3 relu [16] -> [16], found "
                 "tanh_act [16] -> [16]"));
    // a different width, found at the MatMul+Add pair
    using wider = tn::sequential<tn::input<784>, tn::dense<32>, tn::relu, tn::dense<16>, tn::tanh_act, tn::dense<12>,
                                 tn::sigmoid>;
    CHECK_THAT(import_error<wider>(mlp),
               Contains("node '/4/MatMul' (MatMul+Add) does not match the declared type: expected "
                        "layer 4 dense<12> [16] -> [12], found dense<10> [16] -> [10]"));
    // another input shape
    using image_input = tn::sequential<tn::input<1, 28, 28>, tn::flatten, tn::dense<32>>;
    CHECK_THAT(import_error<image_input>(mlp),
               Contains("input 'input': the declared type expects [1, 28, 28], the graph's input is [784]"));
    // the declared type ends early / goes on
    using shorter = tn::sequential<tn::input<784>, tn::dense<32>, tn::relu, tn::dense<16>, tn::tanh_act, tn::dense<10>>;
    CHECK_THAT(import_error<shorter>(mlp),
               Contains("node '/5/Sigmoid' (Sigmoid) is sigmoid [10] -> [10] but the declared "
                        "type ends after its layer 4"));
    using longer = tn::sequential<tn::input<8>, tn::dense<4>, tn::relu, tn::dense<3>, tn::softmax>;
    CHECK_THAT(
        import_error<longer>(fixtures / "tiny_mlp.onnx"),
        Contains(
            "the graph ends after node '/2/Gemm' (Gemm); the declared type continues with layer 3 softmax [3] -> [3]"));
    // max pooling declared where the graph averages
    using max_not_avg = tn::sequential<tn::input<1, 28, 28>, tn::conv2d<6, 5, 1, 2>, tn::relu, tn::max_pool<2>,
                                       tn::conv2d<16, 5>, tn::tanh_act, tn::max_pool<2>, tn::flatten, tn::dense<32>,
                                       tn::sigmoid, tn::dense<10>, tn::softmax>;
    CHECK_THAT(import_error<max_not_avg>(lenet),
               Contains("node '/5/AveragePool' (AveragePool) does not match the declared type: "
                        "expected layer 5 max_pool<2, 2> [16, 10, 10] -> [16, 5, 5], found "
                        "avg_pool<2, 2> [16, 10, 10] -> [16, 5, 5]"));
}

TEST_CASE("a missing, empty, corrupt or truncated ONNX file is an onnx_error that says so", "[onnx]") {
    test_support::temporary_directory dir;
    CHECK_THAT(import_error<tiny_t>(dir / "missing.onnx"), Contains("missing.onnx: cannot open"));
    { std::ofstream(dir / "empty.onnx"); }
    CHECK_THAT(import_error<tiny_t>(dir / "empty.onnx"), Contains("empty.onnx: empty; not an ONNX model"));
    { std::ofstream(dir / "text.onnx") << "this is not a protobuf file at all\n"; }
    CHECK_THAT(import_error<tiny_t>(dir / "text.onnx"), Contains("text.onnx: not a valid ONNX model"));

    // Every truncation of a small model fails with an onnx_error (never succeeds, never crashes).
    const auto bytes = read_bytes(fixtures / "tiny_mlp.onnx");
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        INFO("truncated to " << n << " of " << bytes.size() << " bytes");
        CHECK_FALSE(import_error<tiny_t>(std::vector<unsigned char>(bytes.begin(), bytes.begin() + n)).empty());
    }
    // A truncated LeNet, cut inside its weights.
    const auto lenet = read_bytes(fixtures / "lenet.onnx");
    CHECK_THAT(
        import_error<lenet_t>(std::vector<unsigned char>(lenet.begin(), lenet.begin() + lenet.size() / 2), "cut.onnx"),
        Contains("cut.onnx: not a valid ONNX model (the protobuf data is corrupt or truncated)"));

    // Every single-byte corruption either imports (e.g. a changed weight) or is an onnx_error.
    std::size_t refused = 0;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        auto corrupt = bytes;
        corrupt[i] ^= 0xA5;
        tn::model<tiny_t> m(3);
        try {
            tn::import_onnx(m, corrupt, "flipped.onnx");
        } catch (const tn::onnx_error&) {
            ++refused;
        }
    }
    CHECK(refused > bytes.size() / 4);
}

TEST_CASE("an unsupported op or attribute is an onnx_error naming the node", "[onnx]") {
    auto elu = parse("tiny_mlp");  // an element-wise op no typenet layer states as its onnx_op
    for (auto& n : *elu.mutable_graph()->mutable_node())
        if (n.op_type() == "Relu") {
            n.set_op_type("Elu");
            n.set_name("/1/Elu");
        }
    CHECK_THAT(import_error<tiny_t>(serialize(elu), "elu.onnx"),
               Contains("elu.onnx: node '/1/Elu' (Elu): op type Elu is not supported by typenet's importer"));

    auto conv_group = parse("lenet");
    attribute(*conv_group.mutable_graph()->mutable_node(0), "group").set_i(2);
    CHECK_THAT(import_error<lenet_t>(serialize(conv_group)),
               Contains("node '/0/Conv' (Conv): group = 2; typenet supports 1"));

    auto dilated = parse("lenet");
    attribute(*dilated.mutable_graph()->mutable_node(3), "dilations").set_ints(0, 2);
    CHECK_THAT(import_error<lenet_t>(serialize(dilated)), Contains("node '/3/Conv' (Conv): dilations [2, 1]"));

    auto asymmetric = parse("lenet");
    attribute(*asymmetric.mutable_graph()->mutable_node(0), "pads").set_ints(3, 1);
    CHECK_THAT(import_error<lenet_t>(serialize(asymmetric)), Contains("node '/0/Conv' (Conv): pads [2, 2, 2, 1]"));

    auto scaled = parse("tiny_mlp");
    attribute(*scaled.mutable_graph()->mutable_node(0), "alpha").set_f(2.0f);
    CHECK_THAT(import_error<tiny_t>(serialize(scaled)), Contains("node '/0/Gemm' (Gemm): alpha = 2"));

    auto ceil = parse("lenet");
    attribute(*ceil.mutable_graph()->mutable_node(2), "ceil_mode").set_i(1);
    CHECK_THAT(import_error<lenet_t>(serialize(ceil)),
               Contains("node '/2/MaxPool' (MaxPool): ceil_mode = 1 is not supported"));

    auto doubles = parse("tiny_mlp");
    doubles.mutable_graph()->mutable_initializer(0)->set_data_type(onnx::TensorProto::DOUBLE);
    CHECK_THAT(
        import_error<tiny_t>(serialize(doubles)),
        Contains("node '/0/Gemm' (Gemm): tensor '0.weight' has element type 11; typenet imports float (1) weights"));

    auto short_weights = parse("tiny_mlp");
    auto* raw = short_weights.mutable_graph()->mutable_initializer(0)->mutable_raw_data();
    raw->resize(raw->size() - 4);
    CHECK_THAT(import_error<tiny_t>(serialize(short_weights)),
               Contains("node '/0/Gemm' (Gemm): tensor '0.weight' holds 124 bytes for 32 floats"));

    // A Constant feeding a node, edited: PyTorch's zero Pad before AveragePool made to pad, a Reshape made to split.
    const auto set_constant = [](onnx::ModelProto& proto, const std::string& output,
                                 const std::vector<std::int64_t>& v) {
        for (auto& n : *proto.mutable_graph()->mutable_node())
            if (n.op_type() == "Constant" && n.output(0) == output) {
                auto* t = attribute(n, "value").mutable_t();
                t->set_raw_data(std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(std::int64_t)));
                t->set_dims(0, static_cast<std::int64_t>(v.size()));
            }
    };
    auto padding = parse("lenet");
    set_constant(padding, "/5/Constant_output_0", {0, 0, 1, 1, 0, 0, 1, 1});
    CHECK_THAT(import_error<lenet_t>(serialize(padding)),
               Contains("node '/5/Pad' (Pad): padding [0, 0, 1, 1, 0, 0, 1, 1] is not supported"));
    auto split = parse("small_cnn");
    set_constant(split, "/4/Constant_output_0", {-1, 50});
    CHECK_THAT(import_error<small_cnn_t>(serialize(split)),
               Contains("node '/4/Reshape' (Reshape): reshape to [-1, 50] of [4, 5, 5]; typenet supports only "
                        "flattening to [N, -1]"));

    auto branching = parse("tiny_mlp");  // the input also feeds a second node: not a chain
    auto* extra = branching.mutable_graph()->add_node();
    extra->set_name("side");
    extra->set_op_type("Relu");
    extra->add_input("input");
    extra->add_output("side_out");
    CHECK_THAT(import_error<tiny_t>(serialize(branching)),
               Contains("tensor 'input' is read by 2 nodes ('/0/Gemm' (Gemm), 'side' (Relu)) whose paths end at "
                        "'output' (read by no node), 'side_out' (read by no node); typenet's blocks (residual, "
                        "concat) need every path from a tensor to end at one Add or Concat"));

    auto no_flatten = parse("lenet");  // Gemm straight after the pooling
    auto& nodes = *no_flatten.mutable_graph()->mutable_node();
    for (auto& n : nodes)
        if (n.op_type() == "Gemm" && n.input(0) == "/6/Flatten_output_0") n.set_input(0, "/5/AveragePool_output_0");
    for (int i = 0; i < nodes.size(); ++i)
        if (nodes[i].op_type() == "Flatten") nodes.DeleteSubrange(i, 1);
    CHECK_THAT(import_error<lenet_t>(serialize(no_flatten)),
               Contains("node '/7/Gemm' (Gemm): needs a flat input but receives [16, 5, 5] (no Flatten before it?)"));
}

namespace {

/// A small ONNX graph written in code: one float input [1, dims...], stored float tensors,
/// nodes in order, one output.
struct graph_builder {
    onnx::ModelProto model;
    onnx::GraphProto& g = *model.mutable_graph();

    explicit graph_builder(const std::vector<std::int64_t>& dims) {
        model.set_ir_version(7);
        model.add_opset_import()->set_version(13);
        auto* in = g.add_input();
        in->set_name("x");
        auto* tt = in->mutable_type()->mutable_tensor_type();
        tt->set_elem_type(onnx::TensorProto::FLOAT);
        tt->mutable_shape()->add_dim()->set_dim_value(1);
        for (auto d : dims) tt->mutable_shape()->add_dim()->set_dim_value(d);
    }
    void stored(const std::string& name, const std::vector<std::int64_t>& dims, const std::vector<float>& values) {
        auto* t = g.add_initializer();
        t->set_name(name);
        t->set_data_type(onnx::TensorProto::FLOAT);
        for (auto d : dims) t->add_dims(d);
        for (float v : values) t->add_float_data(v);
    }
    onnx::NodeProto& node(const std::string& op, const std::string& name, const std::vector<std::string>& inputs,
                          const std::string& output) {
        auto* n = g.add_node();
        n->set_op_type(op);
        n->set_name(name);
        for (const auto& i : inputs) n->add_input(i);
        n->add_output(output);
        return *n;
    }
    static void set(onnx::NodeProto& n, const std::string& name, std::int64_t v) {
        auto* a = n.add_attribute();
        a->set_name(name);
        a->set_type(onnx::AttributeProto::INT);
        a->set_i(v);
    }
    static void set(onnx::NodeProto& n, const std::string& name, float v) {
        auto* a = n.add_attribute();
        a->set_name(name);
        a->set_type(onnx::AttributeProto::FLOAT);
        a->set_f(v);
    }
    static void set(onnx::NodeProto& n, const std::string& name, const std::vector<std::int64_t>& v) {
        auto* a = n.add_attribute();
        a->set_name(name);
        a->set_type(onnx::AttributeProto::INTS);
        for (auto x : v) a->add_ints(x);
    }
    std::vector<unsigned char> bytes(const std::string& output) {
        g.add_output()->set_name(output);
        return serialize(model);
    }
};

// What the hand-built graphs below are imported into: refused graphs must leave it unchanged.
using image_t = tn::sequential<tn::input<4, 6, 6>, tn::relu, tn::flatten, tn::dense<3>>;

std::string read_error(const std::vector<unsigned char>& bytes) {
    try {
        (void)tn::onnx_import::read_graph(bytes, "graph.onnx");
    } catch (const tn::onnx_error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("ONNX graphs with branches that have no typenet form are refused naming the node", "[onnx]") {
    SECTION("an Add whose second input is computed from no split (a Constant's Identity)") {
        graph_builder b({4, 6, 6});
        b.stored("k", {1, 4, 6, 6}, std::vector<float>(144, 0.5f));
        b.node("Identity", "copy", {"k"}, "k2");
        b.node("Relu", "relu", {"x"}, "r");
        b.node("Add", "join", {"r", "k2"}, "y");
        CHECK_THAT(import_error<image_t>(b.bytes("y"), "graph.onnx"),
                   Contains("graph.onnx: node 'join' (Add): its inputs 'r', 'k2' do not start at one tensor"));
    }
    SECTION("a Concat with an input from before the split its other inputs start at") {
        graph_builder b({4, 6, 6});
        b.node("Relu", "relu", {"x"}, "a");
        b.node("Sigmoid", "sigmoid", {"a"}, "s");
        b.node("Tanh", "tanh", {"a"}, "h");
        b.set(b.node("Concat", "cat", {"s", "h", "x"}, "y"), "axis", std::int64_t{1});
        CHECK_THAT(
            import_error<image_t>(b.bytes("y"), "graph.onnx"),
            Contains("node 'cat' (Concat): input 'x' does not start at tensor 'a' where its other inputs start"));
    }
    SECTION("a branch's output also read outside its block") {
        graph_builder b({4, 6, 6});
        b.node("Relu", "relu", {"x"}, "a");
        b.node("Add", "add1", {"a", "x"}, "y1");   // residual<relu> ...
        b.node("Sigmoid", "sigmoid", {"a"}, "s");  // ... but its relu's output is read here too
        b.node("Add", "add2", {"y1", "s"}, "y");
        CHECK_THAT(import_error<image_t>(b.bytes("y"), "graph.onnx"),
                   Contains("tensor 'a' is read by 2 nodes ('add1' (Add), 'sigmoid' (Sigmoid)) whose paths end at "
                            "'add1' (Add), 'add2' (Add); typenet's blocks (residual, concat) need every path from a "
                            "tensor to end at one Add or Concat, and no tensor inside a block read outside it"));
    }
    SECTION("a Concat along another axis than channels") {
        graph_builder b({4, 6, 6});
        b.node("Relu", "relu", {"x"}, "a");
        b.node("Sigmoid", "sigmoid", {"x"}, "s");
        b.set(b.node("Concat", "cat", {"a", "s"}, "y"), "axis", std::int64_t{2});
        CHECK_THAT(import_error<image_t>(b.bytes("y"), "graph.onnx"),
                   Contains("node 'cat' (Concat): joins along axis 2; typenet's concat joins along channels (axis 1)"));
    }
    SECTION("an Add of two shapes (broadcasting)") {
        graph_builder b({4, 6, 6});
        auto& pool = b.node("MaxPool", "pool", {"x"}, "p");
        b.set(pool, "kernel_shape", std::vector<std::int64_t>{2, 2});
        b.set(pool, "strides", std::vector<std::int64_t>{2, 2});
        b.node("Add", "add", {"p", "x"}, "y");
        CHECK_THAT(import_error<image_t>(b.bytes("y"), "graph.onnx"),
                   Contains("node 'add' (Add): adds [4, 3, 3] and [4, 6, 6]; typenet's residual adds equal shapes"));
    }
    SECTION("a Concat input with no layers between the split and it") {
        graph_builder b({4, 6, 6});
        b.node("Relu", "relu", {"x"}, "a");
        b.set(b.node("Concat", "cat", {"x", "a"}, "y"), "axis", std::int64_t{1});
        CHECK_THAT(read_error(b.bytes("y")), Contains("node 'cat' (Concat): input 'x' has no layers between the "
                                                      "split and the Concat"));
    }
    SECTION("nested blocks read back as nested types") {
        graph_builder b({4, 6, 6});
        b.node("Relu", "relu", {"x"}, "a");
        b.node("Sigmoid", "sigmoid", {"a"}, "s");
        b.node("Add", "inner", {"s", "a"}, "r");  // residual<sigmoid> inside the first branch
        b.node("Tanh", "tanh", {"x"}, "h");
        b.set(b.node("Concat", "cat", {"r", "h"}, "y"), "axis", std::int64_t{-3});
        CHECK(tn::onnx_import::declaration(tn::onnx_import::read_graph(b.bytes("y"), "nested.onnx")) ==
              "using imported = typenet::sequential<typenet::input<4, 6, 6>, typenet::concat<typenet::branch<"
              "typenet::relu, typenet::residual<typenet::sigmoid>>, typenet::tanh_act>>;");
    }
}

TEST_CASE("a declared type that differs inside a block names the inner layer and leaves the model unchanged",
          "[onnx]") {
    // The identity block's relu declared as tanh.
    using tanh_body =
        tn::sequential<tn::input<3, 12, 12>, tn::conv2d<8, 3, 1, 1>, tn::relu,
                       tn::residual<tn::conv2d<8, 3, 1, 1>, tn::tanh_act, tn::conv2d<8, 3, 1, 1>>, tn::relu>;
    CHECK_THAT(import_error<tanh_body>(fixtures / "resnet.onnx"),
               Contains("resnet.onnx: node '/3/relu/Relu' (Relu) does not match the declared type: expected layer 2 "
                        "residual, body: layer 1 tanh_act [8, 12, 12] -> [8, 12, 12], found relu [8, 12, 12] -> "
                        "[8, 12, 12]"));
    // The projection block declared as an identity block.
    using no_projection =
        tn::sequential<tn::input<3, 12, 12>, tn::conv2d<8, 3, 1, 1>, tn::relu,
                       tn::residual<tn::conv2d<8, 3, 1, 1>, tn::relu, tn::conv2d<8, 3, 1, 1>>, tn::relu,
                       tn::residual<tn::conv2d<8, 3, 1, 1>, tn::relu, tn::conv2d<8, 3, 1, 1>>, tn::relu,
                       tn::global_avg_pool, tn::dense<10>>;
    CHECK_THAT(import_error<no_projection>(fixtures / "resnet.onnx"),
               Contains("node '/4/Add' (Add) does not match the declared type: expected layer 4 residual<conv2d<8, "
                        "3, 1, 1>, relu, conv2d<8, 3, 1, 1>> [8, 12, 12] -> [8, 12, 12], found residual<projection<"
                        "conv2d<16, 1, 2, 0>>, conv2d<16, 3, 2, 1>, relu, conv2d<16, 3, 1, 1>> [8, 12, 12] -> "
                        "[16, 6, 6]"));
    // A concat branch that goes on longer than the graph's.
    using longer_branch = tn::sequential<tn::input<3, 8, 8>, tn::conv2d<6, 3>, tn::relu,
                                         tn::concat<tn::branch<tn::conv2d<4, 1>, tn::relu>,
                                                    tn::branch<tn::conv2d<3, 1>, tn::relu, tn::conv2d<5, 3, 1, 1>>,
                                                    tn::branch<tn::conv2d<6, 3, 1, 1>, tn::relu>>,
                                         tn::relu, tn::global_avg_pool, tn::dense<4>>;
    CHECK_THAT(import_error<longer_branch>(fixtures / "inception.onnx"),
               Contains("inception.onnx: the graph ends after node '/2/a/Conv' (Conv); the declared type continues "
                        "with layer 2 concat, branch 0: layer 1 relu [4, 6, 6] -> [4, 6, 6]"));
}

TEST_CASE("ONNX BatchNormalization after a Conv folds into it, and Clip to [0, 6] is relu6", "[onnx]") {
    graph_builder b({2, 3, 3});
    b.stored("w", {3, 2, 1, 1}, {1, 2, 3, 4, 5, 6});
    b.stored("b", {3}, {0.5f, -1, 2});
    b.stored("gamma", {3}, {2, 1, 0.5f});
    b.stored("beta", {3}, {0.25f, 0, -1});
    b.stored("mean", {3}, {1, -1, 0});
    b.stored("var", {3}, {4, 1, 0.25f});
    b.node("Conv", "conv", {"x", "w", "b"}, "c");
    b.set(b.node("BatchNormalization", "bn", {"c", "gamma", "beta", "mean", "var"}, "n"), "epsilon", 0.0f);
    auto& clip = b.node("Clip", "clip", {"n"}, "y");  // opset < 11: bounds as attributes
    b.set(clip, "min", 0.0f);
    b.set(clip, "max", 6.0f);
    const auto bytes = b.bytes("y");
    using conv_t = tn::sequential<tn::input<2, 3, 3>, tn::conv2d<3, 1>, tn::relu6>;
    tn::model<conv_t, double> m(1);
    tn::import_onnx(m, bytes);
    // scale = gamma / sqrt(var) = {1, 1, 1}; bias = (b - mean) * scale + beta
    const std::vector<double> want{1, 3, 5, 2, 4, 6, -0.25, 0, 1};  // weights [c][f], then bias
    CHECK(std::vector<double>(m.parameters().begin(), m.parameters().end()) == want);

    auto wider = b.model;
    for (auto& n : *wider.mutable_graph()->mutable_node())
        if (n.op_type() == "Clip") attribute(n, "max").set_f(1.0f);
    CHECK_THAT(
        import_error<conv_t>(serialize(wider)),
        Contains("node 'clip' (Clip): clips to [0, 1]; typenet's relu6 is Clip to [0, 6], the only one imported"));

    graph_builder alone({2, 3, 3});  // not after a Conv: no typenet layer to fold into
    for (const char* t : {"gamma", "beta", "mean", "var"}) alone.stored(t, {2}, {1, 1});
    alone.node("BatchNormalization", "bn", {"x", "gamma", "beta", "mean", "var"}, "y");
    CHECK_THAT(read_error(alone.bytes("y")), Contains("node 'bn' (BatchNormalization): is imported only right after "
                                                      "a Conv whose output it alone reads"));
}
