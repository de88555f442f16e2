#pragma once
// Reading an ONNX file into a run-time description of a sequential network: the
// layers typenet has, their sizes, and their parameters already re-laid out the
// way typenet stores them. io/onnx.hpp checks that description against a
// declared model type and copies the parameters; onnx_declaration() prints the
// typenet type that would match.
//
// Needs Debian's libonnx-dev (the generated protobuf classes, libonnx_proto) and
// libprotobuf: link the CMake target typenet::onnx. Not part of typenet.hpp.
//
// What is understood (everything else is refused with an onnx_error that names
// the node, its op type and the problem):
//   Gemm (transA = 0, alpha = beta = 1, transB 0 or 1)  -> dense<N>
//   MatMul followed by Add of a bias                    -> dense<N>
//   Conv (square kernel, equal strides, symmetric pads, group 1, dilations 1) -> conv2d<F, K, S, P>
//   Relu, Sigmoid, Tanh, Softmax (last axis)            -> relu, sigmoid, tanh_act, softmax
//   MaxPool, AveragePool (square, no padding, floor)    -> max_pool<K, S>, avg_pool<K, S>
//   Flatten (axis 1), Reshape to [N, -1]                -> flatten
//   Identity, Dropout, Pad with all pads zero           -> skipped (PyTorch puts a zero Pad
//                                                          before AveragePool)
// The graph must be one chain from its single input to its single output.
#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

// Debian's libonnx is built with ONNX_ML and ONNX_NAMESPACE=onnx (its CMake
// target defines both; defined here too so that other builds need not) and ships
// only the ML variant of the generated classes.
#ifndef ONNX_ML
#define ONNX_ML 1
#endif
#ifndef ONNX_NAMESPACE
#define ONNX_NAMESPACE onnx
#endif
#include <onnx/onnx_pb.h>

namespace typenet {

/// An ONNX file that cannot be read, uses what typenet does not support, or does
/// not match the declared model type. The message names the file and, where there
/// is one, the node (name and op type) and the expected and found shapes.
struct onnx_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

namespace onnx_import {

enum class layer_kind { dense, conv2d, relu, sigmoid, tanh, max_pool, avg_pool, flatten, softmax };

/// One typenet layer as found in (or expected from) the graph.
struct layer_spec {
    layer_kind kind{};
    std::size_t units = 0;    ///< dense outputs or conv filters
    std::size_t kernel = 0;   ///< conv / pooling window
    std::size_t stride = 0;
    std::size_t padding = 0;
    std::vector<std::size_t> input, output;  ///< per-sample shapes (no batch dimension)
};

/// A layer read from the graph: what it is, where it came from, its parameters.
struct imported_layer {
    layer_spec spec;
    std::string node;            ///< name of the (first) ONNX node
    std::string op;              ///< its op type, "MatMul+Add" for the pair
    std::vector<float> weights;  ///< typenet layout: dense [in][out], conv2d [C*K*K][F]
    std::vector<float> bias;
};

struct imported_graph {
    std::string where;                 ///< file name, for messages
    std::string input_name;
    std::vector<std::size_t> input;    ///< per-sample input shape: [N] or [C, H, W]
    std::vector<imported_layer> layers;
};

inline std::string shape_string(const std::vector<std::size_t>& dims) {
    std::string s = "[";
    for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
    return s + "]";
}

/// The layer's typenet spelling, as type_name<> writes it: "conv2d<6, 5, 1, 2>".
inline std::string layer_name(const layer_spec& s) {
    const auto n = [](std::size_t v) { return std::to_string(v); };
    switch (s.kind) {
        case layer_kind::dense: return "dense<" + n(s.units) + ">";
        case layer_kind::conv2d:
            return "conv2d<" + n(s.units) + ", " + n(s.kernel) + ", " + n(s.stride) + ", " + n(s.padding) + ">";
        case layer_kind::relu: return "relu";
        case layer_kind::sigmoid: return "sigmoid";
        case layer_kind::tanh: return "tanh_act";
        case layer_kind::max_pool: return "max_pool<" + n(s.kernel) + ", " + n(s.stride) + ">";
        case layer_kind::avg_pool: return "avg_pool<" + n(s.kernel) + ", " + n(s.stride) + ">";
        case layer_kind::flatten: return "flatten";
        case layer_kind::softmax: return "softmax";
    }
    return "?";
}

/// "conv2d<6, 5, 1, 2> [1, 28, 28] -> [6, 28, 28]"
inline std::string layer_string(const layer_spec& s) {
    return layer_name(s) + " " + shape_string(s.input) + " -> " + shape_string(s.output);
}

/// The typenet type declaration matching the graph, e.g.
/// "using imported = typenet::sequential<typenet::input<1, 28, 28>, typenet::conv2d<6, 5, 1, 2>, ...>;"
inline std::string declaration(const imported_graph& g, const std::string& alias = "imported") {
    std::string s = "using " + alias + " = typenet::sequential<typenet::input<";
    for (std::size_t i = 0; i < g.input.size(); ++i) s += (i ? ", " : "") + std::to_string(g.input[i]);
    s += ">";
    for (const auto& l : g.layers) s += ", typenet::" + layer_name(l.spec);
    return s + ">;";
}

namespace detail {

// Bounds on sizes read from the file, checked before anything is computed from
// them, so that hostile numbers cannot overflow or request huge allocations.
inline constexpr std::int64_t max_dim = std::int64_t{1} << 24;
inline constexpr std::uint64_t max_elements = std::uint64_t{1} << 31;

class reader {
public:
    reader(const onnx::ModelProto& model, std::string where) : model_(model), graph_(model.graph()) {
        out_.where = std::move(where);
    }

    imported_graph run() {
        if (!model_.has_graph()) fail("the file holds no graph (not an ONNX model?)");
        // The opset is written after the graph: its absence also catches a file cut between the two.
        const bool has_opset = std::any_of(model_.opset_import().begin(), model_.opset_import().end(), [](const auto& o) {
            return (o.domain().empty() || o.domain() == "ai.onnx") && o.version() >= 7;
        });
        if (!has_opset) fail("the model declares no ONNX operator set (version 7 or later); truncated?");
        index();
        read_input();
        if (graph_.output_size() != 1)
            fail("the graph has " + std::to_string(graph_.output_size()) + " outputs; typenet imports one");
        const std::string& output = graph_.output(0).name();
        std::string current = out_.input_name;
        std::set<int> visited;
        while (true) {
            const auto it = consumers_.find(current);
            const std::size_t n = it == consumers_.end() ? 0 : it->second.size();
            if (n == 0) {
                if (current == output) break;
                fail("tensor '" + current + "' ends the chain but is not the graph's output '" + output + "'");
            }
            if (n > 1) {
                std::string names;
                for (int i : it->second) names += (names.empty() ? "" : ", ") + describe(graph_.node(i));
                fail("tensor '" + current + "' feeds " + std::to_string(n) + " nodes (" + names +
                     "); typenet imports sequential graphs only");
            }
            const int i = it->second.front();
            if (!visited.insert(i).second) fail("the graph has a cycle at node " + describe(graph_.node(i)));
            current = step(i, current, visited);
        }
        for (int i = 0; i < graph_.node_size(); ++i)
            if (!visited.count(i) && graph_.node(i).op_type() != "Constant")
                fail("node " + describe(graph_.node(i)) + " is not on the chain from the input to the output");
        if (out_.layers.empty()) fail("the graph has no layers");
        return std::move(out_);
    }

private:
    [[noreturn]] void fail(const std::string& what) const { throw onnx_error(out_.where + ": " + what); }
    [[noreturn]] void fail(const onnx::NodeProto& node, const std::string& what) const {
        fail("node " + describe(node) + ": " + what);
    }
    static std::string describe(const onnx::NodeProto& node) {
        return "'" + node.name() + "' (" + node.op_type() + ")";
    }

    void index() {
        for (const auto& t : graph_.initializer()) constants_[t.name()] = &t;
        for (const auto& node : graph_.node()) {
            if (node.op_type() != "Constant") continue;
            const auto* value = attribute(node, "value");
            if (value == nullptr || !value->has_t() || node.output_size() != 1)
                fail(node, "only Constant nodes holding a tensor 'value' are supported");
            constants_[node.output(0)] = &value->t();
        }
        // Every non-constant input is a use of that tensor: in a chain each tensor has
        // one user, and a second one (a branch, a residual Add) is reported as such.
        for (int i = 0; i < graph_.node_size(); ++i) {
            const auto& node = graph_.node(i);
            if (node.op_type() == "Constant") continue;
            std::set<std::string> seen;
            for (const auto& in : node.input())
                if (!in.empty() && !constants_.count(in) && seen.insert(in).second) consumers_[in].push_back(i);
        }
    }

    void read_input() {
        const onnx::ValueInfoProto* in = nullptr;
        for (const auto& v : graph_.input()) {
            if (constants_.count(v.name())) continue;  // older exporters list initializers as inputs
            if (in != nullptr) fail("the graph has several inputs ('" + in->name() + "', '" + v.name() + "'); typenet imports one");
            in = &v;
        }
        if (in == nullptr) fail("the graph has no input");
        out_.input_name = in->name();
        const std::string what = "input '" + in->name() + "': ";
        if (!in->has_type() || !in->type().has_tensor_type()) fail(what + "not a tensor");
        const auto& tt = in->type().tensor_type();
        if (tt.elem_type() != onnx::TensorProto::FLOAT)
            fail(what + "element type " + std::to_string(tt.elem_type()) + "; typenet imports float (1) inputs");
        if (!tt.has_shape()) fail(what + "no shape; export with a fixed input shape");
        const auto& dims = tt.shape().dim();
        if (dims.size() != 2 && dims.size() != 4)
            fail(what + "rank " + std::to_string(dims.size()) + "; typenet imports [N, features] or [N, C, H, W]");
        if (dims[0].has_dim_value() && dims[0].dim_value() != 1)
            fail(what + "batch dimension " + std::to_string(dims[0].dim_value()) + "; expected a symbolic batch or 1");
        for (int i = 1; i < dims.size(); ++i) {
            if (!dims[i].has_dim_value() || dims[i].dim_value() < 1 || dims[i].dim_value() > max_dim)
                fail(what + "dimension " + std::to_string(i) + " is not a fixed size between 1 and " +
                     std::to_string(max_dim));
            out_.input.push_back(static_cast<std::size_t>(dims[i].dim_value()));
        }
        shape_ = out_.input;
        if (count(shape_) > max_elements) fail(what + "too large");
    }

    static std::uint64_t count(const std::vector<std::size_t>& dims) {
        std::uint64_t n = 1;
        for (auto d : dims) n *= d;  // each d <= 2^24 and checked after every layer: no overflow
        return n;
    }

    static const onnx::AttributeProto* attribute(const onnx::NodeProto& node, std::string_view name) {
        for (const auto& a : node.attribute())
            if (a.name() == name) return &a;
        return nullptr;
    }
    std::int64_t int_attribute(const onnx::NodeProto& node, std::string_view name, std::int64_t fallback) const {
        const auto* a = attribute(node, name);
        if (a == nullptr) return fallback;
        if (a->type() != onnx::AttributeProto::INT) fail(node, "attribute " + std::string(name) + " is not an integer");
        return a->i();
    }
    float float_attribute(const onnx::NodeProto& node, std::string_view name, float fallback) const {
        const auto* a = attribute(node, name);
        if (a == nullptr) return fallback;
        if (a->type() != onnx::AttributeProto::FLOAT) fail(node, "attribute " + std::string(name) + " is not a float");
        return a->f();
    }
    std::vector<std::int64_t> ints_attribute(const onnx::NodeProto& node, std::string_view name) const {
        const auto* a = attribute(node, name);
        if (a == nullptr) return {};
        if (a->type() != onnx::AttributeProto::INTS) fail(node, "attribute " + std::string(name) + " is not a list of integers");
        return {a->ints().begin(), a->ints().end()};
    }
    std::string string_attribute(const onnx::NodeProto& node, std::string_view name) const {
        const auto* a = attribute(node, name);
        if (a == nullptr) return {};
        if (a->type() != onnx::AttributeProto::STRING) fail(node, "attribute " + std::string(name) + " is not a string");
        return a->s();
    }

    /// The constant tensor feeding input `k` of node (an initializer or a Constant node's value).
    const onnx::TensorProto& constant_input(const onnx::NodeProto& node, int k, const char* role) const {
        if (node.input_size() <= k || node.input(k).empty()) fail(node, std::string("has no ") + role + " input");
        const auto it = constants_.find(node.input(k));
        if (it == constants_.end())
            fail(node, std::string("its ") + role + " '" + node.input(k) +
                           "' is computed in the graph, not stored in it (only stored weights are supported)");
        return *it->second;
    }

    /// The tensor's dimensions, checked: each in [0, max_dim], product <= max_elements.
    std::vector<std::size_t> tensor_dims(const onnx::NodeProto& node, const onnx::TensorProto& t) const {
        std::vector<std::size_t> dims;
        std::uint64_t n = 1;
        for (auto d : t.dims()) {
            if (d < 0 || d > max_dim) fail(node, "tensor '" + t.name() + "' has dimension " + std::to_string(d));
            dims.push_back(static_cast<std::size_t>(d));
            n *= static_cast<std::uint64_t>(d);
            if (n > max_elements) fail(node, "tensor '" + t.name() + "' is too large");
        }
        return dims;
    }

    std::vector<float> float_tensor(const onnx::NodeProto& node, const onnx::TensorProto& t) const {
        const std::string what = "tensor '" + t.name() + "'";
        if (t.data_type() != onnx::TensorProto::FLOAT)
            fail(node, what + " has element type " + std::to_string(t.data_type()) + "; typenet imports float (1) weights");
        if (t.data_location() == onnx::TensorProto::EXTERNAL) fail(node, what + " is stored in an external file");
        const auto n = static_cast<std::size_t>(count(tensor_dims(node, t)));
        std::vector<float> v;
        if (t.has_raw_data()) {
            if (t.raw_data().size() != n * sizeof(float))
                fail(node, what + " holds " + std::to_string(t.raw_data().size()) + " bytes for " + std::to_string(n) +
                               " floats (truncated or corrupted)");
            v.resize(n);
            static_assert(std::endian::native == std::endian::little, "ONNX raw_data is little-endian");
            if (n) std::memcpy(v.data(), t.raw_data().data(), n * sizeof(float));
        } else {
            if (static_cast<std::size_t>(t.float_data_size()) != n)
                fail(node, what + " holds " + std::to_string(t.float_data_size()) + " values for " + std::to_string(n) +
                               " (truncated or corrupted)");
            v.assign(t.float_data().begin(), t.float_data().end());
        }
        return v;
    }

    std::vector<std::int64_t> int_tensor(const onnx::NodeProto& node, const onnx::TensorProto& t) const {
        const std::string what = "tensor '" + t.name() + "'";
        if (t.data_type() != onnx::TensorProto::INT64)
            fail(node, what + " has element type " + std::to_string(t.data_type()) + "; expected int64 (7)");
        const auto n = static_cast<std::size_t>(count(tensor_dims(node, t)));
        std::vector<std::int64_t> v;
        if (t.has_raw_data()) {
            if (t.raw_data().size() != n * sizeof(std::int64_t)) fail(node, what + " has the wrong number of bytes");
            v.resize(n);
            if (n) std::memcpy(v.data(), t.raw_data().data(), n * sizeof(std::int64_t));
        } else {
            if (static_cast<std::size_t>(t.int64_data_size()) != n) fail(node, what + " has the wrong number of values");
            v.assign(t.int64_data().begin(), t.int64_data().end());
        }
        return v;
    }

    /// A square window attribute list: all equal values, `rank` of them (or absent: fallback).
    std::size_t square(const onnx::NodeProto& node, const char* name, std::size_t entries, std::int64_t fallback,
                       std::int64_t min) const {
        const auto v = ints_attribute(node, name);
        if (v.empty()) return static_cast<std::size_t>(fallback);
        if (v.size() != entries || std::any_of(v.begin(), v.end(), [&](auto x) { return x != v[0]; }))
            fail(node, std::string(name) + " " + ints_string(v) + ": typenet supports " + std::to_string(entries) +
                           " equal values (square windows, symmetric padding)");
        if (v[0] < min || v[0] > max_dim) fail(node, std::string(name) + " " + ints_string(v) + " out of range");
        return static_cast<std::size_t>(v[0]);
    }
    static std::string ints_string(const std::vector<std::int64_t>& v) {
        std::string s = "[";
        for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
        return s + "]";
    }

    void need_flat(const onnx::NodeProto& node) const {
        if (shape_.size() != 1)
            fail(node, "needs a flat input but receives " + shape_string(shape_) + " (no Flatten before it?)");
    }
    void need_image(const onnx::NodeProto& node) const {
        if (shape_.size() != 3) fail(node, "needs an image input [C, H, W] but receives " + shape_string(shape_));
    }
    static std::string single_output(const onnx::NodeProto& node) { return node.output_size() >= 1 ? node.output(0) : ""; }

    imported_layer& add(const onnx::NodeProto& node, layer_kind kind, std::vector<std::size_t> out, std::string op = {}) {
        std::uint64_t n = 1;
        for (auto d : out) {
            n *= d;  // d <= 3 * 2^24 and n <= 2^31 before: no overflow
            if (d == 0 || n > max_elements) fail(node, "output shape " + shape_string(out) + " is empty or too large");
        }
        imported_layer l;
        l.spec.kind = kind;
        l.spec.input = shape_;
        l.spec.output = out;
        l.node = node.name();
        l.op = op.empty() ? node.op_type() : op;
        out_.layers.push_back(std::move(l));
        shape_ = std::move(out);
        return out_.layers.back();
    }

    /// dense from W (stored [out][in] when transposed, else [in][out]) and an optional bias.
    void dense(const onnx::NodeProto& node, const onnx::TensorProto& w, bool transposed, const onnx::TensorProto* b,
               const std::string& op) {
        need_flat(node);
        const auto dims = tensor_dims(node, w);
        if (dims.size() != 2) fail(node, "weight '" + w.name() + "' has shape " + shape_string(dims) + "; expected a matrix");
        const std::size_t in = transposed ? dims[1] : dims[0], units = transposed ? dims[0] : dims[1];
        if (in != shape_[0] || units == 0)
            fail(node, "weight '" + w.name() + "' has shape " + shape_string(dims) + " but the input has " +
                           std::to_string(shape_[0]) + " features");
        const auto values = float_tensor(node, w);
        std::vector<float> bias(units, 0.0f);
        if (b != nullptr) {
            bias = float_tensor(node, *b);
            if (bias.size() != units)
                fail(node, "bias '" + b->name() + "' has " + std::to_string(bias.size()) + " values for " +
                               std::to_string(units) + " outputs");
        }
        auto& l = add(node, layer_kind::dense, {units}, op);
        l.spec.units = units;
        l.weights.resize(in * units);
        for (std::size_t i = 0; i < in; ++i)
            for (std::size_t o = 0; o < units; ++o)
                l.weights[i * units + o] = transposed ? values[o * in + i] : values[i * units + o];
        l.bias = std::move(bias);
    }

    void gemm(const onnx::NodeProto& node) {
        if (int_attribute(node, "transA", 0) != 0) fail(node, "transA = 1 is not supported");
        const float alpha = float_attribute(node, "alpha", 1.0f), beta = float_attribute(node, "beta", 1.0f);
        if (alpha != 1.0f || beta != 1.0f)
            fail(node, "alpha = " + std::to_string(alpha) + ", beta = " + std::to_string(beta) + "; typenet supports 1 and 1");
        const std::int64_t trans_b = int_attribute(node, "transB", 0);
        if (trans_b != 0 && trans_b != 1) fail(node, "transB = " + std::to_string(trans_b));
        const auto& w = constant_input(node, 1, "weight");
        const onnx::TensorProto* b = node.input_size() >= 3 && !node.input(2).empty() ? &constant_input(node, 2, "bias") : nullptr;
        dense(node, w, trans_b == 1, b, "Gemm");
    }

    /// MatMul, and the Add of a bias that follows it (when there is one). Returns the output.
    std::string matmul(int index, std::set<int>& visited) {
        const auto& node = graph_.node(index);
        const auto& w = constant_input(node, 1, "weight");
        std::string output = single_output(node);
        const onnx::TensorProto* bias = nullptr;
        std::string op = "MatMul";
        const auto it = consumers_.find(output);
        if (it != consumers_.end() && it->second.size() == 1 && graph_.node(it->second.front()).op_type() == "Add") {
            const auto& add_node = graph_.node(it->second.front());
            if (add_node.input_size() != 2) fail(add_node, "expected two inputs");
            // The product may be either operand of the Add; the other is the bias.
            bias = &constant_input(add_node, add_node.input(0) == output ? 1 : 0, "bias");
            visited.insert(it->second.front());
            output = single_output(add_node);
            op = "MatMul+Add";
        }
        dense(node, w, false, bias, op);
        return output;
    }

    void conv(const onnx::NodeProto& node) {
        need_image(node);
        const auto& w = constant_input(node, 1, "weight");
        const auto dims = tensor_dims(node, w);
        if (dims.size() != 4 || dims[2] != dims[3] || dims[0] == 0 || dims[2] == 0)
            fail(node, "weight '" + w.name() + "' has shape " + shape_string(dims) + "; expected [F, C, K, K]");
        const std::size_t F = dims[0], C = dims[1], K = dims[2];
        if (int_attribute(node, "group", 1) != 1) fail(node, "group = " + std::to_string(int_attribute(node, "group", 1)) + "; typenet supports 1");
        const auto auto_pad = string_attribute(node, "auto_pad");
        if (!auto_pad.empty() && auto_pad != "NOTSET" && auto_pad != "VALID") fail(node, "auto_pad " + auto_pad + " is not supported");
        if (square(node, "dilations", 2, 1, 1) != 1) fail(node, "dilations other than 1 are not supported");
        const std::size_t kernel = square(node, "kernel_shape", 2, static_cast<std::int64_t>(K), 1);
        if (kernel != K) fail(node, "kernel_shape " + std::to_string(kernel) + " but the weight has " + std::to_string(K));
        const std::size_t stride = square(node, "strides", 2, 1, 1);
        const std::size_t pad = square(node, "pads", 4, 0, 0);
        if (C != shape_[0])
            fail(node, "weight '" + w.name() + "' has shape " + shape_string(dims) + " but the input has " +
                           std::to_string(shape_[0]) + " channels");
        if (K > shape_[1] + 2 * pad || K > shape_[2] + 2 * pad)
            fail(node, "kernel " + std::to_string(K) + " is larger than the padded input " + shape_string(shape_));
        const auto values = float_tensor(node, w);
        std::vector<float> bias(F, 0.0f);
        if (node.input_size() >= 3 && !node.input(2).empty()) {
            const auto& b = constant_input(node, 2, "bias");
            bias = float_tensor(node, b);
            if (bias.size() != F) fail(node, "bias '" + b.name() + "' has " + std::to_string(bias.size()) + " values for " + std::to_string(F) + " filters");
        }
        const std::size_t oh = (shape_[1] + 2 * pad - K) / stride + 1, ow = (shape_[2] + 2 * pad - K) / stride + 1;
        auto& l = add(node, layer_kind::conv2d, {F, oh, ow});
        l.spec.units = F;
        l.spec.kernel = K;
        l.spec.stride = stride;
        l.spec.padding = pad;
        // PyTorch/ONNX [F][C][K][K] -> typenet [(c, ki, kj)][F]
        const std::size_t Q = C * K * K;
        l.weights.resize(Q * F);
        for (std::size_t f = 0; f < F; ++f)
            for (std::size_t q = 0; q < Q; ++q) l.weights[q * F + f] = values[f * Q + q];
        l.bias = std::move(bias);
    }

    void pool(const onnx::NodeProto& node, layer_kind kind) {
        need_image(node);
        const auto kernel_list = ints_attribute(node, "kernel_shape");
        if (kernel_list.empty()) fail(node, "has no kernel_shape");
        const std::size_t K = square(node, "kernel_shape", 2, 1, 1);
        const std::size_t S = square(node, "strides", 2, 1, 1);  // the ONNX default stride is 1
        if (square(node, "pads", 4, 0, 0) != 0) fail(node, "padding is not supported by typenet's pooling");
        if (int_attribute(node, "ceil_mode", 0) != 0) fail(node, "ceil_mode = 1 is not supported (typenet rounds down)");
        if (square(node, "dilations", 2, 1, 1) != 1) fail(node, "dilations other than 1 are not supported");
        const auto auto_pad = string_attribute(node, "auto_pad");
        if (!auto_pad.empty() && auto_pad != "NOTSET" && auto_pad != "VALID") fail(node, "auto_pad " + auto_pad + " is not supported");
        if (node.output_size() > 1 && !node.output(1).empty()) fail(node, "the indices output is not supported");
        if (K > shape_[1] || K > shape_[2]) fail(node, "window " + std::to_string(K) + " is larger than the input " + shape_string(shape_));
        auto& l = add(node, kind, {shape_[0], (shape_[1] - K) / S + 1, (shape_[2] - K) / S + 1});
        l.spec.kernel = K;
        l.spec.stride = S;
    }

    void flatten_to(const onnx::NodeProto& node) {
        add(node, layer_kind::flatten, {static_cast<std::size_t>(count(shape_))});
    }

    void reshape(const onnx::NodeProto& node) {
        const auto target = int_tensor(node, constant_input(node, 1, "shape"));
        // Resolve against the input with batch 1: 0 copies that dimension, -1 takes the rest.
        std::vector<std::size_t> in{1};
        in.insert(in.end(), shape_.begin(), shape_.end());
        const std::uint64_t total = count(in);
        bool ok = target.size() == 2;
        std::vector<std::uint64_t> resolved;
        int inferred = -1;
        for (std::size_t i = 0; ok && i < target.size(); ++i) {
            if (target[i] == 0 && i < in.size()) resolved.push_back(in[i]);
            else if (target[i] == -1 && inferred < 0) { inferred = static_cast<int>(i); resolved.push_back(1); }
            else if (target[i] >= 1 && target[i] <= max_dim) resolved.push_back(static_cast<std::uint64_t>(target[i]));
            else ok = false;
        }
        if (ok && inferred >= 0) {
            std::uint64_t known = 1;
            for (auto v : resolved) known *= v;
            ok = total % known == 0;
            if (ok) resolved[static_cast<std::size_t>(inferred)] = total / known;
        }
        if (!ok || resolved[0] != 1 || resolved[1] != total)
            fail(node, "reshape to " + ints_string(target) + " of " + shape_string(shape_) +
                           "; typenet supports only flattening to [N, -1]");
        flatten_to(node);
    }

    void pad(const onnx::NodeProto& node) {
        std::vector<std::int64_t> pads = ints_attribute(node, "pads");  // opset < 11
        if (node.input_size() >= 2 && !node.input(1).empty()) pads = int_tensor(node, constant_input(node, 1, "pads"));
        const auto mode = string_attribute(node, "mode");
        if ((!mode.empty() && mode != "constant") || std::any_of(pads.begin(), pads.end(), [](auto p) { return p != 0; }))
            fail(node, "padding " + ints_string(pads) + " is not supported (only a Pad that pads nothing is skipped)");
    }

    /// Imports node `index` (the one consuming the chain); returns the chain's next tensor.
    std::string step(int index, const std::string& current, std::set<int>& visited) {
        const auto& node = graph_.node(index);
        const std::string& op = node.op_type();
        if (node.output_size() < 1 || node.output(0).empty()) fail(node, "has no output");
        if (node.input(0) != current)
            fail(node, "the chain enters it as '" + current + "', not as its data input (input 0); weights must be stored "
                       "tensors, not computed ones");
        if (op == "Gemm") gemm(node);
        else if (op == "MatMul") return matmul(index, visited);
        else if (op == "Conv") conv(node);
        else if (op == "Relu") add(node, layer_kind::relu, shape_);
        else if (op == "Sigmoid") add(node, layer_kind::sigmoid, shape_);
        else if (op == "Tanh") add(node, layer_kind::tanh, shape_);
        else if (op == "MaxPool") pool(node, layer_kind::max_pool);
        else if (op == "AveragePool") pool(node, layer_kind::avg_pool);
        else if (op == "Flatten") {
            if (int_attribute(node, "axis", 1) != 1) fail(node, "axis other than 1 is not supported");
            flatten_to(node);
        } else if (op == "Reshape") reshape(node);
        else if (op == "Softmax") {
            need_flat(node);
            const auto axis = int_attribute(node, "axis", -1);
            if (axis != 1 && axis != -1) fail(node, "axis = " + std::to_string(axis) + "; typenet normalises the features (axis 1)");
            add(node, layer_kind::softmax, shape_);
        } else if (op == "Pad") pad(node);
        else if (op == "Identity" || op == "Dropout") {
            // inference: both pass their input through
        } else fail(node, "op type " + op + " is not supported by typenet's importer");
        return node.output(0);
    }

    const onnx::ModelProto& model_;
    const onnx::GraphProto& graph_;
    imported_graph out_;
    std::map<std::string, const onnx::TensorProto*> constants_;
    std::map<std::string, std::vector<int>> consumers_;
    std::vector<std::size_t> shape_;
};

}  // namespace detail

/// Parses ONNX bytes (`where` names them in messages) into an imported_graph.
inline imported_graph read_graph(std::span<const unsigned char> bytes, const std::string& where) {
    if (bytes.empty()) throw onnx_error(where + ": empty; not an ONNX model");
    if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
        throw onnx_error(where + ": too large for protobuf (over 2 GB)");
    onnx::ModelProto model;
    if (!model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
        throw onnx_error(where + ": not a valid ONNX model (the protobuf data is corrupt or truncated)");
    return detail::reader(model, where).run();
}

/// Reads an ONNX file into an imported_graph. Throws onnx_error.
inline imported_graph read_graph(const std::filesystem::path& path) {
    const std::string where = path.string();
    std::ifstream in(path, std::ios::binary);
    if (!in) throw onnx_error(where + ": cannot open");
    std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) throw onnx_error(where + ": read error");
    return read_graph(bytes, where);
}

}  // namespace onnx_import

/// The typenet type declaration for the network in an ONNX file. Throws onnx_error.
inline std::string onnx_declaration(const std::filesystem::path& path, const std::string& alias = "imported") {
    return onnx_import::declaration(onnx_import::read_graph(path), alias);
}

}  // namespace typenet
