#pragma once
// ONNX Conv: group 1 is a conv2d, group = the input's channels a depthwise_conv2d (its
// layer's onnx_variant, io/onnx_ops.hpp), any other group has no typenet form. A
// BatchNormalization that alone reads a Conv's output is folded into the Conv's weights
// and bias, as PyTorch's default (eval) export does itself; typenet's batch_norm has no
// ONNX op, so the declared type has none there.
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "onnx_chain.hpp"

namespace typenet::onnx_import::detail {

/// The double a float attribute stands for: the shortest decimal that rounds to it (an
/// epsilon of 1e-5 is stored as the float 9.99999975e-06; PyTorch's double model uses 1e-5).
inline double decimal_value(float f) {
    for (int digits = 1; digits <= 9; ++digits) {
        char text[40];
        std::snprintf(text, sizeof text, "%.*g", digits, static_cast<double>(f));
        const double v = std::strtod(text, nullptr);
        if (static_cast<float>(v) == f) return v;
    }
    return f;
}

class conv_importer : public chain_builder {
public:
    using chain_builder::chain_builder;

protected:
    void check_auto_pad(const onnx::NodeProto& node) const {
        const auto auto_pad = string_attribute(node, "auto_pad");
        if (!auto_pad.empty() && auto_pad != "NOTSET" && auto_pad != "VALID")
            fail(node, "auto_pad " + auto_pad + " is not supported");
    }

    /// Conv node `index`, and the BatchNormalization after it if any; returns the output.
    std::string conv(int index, std::set<int>& visited) {
        const auto& node = graph_.node(index);
        need_image(node);
        const auto& w = constant_input(node, 1, "weight");
        const auto dims = tensor_dims(node, w);
        if (dims.size() != 4 || dims[2] != dims[3] || dims[0] == 0 || dims[2] == 0)
            fail(node, "weight '" + w.name() + "' has shape " + shape_string(dims) + "; expected [F, C, K, K]");
        const std::size_t F = dims[0], C = shape_[0], K = dims[2];
        const auto group = int_attribute(node, "group", 1);
        const bool depthwise = group != 1 && group == static_cast<std::int64_t>(C);
        if (group != 1 && !depthwise)
            fail(node, "group = " + std::to_string(group) + "; typenet supports 1 (conv2d) and the input's " +
                           std::to_string(C) + " channels (depthwise_conv2d)");
        check_auto_pad(node);
        if (square(node, "dilations", 2, 1, 1) != 1) fail(node, "dilations other than 1 are not supported");
        const std::size_t kernel = square(node, "kernel_shape", 2, static_cast<std::int64_t>(K), 1);
        if (kernel != K)
            fail(node, "kernel_shape " + std::to_string(kernel) + " but the weight has " + std::to_string(K));
        const std::size_t stride = square(node, "strides", 2, 1, 1);
        const std::size_t pad = square(node, "pads", 4, 0, 0);
        // Each filter reads C channels, or one in a depthwise convolution: [C*M][1][K][K].
        if (dims[1] != (depthwise ? 1 : C) || (depthwise && F % C != 0))
            fail(node, "weight '" + w.name() + "' has shape " + shape_string(dims) + " but the input has " +
                           std::to_string(C) + " channels" + (depthwise ? " in as many groups" : ""));
        if (K > shape_[1] + 2 * pad || K > shape_[2] + 2 * pad)
            fail(node, "kernel " + std::to_string(K) + " is larger than the padded input " + shape_string(shape_));
        const auto values = float_tensor(node, w);
        std::vector<double> bias(F, 0.0);
        if (node.input_size() >= 3 && !node.input(2).empty()) {
            const auto& b = constant_input(node, 2, "bias");
            const auto v = float_tensor(node, b);
            if (v.size() != F)
                fail(node, "bias '" + b.name() + "' has " + std::to_string(v.size()) + " values for " +
                               std::to_string(F) + " filters");
            bias.assign(v.begin(), v.end());
        }
        std::string output = single_output(node);
        const int bn = sole_consumer(output, "BatchNormalization");
        std::vector<double> scale;  // gamma / sqrt(var + eps) per filter, when a batch norm follows
        if (bn >= 0) {
            scale = fold_batch_norm(graph_.node(bn), bias);
            visited.insert(bn);
            output = single_output(graph_.node(bn));
        }
        const std::string label = bn >= 0 ? "Conv+BatchNormalization" : "";
        const std::size_t oh = (shape_[1] + 2 * pad - K) / stride + 1, ow = (shape_[2] + 2 * pad - K) / stride + 1;
        if (depthwise) {
            auto& l =
                add(node, layer_for(node, "Conv", depthwise_variant), {K, stride, pad, F / C}, {F, oh, ow}, label);
            // ONNX [C*M][1][K][K] -> typenet [K*K][C*M]: output channel o = c * M + m in both.
            l.weights.resize(K * K * F);
            for (std::size_t o = 0; o < F; ++o)
                for (std::size_t t = 0; t < K * K; ++t) l.weights[t * F + o] = values[o * K * K + t];
            finish(l, std::move(bias), scale);
        } else {
            auto& l = add(node, "Conv", {F, K, stride, pad}, {F, oh, ow}, label);
            // PyTorch/ONNX [F][C][K][K] -> typenet [(c, ki, kj)][F]
            const std::size_t Q = C * K * K;
            l.weights.resize(Q * F);
            for (std::size_t f = 0; f < F; ++f)
                for (std::size_t q = 0; q < Q; ++q) l.weights[q * F + f] = values[f * Q + q];
            finish(l, std::move(bias), scale);
        }
        return output;
    }

private:
    /// Scales each filter's column of the weights ([rows][F] in both layouts) by scale[f].
    static void finish(imported_layer& l, std::vector<double> bias, const std::vector<double>& scale) {
        if (!scale.empty()) {
            const std::size_t F = scale.size();
            for (std::size_t i = 0; i < l.weights.size(); ++i) l.weights[i] *= scale[i % F];
        }
        l.bias = std::move(bias);
    }

    /// Checks a BatchNormalization (inference form) after a Conv with bias.size() filters,
    /// folds its shift into `bias` and returns its scale: y = s (z - mean) + beta, s = gamma / sqrt(var + eps).
    std::vector<double> fold_batch_norm(const onnx::NodeProto& bn, std::vector<double>& bias) const {
        const std::size_t F = bias.size();
        if (bn.input_size() != 5) fail(bn, "expected 5 inputs (X, scale, B, mean, var)");
        if (int_attribute(bn, "training_mode", 0) != 0) fail(bn, "training_mode = 1 is not supported");
        if (int_attribute(bn, "spatial", 1) != 1) fail(bn, "spatial = 0 is not supported");
        for (int k = 1; k < bn.output_size(); ++k)
            if (!bn.output(k).empty()) fail(bn, "the running statistics outputs (training) are not supported");
        const char* roles[] = {"scale", "bias", "mean", "variance"};
        std::vector<std::vector<float>> v;
        for (int k = 1; k <= 4; ++k) {
            const auto& t = constant_input(bn, k, roles[k - 1]);
            v.push_back(float_tensor(bn, t));
            if (v.back().size() != F)
                fail(bn, "its " + std::string(roles[k - 1]) + " '" + t.name() + "' has " +
                             std::to_string(v.back().size()) + " values for " + std::to_string(F) + " channels");
        }
        const double eps = decimal_value(float_attribute(bn, "epsilon", 1e-5f));
        std::vector<double> scale(F);
        for (std::size_t f = 0; f < F; ++f) {
            const double var = static_cast<double>(v[3][f]) + eps;
            if (!(var > 0)) fail(bn, "variance + epsilon is not positive in channel " + std::to_string(f));
            scale[f] = static_cast<double>(v[0][f]) / std::sqrt(var);
            bias[f] = (bias[f] - static_cast<double>(v[2][f])) * scale[f] + static_cast<double>(v[1][f]);
        }
        return scale;
    }
};

}  // namespace typenet::onnx_import::detail
