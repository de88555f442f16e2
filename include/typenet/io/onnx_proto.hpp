#pragma once
// Reading the parts of an ONNX graph's protobuf that the importer needs (attributes,
// stored tensors) with every size checked against bounds first, and the failure that
// names the file and the node. io/onnx_nodes.hpp and io/onnx_reader.hpp build on it.
#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <utility>
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

#include "onnx_spec.hpp"

namespace typenet::onnx_import::detail {

// Bounds on sizes read from the file, checked before anything is computed from
// them, so that hostile numbers cannot overflow or request huge allocations.
inline constexpr std::int64_t max_dim = std::int64_t{1} << 24;
inline constexpr std::uint64_t max_elements = std::uint64_t{1} << 31;

inline std::string ints_string(const std::vector<std::int64_t>& v) {
    std::string s = "[";
    for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
    return s + "]";
}

inline std::uint64_t count(const std::vector<std::size_t>& dims) {
    std::uint64_t n = 1;
    for (auto d : dims) n *= d;  // each d <= 2^24 and checked after every layer: no overflow
    return n;
}

inline std::string describe(const onnx::NodeProto& node) { return "'" + node.name() + "' (" + node.op_type() + ")"; }

inline const onnx::AttributeProto* attribute(const onnx::NodeProto& node, std::string_view name) {
    for (const auto& a : node.attribute())
        if (a.name() == name) return &a;
    return nullptr;
}

/// Attributes, stored tensors and failures of the nodes of one file.
class node_access {
public:
    explicit node_access(std::string where) : where_(std::move(where)) {}

protected:
    [[noreturn]] void fail(const std::string& what) const { throw onnx_error(where_ + ": " + what); }
    [[noreturn]] void fail(const onnx::NodeProto& node, const std::string& what) const {
        fail("node " + describe(node) + ": " + what);
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
        if (a->type() != onnx::AttributeProto::INTS)
            fail(node, "attribute " + std::string(name) + " is not a list of integers");
        return {a->ints().begin(), a->ints().end()};
    }
    std::string string_attribute(const onnx::NodeProto& node, std::string_view name) const {
        const auto* a = attribute(node, name);
        if (a == nullptr) return {};
        if (a->type() != onnx::AttributeProto::STRING)
            fail(node, "attribute " + std::string(name) + " is not a string");
        return a->s();
    }

    /// A square window attribute list: all equal values, `entries` of them (or absent: fallback).
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
            fail(node,
                 what + " has element type " + std::to_string(t.data_type()) + "; typenet imports float (1) weights");
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
            if (static_cast<std::size_t>(t.int64_data_size()) != n)
                fail(node, what + " has the wrong number of values");
            v.assign(t.int64_data().begin(), t.int64_data().end());
        }
        return v;
    }

    std::string where_;                                          ///< the file, for messages
    std::map<std::string, const onnx::TensorProto*> constants_;  ///< initializers and Constant values by name
};

}  // namespace typenet::onnx_import::detail
