// Build step of the export test: writes two models as headers with export_header,
// and the outputs the in-memory models give on a few inputs (as exact hex floats),
// for test_exported to compare against.
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <typenet/typenet.hpp>

using namespace typenet;

using small_mlp = sequential<input<1, 8, 8>, flatten, dense<32>, relu, dense<16>, tanh_act, dense<3>>;
using lenet = sequential<input<1, 28, 28>, conv2d<6, 5>, relu, max_pool<2>, conv2d<16, 5>, relu, max_pool<2>, flatten,
                         dense<120>, relu, dense<84>, relu, dense<10>>;

template <class Net>
void write(const std::string& dir, const std::string& symbol, std::uint64_t seed, std::ofstream& expected) {
    model<Net> m(seed);
    // Random biases too, so that every parameter matters.
    random_engine rng(seed + 1);
    for (auto& p : m.parameters()) p += static_cast<float>(rng.uniform(-0.01, 0.01));
    export_header(m, dir + "/" + symbol + ".hpp", symbol);
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
        for (float v : m.predict(x)) expected << detail::hex_literal(v) << ",";
        expected << "},\n";
    }
    expected << "};\n};\n";
}

int main(int argc, char** argv) {
    const std::string dir = argc > 1 ? argv[1] : ".";
    std::ofstream expected(dir + "/expected_outputs.hpp");
    expected << "#pragma once\n";
    write<small_mlp>(dir, "exported_mlp", 11, expected);
    write<lenet>(dir, "exported_lenet", 12, expected);
    return expected ? 0 : 1;
}
