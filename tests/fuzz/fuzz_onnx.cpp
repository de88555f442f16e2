// libFuzzer entry for the ONNX importer: arbitrary bytes are parsed, described
// (the declaration tool's path) and imported into two fixed small architectures,
// those of tests/onnx/small_cnn.onnx and tests/onnx/tiny_mlp.onnx; seed corpus:
// tests/fuzz/corpus/onnx/.
// Anything but an onnx_error escaping, a crash or a sanitizer report is a bug, and
// so is a refused import (onnx_error) that changed the model: its parameters and
// state must be bytewise what they were (import_onnx promises "m unchanged").
//
// Built and run by scripts/fuzz.sh (target onnx), like the other fuzz targets.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <span>
#include <vector>

#include <typenet/io/onnx.hpp>

namespace {

using small_cnn = typenet::sequential<typenet::input<1, 12, 12>, typenet::conv2d<4, 3, 2, 1>, typenet::relu,
                                      typenet::max_pool<2, 1>, typenet::flatten, typenet::dense<3>>;
using tiny_mlp = typenet::sequential<typenet::input<8>, typenet::dense<4>, typenet::relu, typenet::dense<3>>;

template <class T>
bool same_bytes(std::span<const T> a, std::span<const T> b) {
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size_bytes()) == 0);
}

void require(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "typenet fuzz: %s\n", what);
        __builtin_trap();
    }
}

template <class Arch>
void import_into(const typenet::onnx_import::imported_graph& graph) {
    using model = typenet::model<Arch>;
    static model m(1);
    static const model reference = m;
    static const float zeros[Arch::input_size] = {};
    try {
        typenet::onnx_import::assign(m, graph);
        (void)m.predict(zeros);  // imported parameters of any value must run
        std::copy(reference.parameters().begin(), reference.parameters().end(), m.parameters().begin());
        std::copy(reference.state().begin(), reference.state().end(), m.state().begin());
    } catch (const typenet::onnx_error&) {
        require(same_bytes<float>(m.parameters(), reference.parameters()),
                "import_onnx refused the file but changed the parameters");
        require(same_bytes<float>(m.state(), reference.state()), "import_onnx refused the file but changed the state");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        const auto graph = typenet::onnx_import::read_graph(std::span<const unsigned char>(data, size), "fuzz");
        (void)typenet::onnx_import::declaration(graph);
        import_into<small_cnn>(graph);
        import_into<tiny_mlp>(graph);
    } catch (const typenet::onnx_error&) {
        // Refused while reading or describing: no model was touched.
    }
    return 0;
}
