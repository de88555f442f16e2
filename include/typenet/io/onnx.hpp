#pragma once
// Importing a network trained elsewhere (PyTorch's torch.onnx.export) from an
// ONNX file into a model whose type you declare:
//
//   using lenet = typenet::sequential<typenet::input<1, 28, 28>, typenet::conv2d<6, 5, 1, 2>, typenet::relu, ...>;
//   auto m = typenet::load_onnx<lenet>("lenet.onnx");      // or import_onnx(m, "lenet.onnx")
//
// The graph is read from its input to its output (io/onnx_graph.hpp lists the ops
// understood) and compared with the declared type layer by layer: the first
// difference is reported as an onnx_error naming the ONNX node, its op type, and
// the expected and found layer with their shapes. What a declared layer is expected
// to be comes from its own facts: its name and template arguments, and its onnx_op
// (a layer without one cannot be imported: a compile error names it). Weights are
// re-laid out as typenet stores them (dense [in][out], conv2d [C*K*K][F]). On any
// error the model is unchanged. examples/onnx_declaration prints the type to declare.
//
// Needs libonnx-dev and libprotobuf (CMake target typenet::onnx); typenet.hpp
// does not include this header.
#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include <boost/hana/for_each.hpp>

#include "../core/diagnostic.hpp"
#include "../network/model.hpp"
#include "onnx_graph.hpp"
#include "onnx_ops.hpp"

namespace typenet {

namespace diagnostic {
struct onnx_op {};
}  // namespace diagnostic

namespace onnx_import {

template <class S>
std::vector<std::size_t> dims_of() {
    return {S::dims.begin(), S::dims.end()};
}

/// The layer a declared stage expects to find in the graph, from its layer's own facts:
/// spelt by layer_name() as type_name<> spells the layer.
template <class S>
layer_spec expected_spec() {
    using L = typename S::layer;
    layer_spec s;
    s.name = std::string(L::name);
    s.arguments = arguments_of<L>();
    s.input = dims_of<typename S::input_shape>();
    s.output = dims_of<typename S::output_shape>();
    return s;
}

/// Fails to compile, naming the layer, when a declared layer cannot come from an ONNX graph.
template <class S>
constexpr bool importable() {
    using L = typename S::layer;
    using at = diagnostic::at_layer<S::layer_index, L>;
    static_assert(diagnostic::check<has_onnx_op<L>, at, diagnostic::missing<diagnostic::onnx_op>>,
                  "typenet: import_onnx: this layer has no ONNX counterpart (it declares no "
                  "`static constexpr std::string_view onnx_op`)");
    if constexpr (has_onnx_op<L>) {
        constexpr const op_fact* fact = fact_for(L::onnx_op);
        static_assert(diagnostic::check < fact != nullptr && layer_arguments<L>::readable, at >,
                      "typenet: import_onnx: the importer does not read this layer's onnx_op (the layers it reads are "
                      "onnx_layers in io/onnx_ops.hpp; template arguments must be sizes)");
        static_assert(diagnostic::check < fact == nullptr || fact->layer == L::name, at >,
                      "typenet: import_onnx: this layer's onnx_op is another layer's in io/onnx_ops.hpp");
    }
    return true;
}

/// The parameters of Arch (model<Arch, T>::parameters() layout) from the graph, or
/// onnx_error at the first layer where the graph and Arch differ.
template <class Arch, class T>
std::vector<T> parameters_from(const imported_graph& g) {
    const auto input = dims_of<typename Arch::input_shape>();
    if (g.input != input)
        throw onnx_error(g.where + ": input '" + g.input_name + "': the declared type expects " + shape_string(input) +
                         ", the graph's input is " + shape_string(g.input) + " (batch dimension omitted)");
    std::vector<T> params(Arch::parameter_count);
    std::size_t i = 0;
    boost::hana::for_each(Arch::reference_plan::types, [&](auto t) {
        using S = typename decltype(t)::type;
        static_assert(importable<S>());
        const layer_spec want = expected_spec<S>();
        const std::string expected = "layer " + std::to_string(S::layer_index) + " " + layer_string(want);
        if (i >= g.layers.size()) {
            std::string last = "its input";
            if (!g.layers.empty()) last = "node '" + g.layers.back().node + "' (" + g.layers.back().op + ")";
            throw onnx_error(g.where + ": the graph ends after " + last + "; the declared type continues with " +
                             expected);
        }
        const imported_layer& found = g.layers[i++];
        if (want != found.spec)
            throw onnx_error(g.where + ": node '" + found.node + "' (" + found.op +
                             ") does not match the declared type: expected " + expected + ", found " +
                             layer_string(found.spec));
        if constexpr (S::parameter_count > 0) {
            // Equal specs imply equal sizes; checked anyway, as the copy below relies on it.
            if (found.weights.size() != S::weight_count || found.bias.size() != S::parameter_count - S::weight_count)
                throw onnx_error(g.where + ": node '" + found.node + "' (" + found.op +
                                 "): parameter sizes differ from " + expected);
            T* p = params.data() + S::param_offset;
            for (std::size_t k = 0; k < found.weights.size(); ++k) p[k] = static_cast<T>(found.weights[k]);
            for (std::size_t k = 0; k < found.bias.size(); ++k) p[S::weight_count + k] = static_cast<T>(found.bias[k]);
        }
    });
    if (i < g.layers.size()) {
        const auto& extra = g.layers[i];
        throw onnx_error(g.where + ": node '" + extra.node + "' (" + extra.op + ") is " + layer_string(extra.spec) +
                         " but the declared type ends after its layer " + std::to_string(Arch::layer_count - 1));
    }
    return params;
}

template <class Arch, class T>
void assign(model<Arch, T>& m, const imported_graph& g) {
    const auto params = parameters_from<Arch, T>(g);
    const auto dst = m.parameters();
    for (std::size_t k = 0; k < params.size(); ++k) dst[k] = params[k];
}

}  // namespace onnx_import

/// Replaces m's parameters with those of the ONNX file, which must hold the
/// network Arch. Throws onnx_error (m unchanged) when it cannot be read or differs.
template <class Arch, class T>
void import_onnx(model<Arch, T>& m, const std::filesystem::path& path) {
    onnx_import::assign(m, onnx_import::read_graph(path));
}

/// The same from ONNX bytes in memory; `where` names them in messages.
template <class Arch, class T>
void import_onnx(model<Arch, T>& m, std::span<const unsigned char> bytes, const std::string& where = "<memory>") {
    onnx_import::assign(m, onnx_import::read_graph(bytes, where));
}

/// A model<Arch, T> with the parameters of the ONNX file. Throws onnx_error.
template <class Arch, class T = float>
model<Arch, T> load_onnx(const std::filesystem::path& path) {
    model<Arch, T> m;
    import_onnx(m, path);
    return m;
}

}  // namespace typenet
