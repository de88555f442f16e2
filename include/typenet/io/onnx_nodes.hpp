#pragma once
// The ONNX semantics of each op the importer reads (io/onnx_graph.hpp lists them; Conv
// and BatchNormalization are io/onnx_conv.hpp's): its attributes, weights and output
// shape, turned into the template arguments and the typenet layout of the layer it
// becomes. Which layer that is comes from the op table (io/onnx_ops.hpp), never from
// here, so an element-wise op needs no code of its own.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "onnx_conv.hpp"

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

/// Turns one node (two for a pair) into the layer it is, appended to the current chain.
class node_importer : public conv_importer {
public:
    using conv_importer::conv_importer;

protected:
    /// Imports node `index` (the one reading `current`); returns the tensor after it.
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
            return conv(index, visited);
        else if (op == "BatchNormalization")
            fail(node, "is imported only right after a Conv whose output it alone reads (folded into the Conv)");
        else if (op == "MaxPool" || op == "AveragePool")
            pool(node);
        else if (op == "GlobalAveragePool") {
            need_image(node);
            add(node, op, {}, {shape_[0]});  // flat: the Flatten PyTorch puts after it is absorbed
        } else if (op == "Flatten") {
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
        else if (op == "Clip")
            clip(node);
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

private:
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
        std::vector<double> bias(units, 0.0);
        if (b != nullptr) {
            const auto v = float_tensor(node, *b);
            if (v.size() != units)
                fail(node, "bias '" + b->name() + "' has " + std::to_string(v.size()) + " values for " +
                               std::to_string(units) + " outputs");
            bias.assign(v.begin(), v.end());
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
        const int next = sole_consumer(output, "Add");
        // The product may be either operand of the Add; a stored other one is the bias (a
        // computed one makes the Add a residual join, io/onnx_blocks.hpp).
        if (next >= 0 && graph_.node(next).input_size() == 2) {
            const auto& add_node = graph_.node(next);
            const int other = add_node.input(0) == output ? 1 : 0;
            if (is_constant(add_node.input(other))) {
                bias = &constant_input(add_node, other, "bias");
                visited.insert(next);
                output = single_output(add_node);
                label = "MatMul+Add";
            }
        }
        gemm_layer(node, w, false, bias, label);
        return output;
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

    /// A flatten layer, except right after global_avg_pool, whose output is already flat.
    void flatten_to(const onnx::NodeProto& node) {
        if (shape_.size() == 1 && !chain_->empty() && chain_->back().spec.name == global_avg_pool::name) return;
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

    /// Clip to [0, 6] (bounds as inputs from opset 11, as attributes before): relu6.
    void clip(const onnx::NodeProto& node) {
        float bounds[2] = {-HUGE_VALF, HUGE_VALF};  // the ONNX defaults: no bound
        const char* names[2] = {"min", "max"};
        for (int k = 0; k < 2; ++k) {
            bounds[k] = float_attribute(node, names[k], bounds[k]);
            if (node.input_size() > k + 1 && !node.input(k + 1).empty()) {
                const auto v = float_tensor(node, constant_input(node, k + 1, names[k]));
                if (v.size() != 1) fail(node, std::string("its ") + names[k] + " is not a single value");
                bounds[k] = v[0];
            }
        }
        if (bounds[0] != 0.0f || bounds[1] != 6.0f) {
            char text[64];
            std::snprintf(text, sizeof text, "[%.9g, %.9g]", static_cast<double>(bounds[0]),
                          static_cast<double>(bounds[1]));
            fail(node, "clips to " + std::string(text) + "; typenet's relu6 is Clip to [0, 6], the only one imported");
        }
        add(node, "Clip", {}, shape_);
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
