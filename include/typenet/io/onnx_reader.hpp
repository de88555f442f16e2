#pragma once
// Reading an ONNX model into an imported_graph: the model is read from its single input
// to its single output, each node imported in turn (io/onnx_nodes.hpp) and each split
// into a block (io/onnx_blocks.hpp). io/onnx_graph.hpp lists what is understood.
#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "onnx_blocks.hpp"

namespace typenet::onnx_import {

namespace detail {

class reader : graph_walker {
public:
    reader(const onnx::ModelProto& model, std::string where)
        : graph_walker(model.graph(), std::move(where)), model_(model) {}

    imported_graph run() {
        if (!model_.has_graph()) fail("the file holds no graph (not an ONNX model?)");
        // The opset is written after the graph: its absence also catches a file cut between the two.
        const auto& opsets = model_.opset_import();
        const bool has_opset = std::any_of(opsets.begin(), opsets.end(), [](const auto& o) {
            return (o.domain().empty() || o.domain() == "ai.onnx") && o.version() >= 7;
        });
        if (!has_opset) fail("the model declares no ONNX operator set (version 7 or later); truncated?");
        out_.where = where_;
        index();
        read_input();
        if (graph_.output_size() != 1)
            fail("the graph has " + std::to_string(graph_.output_size()) + " outputs; typenet imports one");
        const std::string& output = graph_.output(0).name();
        std::set<int> visited;
        const path_end end = walk(out_.input_name, visited, 0);
        if (end.join >= 0) {
            // Reached on one path only: its other inputs come from elsewhere than a split before it.
            const auto& join = graph_.node(end.join);
            std::string inputs;
            for (const auto& in : join.input()) inputs += (inputs.empty() ? "'" : ", '") + in + "'";
            fail(join, "its inputs " + inputs +
                           " do not start at one tensor; typenet's residual and concat join paths that all "
                           "start at the tensor where they split");
        }
        if (end.tensor != output)
            fail("tensor '" + end.tensor + "' ends the chain but is not the graph's output '" + output + "'");
        for (int i = 0; i < graph_.node_size(); ++i)
            if (!visited.count(i) && graph_.node(i).op_type() != "Constant")
                fail("node " + describe(graph_.node(i)) + " is not on the chain from the input to the output");
        if (out_.layers.empty()) fail("the graph has no layers");
        return std::move(out_);
    }

private:
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
            if (in != nullptr)
                fail("the graph has several inputs ('" + in->name() + "', '" + v.name() + "'); typenet imports one");
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

    const onnx::ModelProto& model_;
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

}  // namespace typenet::onnx_import
