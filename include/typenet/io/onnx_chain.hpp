#pragma once
// Where the layers read from the nodes go: the chain being built (the network's, or a
// block's body, projection or branch while io/onnx_blocks.hpp reads one), the per-sample
// shape reaching it, and the checks every op makes of that shape. io/onnx_conv.hpp and
// io/onnx_nodes.hpp import the ops into it.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "onnx_ops.hpp"
#include "onnx_proto.hpp"

namespace typenet::onnx_import::detail {

class chain_builder : public node_access {
public:
    chain_builder(const onnx::GraphProto& graph, std::string where) : node_access(std::move(where)), graph_(graph) {}

protected:
    const onnx::GraphProto& graph_;
    imported_graph out_;
    std::map<std::string, std::vector<int>> consumers_;  ///< the nodes reading each computed tensor
    std::vector<std::size_t> shape_;                     ///< the per-sample shape reaching the next node
    std::vector<imported_layer>* chain_ = &out_.layers;  ///< where the next layer goes

    /// The table's row for ONNX op `op` (and its variant: layers sharing an op): the layer the node becomes.
    const op_fact& layer_for(const onnx::NodeProto& node, std::string_view op, std::string_view variant = {}) const {
        const op_fact* fact = fact_for(op, variant);
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
    bool is_constant(const std::string& tensor) const { return constants_.count(tensor) != 0; }

    /// The node that alone reads `tensor`, when its op is `op`: a second node of a pair
    /// (MatMul+Add, Conv+BatchNormalization) that the first one takes in. -1 otherwise.
    int sole_consumer(const std::string& tensor, std::string_view op) const {
        const auto it = consumers_.find(tensor);
        if (it == consumers_.end() || it->second.size() != 1) return -1;
        return graph_.node(it->second.front()).op_type() == op ? it->second.front() : -1;
    }

    /// Appends the layer of ONNX op `op` (the node's own, or the op it is equivalent to) with
    /// its template arguments and output shape; `label` names the op(s) read, in messages.
    imported_layer& add(const onnx::NodeProto& node, std::string_view op, std::vector<std::size_t> arguments,
                        std::vector<std::size_t> out, std::string label = {}) {
        return add(node, layer_for(node, op), std::move(arguments), std::move(out), std::move(label));
    }
    imported_layer& add(const onnx::NodeProto& node, const op_fact& fact, std::vector<std::size_t> arguments,
                        std::vector<std::size_t> out, std::string label = {}) {
        if (arguments.size() != fact.arity)
            fail(node, "typenet's " + std::string(fact.layer) + " takes " + std::to_string(fact.arity) +
                           " template arguments, the importer read " + std::to_string(arguments.size()));
        check_shape(node, out);
        imported_layer l;
        l.spec.name = std::string(fact.layer);
        l.spec.arguments = std::move(arguments);
        l.spec.input = shape_;
        l.spec.output = out;
        l.node = node.name();
        l.op = label.empty() ? node.op_type() : std::move(label);
        chain_->push_back(std::move(l));
        shape_ = std::move(out);
        return chain_->back();
    }

    /// Every dimension at least 1 and the whole within max_elements.
    void check_shape(const onnx::NodeProto& node, const std::vector<std::size_t>& out) const {
        std::uint64_t n = 1;
        for (auto d : out) {
            n *= d;  // d <= 8 * 3 * 2^24 and n <= 2^31 before: no overflow
            if (d == 0 || n > max_elements) fail(node, "output shape " + shape_string(out) + " is empty or too large");
        }
    }
};

}  // namespace typenet::onnx_import::detail
