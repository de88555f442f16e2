// libFuzzer entry for the ONNX importer: arbitrary bytes are parsed, described
// (the declaration tool's path) and imported into a fixed small architecture, the
// one of tests/onnx/small_cnn.onnx; seed corpus: tests/fuzz/corpus/onnx/.
// Anything but an onnx_error escaping, a crash or a sanitizer report is a bug.
//
// Built and run by scripts/fuzz.sh (target onnx), like the other fuzz targets.
#include <cstddef>
#include <cstdint>
#include <span>

#include <typenet/io/onnx.hpp>

namespace {
using arch = typenet::sequential<typenet::input<1, 12, 12>, typenet::conv2d<4, 3, 2, 1>, typenet::relu,
                                 typenet::max_pool<2, 1>, typenet::flatten, typenet::dense<3>>;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static typenet::model<arch> m(1);
    static const float zeros[arch::input_size] = {};
    try {
        const auto graph = typenet::onnx_import::read_graph(std::span<const unsigned char>(data, size), "fuzz");
        (void)typenet::onnx_import::declaration(graph);
        typenet::onnx_import::assign(m, graph);
        (void)m.predict(zeros);  // imported parameters of any value must run
    } catch (const typenet::onnx_error&) {
    }
    return 0;
}
