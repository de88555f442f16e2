#pragma once
// The run-time description of a network read from an ONNX file (io/onnx_graph.hpp
// reads it; io/onnx.hpp compares it with a declared type): each layer by its typenet
// identity, its stable name and template arguments, so that one spelling serves every
// layer and equals type_name<L>() of the layer it describes. A block (residual, concat)
// is a layer whose parts are chains of layers: residual {body} or {body, projection},
// concat one chain per branch, as blocks/ lays out their parameters.
//
// Needs no protobuf: a program that only prints or compares descriptions includes this.
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace typenet {

/// An ONNX file that cannot be read, uses what typenet does not support, or does
/// not match the declared model type. The message names the file and, where there
/// is one, the node (name and op type) and the expected and found shapes.
struct onnx_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

namespace onnx_import {

/// One typenet layer as found in (or expected from) the graph.
struct layer_spec {
    std::string name;                        ///< the layer's stable name (L::name), "conv2d"
    std::vector<std::size_t> arguments;      ///< its template arguments in order: conv2d {F, K, S, P}
    std::vector<std::size_t> input, output;  ///< per-sample shapes (no batch dimension)

    friend bool operator==(const layer_spec&, const layer_spec&) = default;
};

/// A layer read from the graph: what it is, where it came from, its parameters.
struct imported_layer {
    layer_spec spec;
    std::string node;  ///< name of the (first) ONNX node; of a block, its Add or Concat
    std::string op;    ///< its op type, "MatMul+Add" for the pair, "Conv+BatchNormalization"
    /// Typenet layout: dense [in][out], conv2d [C*K*K][F], depthwise_conv2d [K*K][C*M]. In
    /// double: a BatchNormalization folded into a Conv is folded once, without float rounding.
    std::vector<double> weights;
    std::vector<double> bias;
    std::vector<std::vector<imported_layer>> parts;  ///< a block's chains (see the file comment)
};

struct imported_graph {
    std::string where;  ///< file name, for messages
    std::string input_name;
    std::vector<std::size_t> input;  ///< per-sample input shape: [N] or [C, H, W]
    std::vector<imported_layer> layers;
};

inline std::string shape_string(const std::vector<std::size_t>& dims) {
    std::string s = "[";
    for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
    return s + "]";
}

/// The layer's typenet spelling, as type_name<> writes it: "conv2d<6, 5, 1, 2>", "relu".
inline std::string layer_name(const layer_spec& s) {
    if (s.arguments.empty()) return s.name;
    std::string out = s.name + "<";
    for (std::size_t i = 0; i < s.arguments.size(); ++i) out += (i ? ", " : "") + std::to_string(s.arguments[i]);
    return out + ">";
}

/// "conv2d<6, 5, 1, 2> [1, 28, 28] -> [6, 28, 28]"
inline std::string layer_string(const layer_spec& s) {
    return layer_name(s) + " " + shape_string(s.input) + " -> " + shape_string(s.output);
}

/// The spelling of a layer or block (any type with .spec and .parts: the imported one, or
/// the one io/onnx.hpp expects), each name prefixed with `ns`: "residual<projection<conv2d<16,
/// 1, 2, 0>>, conv2d<16, 3, 2, 1>, relu, conv2d<16, 3, 1, 1>>". A concat's branch of one layer
/// is spelt bare, as concat<> accepts it.
template <class Layer>
std::string layer_name(const Layer& l, const std::string& ns = "") {
    if (l.spec.name == "residual" || l.spec.name == "concat") {
        const auto chain = [&](const auto& layers) {
            std::string s;
            for (std::size_t i = 0; i < layers.size(); ++i) s += (i ? ", " : "") + layer_name(layers[i], ns);
            return s;
        };
        std::string s = ns + l.spec.name + "<";
        if (l.spec.name == "residual") {
            if (l.parts.size() > 1) s += ns + "projection<" + chain(l.parts[1]) + ">, ";
            if (!l.parts.empty()) s += chain(l.parts[0]);
        } else {
            for (std::size_t i = 0; i < l.parts.size(); ++i)
                s += (i ? ", " : "") +
                     (l.parts[i].size() == 1 ? chain(l.parts[i]) : ns + "branch<" + chain(l.parts[i]) + ">");
        }
        return s + ">";
    }
    return ns + layer_name(l.spec);
}

/// "residual<conv2d<8, 3, 1, 1>, relu, conv2d<8, 3, 1, 1>> [8, 12, 12] -> [8, 12, 12]"
template <class Layer>
std::string layer_string(const Layer& l) {
    return layer_name(l) + " " + shape_string(l.spec.input) + " -> " + shape_string(l.spec.output);
}

/// The typenet type declaration matching the graph, e.g.
/// "using imported = typenet::sequential<typenet::input<1, 28, 28>, typenet::conv2d<6, 5, 1, 2>, ...>;"
inline std::string declaration(const imported_graph& g, const std::string& alias = "imported") {
    std::string s = "using " + alias + " = typenet::sequential<typenet::input<";
    for (std::size_t i = 0; i < g.input.size(); ++i) s += (i ? ", " : "") + std::to_string(g.input[i]);
    s += ">";
    for (const auto& l : g.layers) s += ", " + layer_name(l, "typenet::");
    return s + ">;";
}

}  // namespace onnx_import

}  // namespace typenet
