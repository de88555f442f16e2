#pragma once
// The topology of the graph, read as typenet's blocks: a tensor read by several nodes
// starts paths that must all end at one Add or Concat, whose computed inputs are exactly
// those paths' ends. That region is one block:
//   Add of two paths    residual<Body...>, the identity shortcut, when one path has no
//                       layers (the Add reads the tensor itself, PyTorch's `x + f(x)`);
//                       residual<projection<P...>, Body...> when both have layers: the
//                       path with fewer layers is the projection (BasicBlock's downsample
//                       conv + bn against conv, bn, relu, conv, bn), with equally many the
//                       Add's second input (BasicBlock's `out += self.downsample(x)`).
//   Concat, axis 1      concat<Branch...>, one branch per input in the Concat's order.
// Paths may hold blocks themselves (nested splits). A split whose paths do not meet at
// one node (a branch's output also read outside its block), an Add or Concat with an
// input from elsewhere, or shapes that do not add or join are refused, naming the node.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "../blocks/concat.hpp"
#include "../blocks/residual.hpp"
#include "onnx_nodes.hpp"

namespace typenet::onnx_import::detail {

static_assert(residual<relu>::name == "residual" && concat<relu>::name == "concat",
              "typenet: io/onnx_spec.hpp spells blocks by these names");

class graph_walker : public node_importer {
public:
    using node_importer::node_importer;

protected:
    /// Where a path stops: its last tensor, and the Add or Concat that reads it (-1: none reads it).
    struct path_end {
        std::string tensor;
        int join = -1;
    };

    /// An Add of two computed tensors or a Concat: where paths meet. (An Add of a stored
    /// tensor is a bias, MatMul's.)
    bool is_join(const onnx::NodeProto& node) const {
        if (node.op_type() == "Concat") return true;
        if (node.op_type() != "Add" || node.input_size() != 2) return false;
        return !is_constant(node.input(0)) && !is_constant(node.input(1));
    }

    /// Follows the graph from `current`, importing each node into the current chain and each
    /// split into a block, up to the first Add or Concat not of its own or to a tensor no node reads.
    path_end walk(std::string current, std::set<int>& visited, int depth) {
        while (true) {
            const auto it = consumers_.find(current);
            const std::size_t n = it == consumers_.end() ? 0 : it->second.size();
            if (n == 0) return {current, -1};
            if (n == 1 && is_join(graph_.node(it->second.front()))) return {current, it->second.front()};
            if (n == 1) {
                const int i = it->second.front();
                if (!visited.insert(i).second) fail("the graph has a cycle at node " + describe(graph_.node(i)));
                current = step(i, current, visited);
            } else {
                current = block(current, it->second, visited, depth + 1);
            }
        }
    }

private:
    static constexpr int max_depth = 32;  ///< blocks within blocks: bounds the recursion on hostile files

    struct path {
        path_end end;
        std::string first;  ///< describe() of its first node, for messages
        std::vector<imported_layer> layers;
        std::vector<std::size_t> shape;  ///< its output shape
    };

    /// The block starting at `fork`, read by the nodes `readers`; returns its output tensor.
    std::string block(const std::string& fork, const std::vector<int>& readers, std::set<int>& visited, int depth) {
        if (depth > max_depth) fail("tensor '" + fork + "': blocks nested more than 32 deep");
        const auto fork_shape = shape_;
        auto* const outer = chain_;
        std::vector<path> paths;
        for (int i : readers) {
            path p;
            p.first = describe(graph_.node(i));
            chain_ = &p.layers;
            shape_ = fork_shape;
            if (is_join(graph_.node(i))) {
                p.end = {fork, i};
            } else {
                if (!visited.insert(i).second) fail("the graph has a cycle at node " + describe(graph_.node(i)));
                p.end = walk(step(i, fork, visited), visited, depth);
            }
            p.shape = shape_;
            paths.push_back(std::move(p));
        }
        chain_ = outer;
        shape_ = fork_shape;

        std::string names;
        for (const auto& p : paths) names += (names.empty() ? "" : ", ") + p.first;
        const std::string split =
            "tensor '" + fork + "' is read by " + std::to_string(paths.size()) + " nodes (" + names + ")";
        for (const auto& p : paths)
            if (p.end.join < 0 || p.end.join != paths.front().end.join) {
                std::string ends;
                for (const auto& q : paths)
                    ends += (ends.empty() ? "" : ", ") + (q.end.join < 0 ? "'" + q.end.tensor + "' (read by no node)"
                                                                         : describe(graph_.node(q.end.join)));
                fail(split + " whose paths end at " + ends +
                     "; typenet's blocks (residual, concat) need every path from a tensor to end at one Add or "
                     "Concat, and no tensor inside a block read outside it");
            }
        const int j = paths.front().end.join;
        const auto& join = graph_.node(j);
        // The join's inputs, in its order, must be the paths' ends, each once.
        std::vector<path*> ordered;
        std::set<std::size_t> used;
        for (const auto& in : join.input()) {
            if (is_constant(in)) fail(join, "input '" + in + "' is a stored tensor; typenet joins computed paths");
            std::size_t k = 0;
            while (k < paths.size() && (used.count(k) || paths[k].end.tensor != in)) ++k;
            if (k == paths.size())
                fail(join, "input '" + in + "' does not start at tensor '" + fork +
                               "' where its other inputs start; typenet's residual and concat join paths that "
                               "all start at one tensor");
            used.insert(k);
            ordered.push_back(&paths[k]);
        }
        if (ordered.size() != paths.size()) fail(join, "reads " + split + " only in part");
        if (!visited.insert(j).second) fail("the graph has a cycle at node " + describe(join));

        imported_layer b;
        b.node = join.name();
        b.op = join.op_type();
        b.spec.input = fork_shape;
        if (join.op_type() == "Add")
            residual_block(join, ordered, b);
        else
            concat_block(join, ordered, b);
        check_shape(join, b.spec.output);
        shape_ = b.spec.output;
        chain_->push_back(std::move(b));
        if (join.output_size() < 1 || join.output(0).empty()) fail(join, "has no output");
        return join.output(0);
    }

    void residual_block(const onnx::NodeProto& join, std::vector<path*>& in, imported_layer& b) const {
        b.spec.name = "residual";
        // The projection: the path with fewer layers, else the Add's second input (see the file comment).
        path* body = in[0];
        path* shortcut = in[1];
        if (shortcut->layers.size() > body->layers.size()) std::swap(body, shortcut);
        if (body->layers.empty()) fail(join, "adds tensor '" + body->end.tensor + "' to itself: no layers to import");
        if (body->shape != shortcut->shape)
            fail(join, "adds " + shape_string(body->shape) + " and " + shape_string(shortcut->shape) +
                           "; typenet's residual adds equal shapes (no broadcasting)");
        b.spec.output = body->shape;
        b.parts.push_back(std::move(body->layers));
        if (!shortcut->layers.empty()) b.parts.push_back(std::move(shortcut->layers));
    }

    void concat_block(const onnx::NodeProto& join, std::vector<path*>& in, imported_layer& b) const {
        b.spec.name = "concat";
        const auto rank = static_cast<std::int64_t>(b.spec.input.size()) + 1;  // with the batch dimension
        auto axis = int_attribute(join, "axis", 1);
        if (axis < 0) axis += rank;
        if (axis != 1)
            fail(join, "joins along axis " + std::to_string(int_attribute(join, "axis", 1)) +
                           "; typenet's concat joins along channels (axis 1)");
        if (in.size() > 8)
            fail(join, "joins " + std::to_string(in.size()) + " inputs; typenet's concat takes 8 at most");
        auto out = in.front()->shape;
        out[0] = 0;
        for (const path* p : in) {
            if (p->layers.empty())
                fail(join, "input '" + p->end.tensor +
                               "' has no layers between the split and the Concat; a branch "
                               "of typenet's concat needs at least one");
            auto rest = p->shape;
            rest[0] = in.front()->shape[0];
            if (rest != in.front()->shape)
                fail(join, "joins " + shape_string(in.front()->shape) + " and " + shape_string(p->shape) +
                               ", which differ beyond the channels");
            out[0] += p->shape[0];
        }
        b.spec.output = out;
        for (path* p : in) b.parts.push_back(std::move(p->layers));
    }
};

}  // namespace typenet::onnx_import::detail
