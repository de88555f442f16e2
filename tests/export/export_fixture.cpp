// Build step of the export test: writes two models as headers with export_header,
// each both as trained (float) and rounded to bfloat16, and the outputs the
// in-memory models (model, bfloat16_model) give on a few inputs (as exact hex
// floats), for test_exported to compare against. Then the export law: every case of
// the layer-law list (tests/laws/law_cases.hpp) and a network of user-defined layers
// (examples/custom), each as a header law_<k>.hpp, and the branchy Fashion-MNIST models
// (resnet, mobilenet: residual blocks, depthwise convolutions, batch norm folded inside
// the bodies), all listed in law_exports.hpp.
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <typenet/typenet.hpp>

#include "custom/custom_layers.hpp"
#include "fashion_models.hpp"
#include "laws/law_cases.hpp"

using namespace typenet;

using small_mlp = sequential<input<1, 8, 8>, flatten, dense<32>, relu, dense<16>, tanh_act, dense<3>>;
using lenet = sequential<input<1, 28, 28>, conv2d<6, 5>, relu, max_pool<2>, conv2d<16, 5>, relu, max_pool<2>, flatten,
                         dense<120>, relu, dense<84>, relu, dense<10>>;

template <class Net>
void write(const std::string& dir, const std::string& symbol, std::uint64_t seed, weight_storage storage,
           std::ofstream& expected) {
    model<Net> m(seed);
    // Random biases too, so that every parameter matters.
    random_engine rng(seed + 1);
    for (auto& p : m.parameters()) p += static_cast<float>(rng.uniform(-0.01, 0.01));
    export_header(m, dir + "/" + symbol + ".hpp", symbol, storage);
    const bfloat16_model<folded_t<Net>> compact(fold_for_inference(m));
    expected << "struct " << symbol << "_expected {\n";
    expected << "static constexpr float inputs[4][" << Net::input_size << "] = {\n";
    std::vector<std::vector<float>> xs;
    for (int k = 0; k < 4; ++k) {
        std::vector<float> x(Net::input_size);
        for (auto& v : x) v = static_cast<float>(rng.uniform(0, 1));
        xs.push_back(x);
        expected << "{";
        for (float v : x) expected << detail::hex_literal(v) << ",";
        expected << "},\n";
    }
    expected << "};\nstatic constexpr float outputs[4][" << Net::output_size << "] = {\n";
    for (const auto& x : xs) {
        expected << "{";
        // The header holds the inference network (batch_norm folded, dropout dropped): the
        // outputs of that network in memory are what it must reproduce bit for bit.
        const auto y = storage == weight_storage::bfloat16 ? compact.predict(x) : fold_for_inference(m).predict(x);
        for (float v : y) expected << detail::hex_literal(v) << ",";
        expected << "},\n";
    }
    expected << "};\n};\n";
}

int main(int argc, char** argv) {
    const std::string dir = argc > 1 ? argv[1] : ".";
    std::ofstream expected(dir + "/expected_outputs.hpp");
    expected << "#pragma once\n";
    write<small_mlp>(dir, "exported_mlp", 11, weight_storage::value_type, expected);
    write<lenet>(dir, "exported_lenet", 12, weight_storage::value_type, expected);
    write<small_mlp>(dir, "exported_mlp_bf16", 11, weight_storage::bfloat16, expected);
    write<lenet>(dir, "exported_lenet_bf16", 12, weight_storage::bfloat16, expected);
    // The export law, one header per case.
    std::ofstream list(dir + "/law_exports.hpp");
    list << "#pragma once\n";
    std::string models;
    std::size_t k = 0;
    const auto exported = [&]<class Net>(const std::string& symbol, std::uint64_t seed) {
        std::ofstream law_expected(dir + "/" + symbol + "_expected.hpp");
        write<Net>(dir, symbol, seed, weight_storage::value_type, law_expected);
        list << "#include \"" << symbol << ".hpp\"\n#include \"" << symbol << "_expected.hpp\"\n";
        models += " X(" + symbol + ")";
    };
    const auto law = [&]<class Net>(std::uint64_t seed) {
        exported.template operator()<Net>("law_" + std::to_string(k++), seed);
    };
    [&]<class... Cases>(std::tuple<Cases...>*) {
        (law.template operator()<typename Cases::net>(20 + k), ...);
    }(static_cast<laws::all_cases*>(nullptr));
    law.template operator()<sequential<input<1, 8, 8>, conv2d<3, 3>, user::softsign, user::channel_scale, flatten,
                                       dense<4>, user::user_relu, dense<3>>>(40);
    exported.template operator()<fashion_models::resnet>("exported_resnet", 50);
    exported.template operator()<fashion_models::mobilenet>("exported_mobilenet", 51);
    list << "#define TYPENET_LAW_MODELS(X)" << models << "\n";
    return expected && list ? 0 : 1;
}
