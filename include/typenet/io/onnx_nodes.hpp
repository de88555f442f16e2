#pragma once
// The ONNX semantics of each op the importer reads (io/onnx_graph.hpp lists them): its
// attributes, weights and output shape, turned into the template arguments and the
// typenet layout of the layer it becomes. Which layer that is comes from the op table
// (io/onnx_ops.hpp), never from here, so an element-wise op needs no code of its own.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "onnx_ops.hpp"
#include "onnx_proto.hpp"

namespace typenet::onnx_import::detail {

/// The arguments {N, D} of the layer of a LeakyRelu with slope alpha: the smallest
/// denominator 10^k (k <= 6) whose N / D, rounded to float as the float model rounds its
/// slope, is alpha exactly, in lowest terms. Empty when alpha lies outside (0, 1] or is
/// no such fraction.
inline std::vector<std::size_t> slope_fraction(float alpha) {
    if (!(alpha > 0.0f && alpha <= 1.0f)) return {};
    std::size_t den = 1;
    for (int k = 0; k <= 6; ++k, den *= 10) {
        const auto num = static_cast<std::size_t>(static_cast<double>(alpha) * static_cast<double>(den) + 0.5);
        if (num < 1 || num > den) continue;
        if (static_cast<float>(static_cast<double>(num) / static_cast<double>(den)) != alpha) continue;
        std::size_t a = num, b = den;
        while (b != 0) a = std::exchange(b, a % b);
        return {num / a, den / a};
    }
    return {};
}

/// Turns the nodes of the chain into layers, in order, tracking the per-sample shape.
class node_importer : public node_access {
public:
    node_importer(const onnx::GraphProto& graph, std::string where) : node_access(std::move(where)), graph_(graph) {}

protected:
    /// Imports node `index` (the one consuming the chain); returns the chain's next tensor.
    std::string step(int index, const std::string& current, std::set<int>& visited) {
        const auto& node = graph_.node(index);
        const std::string& op = node.op_type();
        if (node.output_size() < 1 || node.output(0).empty()) fail(node, "has no output");
        if (node.input(0) != current)
            fail(node, "the chain enters it as '" + current +
                           "', not as its data input (input 0); weights must be "
                           "stored tensors, not computed ones");
        const op_fact* fact = fact_for(op);
        if (op == "Gemm")
            gemm(node);
        else if (op == "MatMul")
            return matmul(index, visited);
        else if (op == "Conv")
            conv(node);
        else if (op == "MaxPool" || op == "AveragePool")
            pool(node);
        else if (op == "Flatten") {
            if (int_attribute(node, "axis", 1) != 1) fail(node, "axis other than 1 is not supported");
            flatten_to(node);
        } else if (op == "Reshape")
            reshape(node);
        else if (op == "Softmax") {
            need_flat(node);
            const auto axis = int_attribute(node, "axis", -1);
            if (axis != 1 && axis != -1)
                fail(node, "axis = " + std::to_string(axis) + "; typenet normalises the features (axis 1)");
            add(node, op, {}, shape_);
        } else if (op == "LeakyRelu")
            leaky(node);
        else if (op == "Pad")
            pad(node);
        else if (op == "Identity" || op == "Dropout") {
            // inference: both pass their input through
        } else if (fact != nullptr && fact->elementwise && fact->arity == 0)
            add(node, op, {}, shape_);
        else
            fail(node, "op type " + op + " is not supported by typenet's importer");
        return node.output(0);
    }

    const onnx::GraphProto& graph_;
    imported_graph out_;
    std::map<std::string, std::vector<int>> consumers_;  ///< the nodes reading each computed tensor
    std::vector<std::size_t> shape_;                     ///< the chain's per-sample shape so far

private:
    /// The table's row for ONNX op `op`: the typenet layer the node becomes.
    const op_fact& layer_for(const onnx::NodeProto& node, std::string_view op) const {
        const op_fact* fact = fact_for(op);
        if (fact == nullptr) fail(node, "op type " + node.op_type() + " is not supported by typenet's importer");
        return *fact;
    }

    void need_flat(const onnx::NodeProto& node) const {
        if (shape_.size() != 1)
            fail(node, "needs a flat input but receives " + shape_string(shape_) + " (no Flatten before it?)");
    }
    void need_image(const onnx::NodeProto& node) const {
        if (shape_.size() != 3) fail(node, "needs an image input [C, H, W] but receives " + shape_string(shape_));
    }
    static std::string single_output(const onnx::NodeProto& node) {
        return node.output_size() >= 1 ? node.output(0) : "";
    }

    /// Appends the layer of ONNX op `op` (the node's own, or the op it is equivalent to) with
    /// its template arguments and output shape; `label` names the op(s) read, in messages.
    imported_layer& add(const onnx::NodeProto& node, std::string_view op, std::vector<std::size_t> arguments,
                        std::vector<std::size_t> out, std::string label = {}) {
        const op_fact& fact = layer_for(node, op);
        if (arguments.size() != fact.arity)
            fail(node, "typenet's " + std::string(fact.layer) + " takes " + std::to_string(fact.arity) +
                           " template arguments, the importer read " + std::to_string(arguments.size()));
        std::uint64_t n = 1;
        for (auto d : out) {
            n *= d;  // d <= 3 * 2^24 and n <= 2^31 before: no overflow
            if (d == 0 || n > max_elements) fail(node, "output shape " + shape_string(out) + " is empty or too large");
        }
        imported_layer l;
        l.spec.name = std::string(fact.layer);
        l.spec.arguments = std::move(arguments);
        l.spec.input = shape_;
        l.spec.output = out;
        l.node = node.name();
        l.op = label.empty() ? node.op_type() : std::move(label);
        out_.layers.push_back(std::move(l));
        shape_ = std::move(out);
        return out_.layers.back();
    }

    /// The layer of Gemm from W (stored [out][in] when transposed, else [in][out]) and an optional bias.
    void gemm_layer(const onnx::NodeProto& node, const onnx::TensorProto& w, bool transposed,
                    const onnx::TensorProto* b, const std::string& label) {
        need_flat(node);
        const auto dims = tensor_dims(node, w);
        if (dims.size() != 2)
            fail(node, "weight '" + w.name() + "' has shape " + shape_string(dims) + "; expected a matrix");
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
        auto& l = add(node, "Gemm", {units}, {units}, label);
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
            fail(node, "alpha = " + std::to_string(alpha) + ", beta = " + std::to_string(beta) +
                           "; typenet supports 1 and 1");
        const std::int64_t trans_b = int_attribute(node, "transB", 0);
        if (trans_b != 0 && trans_b != 1) fail(node, "transB = " + std::to_string(trans_b));
        const auto& w = constant_input(node, 1, "weight");
        const bool has_bias = node.input_size() >= 3 && !node.input(2).empty();
        gemm_layer(node, w, trans_b == 1, has_bias ? &constant_input(node, 2, "bias") : nullptr, "Gemm");
    }

    /// MatMul, and the Add of a bias that follows it (when there is one): a Gemm. Returns the output.
    std::string matmul(int index, std::set<int>& visited) {
        const auto& node = graph_.node(index);
        const auto& w = constant_input(node, 1, "weight");
        std::string output = single_output(node);
        const onnx::TensorProto* bias = nullptr;
        std::string label = "MatMul";
        const auto it = consumers_.find(output);
        if (it != consumers_.end() && it->second.size() == 1 && graph_.node(it->second.front()).op_type() == "Add") {
            const auto& add_node = graph_.node(it->second.front());
            if (add_node.input_size() != 2) fail(add_node, "expected two inputs");
            // The product may be either operand of the Add; the other is the bias.
            bias = &constant_input(add_node, add_node.input(0) == output ? 1 : 0, "bias");
            visited.insert(it->second.front());
            output = single_output(add_node);
            label = "MatMul+Add";
        }
        gemm_layer(node, w, false, bias, label);
        return output;
    }

    void check_auto_pad(const onnx::NodeProto& node) const {
        const auto auto_pad = string_attribute(node, "auto_pad");
        if (!auto_pad.empty() && auto_pad != "NOTSET" && auto_pad != "VALID")
            fail(node, "auto_pad " + auto_pad + " is not supported");
    }

    void conv(const onnx::NodeProto& node) {
        need_image(node);
        const auto& w = constant_input(node, 1, "weight");
        const auto dims = tensor_dims(node, w);
        if (dims.size() != 4 || dims[2] != dims[3] || dims[0] == 0 || dims[2] == 0)
            fail(node, "weight '" + w.name() + "' has shape " + shape_string(dims) + "; expected [F, C, K, K]");
        const std::size_t F = dims[0], C = dims[1], K = dims[2];
        const auto group = int_attribute(node, "group", 1);
        if (group != 1) fail(node, "group = " + std::to_string(group) + "; typenet supports 1");
        check_auto_pad(node);
        if (square(node, "dilations", 2, 1, 1) != 1) fail(node, "dilations other than 1 are not supported");
        const std::size_t kernel = square(node, "kernel_shape", 2, static_cast<std::int64_t>(K), 1);
        if (kernel != K)
            fail(node, "kernel_shape " + std::to_string(kernel) + " but the weight has " + std::to_string(K));
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
            if (bias.size() != F)
                fail(node, "bias '" + b.name() + "' has " + std::to_string(bias.size()) + " values for " +
                               std::to_string(F) + " filters");
        }
        const std::size_t oh = (shape_[1] + 2 * pad - K) / stride + 1, ow = (shape_[2] + 2 * pad - K) / stride + 1;
        auto& l = add(node, "Conv", {F, K, stride, pad}, {F, oh, ow});
        // PyTorch/ONNX [F][C][K][K] -> typenet [(c, ki, kj)][F]
        const std::size_t Q = C * K * K;
        l.weights.resize(Q * F);
        for (std::size_t f = 0; f < F; ++f)
            for (std::size_t q = 0; q < Q; ++q) l.weights[q * F + f] = values[f * Q + q];
        l.bias = std::move(bias);
    }

    /// MaxPool and AveragePool: the layer {window, stride} of the node's own op.
    void pool(const onnx::NodeProto& node) {
        need_image(node);
        if (ints_attribute(node, "kernel_shape").empty()) fail(node, "has no kernel_shape");
        const std::size_t K = square(node, "kernel_shape", 2, 1, 1);
        const std::size_t S = square(node, "strides", 2, 1, 1);  // the ONNX default stride is 1
        if (square(node, "pads", 4, 0, 0) != 0) fail(node, "padding is not supported by typenet's pooling");
        if (int_attribute(node, "ceil_mode", 0) != 0)
            fail(node, "ceil_mode = 1 is not supported (typenet rounds down)");
        if (square(node, "dilations", 2, 1, 1) != 1) fail(node, "dilations other than 1 are not supported");
        check_auto_pad(node);
        if (node.output_size() > 1 && !node.output(1).empty()) fail(node, "the indices output is not supported");
        if (K > shape_[1] || K > shape_[2])
            fail(node, "window " + std::to_string(K) + " is larger than the input " + shape_string(shape_));
        add(node, node.op_type(), {K, S}, {shape_[0], (shape_[1] - K) / S + 1, (shape_[2] - K) / S + 1});
    }

    void flatten_to(const onnx::NodeProto& node) {
        add(node, "Flatten", {}, {static_cast<std::size_t>(count(shape_))});
    }

    /// A Reshape to [N, -1] is a Flatten; any other is refused.
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
            if (target[i] == 0 && i < in.size())
                resolved.push_back(in[i]);
            else if (target[i] == -1 && inferred < 0) {
                inferred = static_cast<int>(i);
                resolved.push_back(1);
            } else if (target[i] >= 1 && target[i] <= max_dim) {
                resolved.push_back(static_cast<std::uint64_t>(target[i]));
            } else
                ok = false;
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

    /// LeakyRelu: its slope alpha as the fraction {N, D} the layer takes as arguments.
    void leaky(const onnx::NodeProto& node) {
        const float alpha = float_attribute(node, "alpha", 0.01f);  // the ONNX default
        auto fraction = slope_fraction(alpha);
        if (fraction.empty()) {
            char text[32];
            std::snprintf(text, sizeof text, "%.9g", static_cast<double>(alpha));
            const std::string layer(layer_for(node, "LeakyRelu").layer);
            fail(node, "alpha = " + std::string(text) + ": typenet's " + layer +
                           "<N, D> needs a slope in (0, 1] with at most 6 decimal places");
        }
        add(node, "LeakyRelu", std::move(fraction), shape_);
    }

    /// Pad: skipped when it pads nothing (PyTorch puts one before AveragePool), else refused.
    void pad(const onnx::NodeProto& node) {
        std::vector<std::int64_t> pads = ints_attribute(node, "pads");  // opset < 11
        if (node.input_size() >= 2 && !node.input(1).empty()) pads = int_tensor(node, constant_input(node, 1, "pads"));
        const auto mode = string_attribute(node, "mode");
        const bool pads_nothing = std::all_of(pads.begin(), pads.end(), [](auto p) { return p == 0; });
        if ((!mode.empty() && mode != "constant") || !pads_nothing)
            fail(node, "padding " + ints_string(pads) + " is not supported (only a Pad that pads nothing is skipped)");
    }
};

}  // namespace typenet::onnx_import::detail
