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
// re-laid out as typenet stores them (dense [in][out], conv2d [C*K*K][F], depthwise_conv2d
// [K*K][C*M]). Blocks (residual, concat) are compared part by part: a difference inside
// one is reported at its inner layer ("expected layer 3 residual, body: layer 1 relu ...").
// On any error the model is unchanged: parameters are gathered in a vector first and
// copied only once the whole graph matched. examples/onnx_declaration prints the type.
//
// Needs libonnx-dev and libprotobuf (CMake target typenet::onnx); typenet.hpp
// does not include this header.
#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include <boost/hana/for_each.hpp>

#include "../blocks/concat.hpp"
#include "../blocks/residual.hpp"
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

/// Fails to compile, naming the layer, when a declared layer cannot come from an ONNX graph.
template <class S>
constexpr bool importable() {
    using L = typename S::layer;
    using at = diagnostic::at_layer<S::layer_index, L>;
    static_assert(diagnostic::check<has_onnx_op<L>, at, diagnostic::missing<diagnostic::onnx_op>>,
                  "typenet: import_onnx: this layer has no ONNX counterpart (it declares no "
                  "`static constexpr std::string_view onnx_op`)");
    if constexpr (has_onnx_op<L>) {
        constexpr const op_fact* fact = fact_for(L::onnx_op, variant_of<L>());
        static_assert(diagnostic::check < fact != nullptr && layer_arguments<L>::readable, at >,
                      "typenet: import_onnx: the importer does not read this layer's onnx_op (the layers it reads are "
                      "onnx_layers in io/onnx_ops.hpp; template arguments must be sizes)");
        static_assert(diagnostic::check < fact == nullptr || fact->layer == L::name, at >,
                      "typenet: import_onnx: this layer's onnx_op is another layer's in io/onnx_ops.hpp");
    }
    return true;
}

/// A layer of the declared type as the graph must hold it, and where its parameters go.
struct expected_layer {
    layer_spec spec;
    std::size_t index = 0;  ///< its position in its chain (the network's, or a block's part)
    std::size_t param_offset = 0, weight_count = 0, parameter_count = 0;  ///< in model::parameters()
    std::vector<std::vector<expected_layer>> parts;                       ///< a block's chains, as imported_layer's
};

template <class L>
inline constexpr bool is_residual_v = false;
template <class... B>
inline constexpr bool is_residual_v<residual<B...>> = true;
template <class L>
inline constexpr bool is_concat_v = false;
template <class... B>
inline constexpr bool is_concat_v<concat<B...>> = true;

template <class Plan>
std::vector<expected_layer> expected_chain(std::size_t base);

/// The layer a declared stage expects to find in the graph, from its layer's own facts:
/// spelt by layer_name() as type_name<> spells the layer; a block with its parts.
template <class S>
expected_layer expected_of(std::size_t base) {
    using L = typename S::layer;
    expected_layer e;
    e.spec.name = std::string(L::name);
    e.spec.input = dims_of<typename S::input_shape>();
    e.spec.output = dims_of<typename S::output_shape>();
    e.index = S::layer_index;
    e.param_offset = base + S::param_offset;
    e.parameter_count = S::parameter_count;
    if constexpr (is_residual_v<L>) {
        e.parts.push_back(expected_chain<typename S::body::plan>(e.param_offset));
        if constexpr (!S::identity_shortcut)
            e.parts.push_back(expected_chain<typename S::shortcut::plan>(e.param_offset + S::body::parameter_count));
    } else if constexpr (is_concat_v<L>) {
        S::for_each_branch([&](auto c, auto i) {
            e.parts.push_back(
                expected_chain<typename decltype(c)::type::plan>(e.param_offset + S::start(S::params, i)));
        });
    } else {
        static_assert(importable<S>());
        e.spec.arguments = arguments_of<L>();
        if constexpr (S::parameter_count > 0) e.weight_count = S::weight_count;
    }
    return e;
}

template <class Plan>
std::vector<expected_layer> expected_chain(std::size_t base) {
    std::vector<expected_layer> chain;
    boost::hana::for_each(Plan::types, [&](auto t) { chain.push_back(expected_of<typename decltype(t)::type>(base)); });
    return chain;
}

/// Compares a chain of the graph with the declared one, part by part in blocks, writing the
/// parameters into `params`; onnx_error at the first difference. `context` says which part
/// of which block the chain is ("" for the network; "layer 3 residual, body: ").
template <class T>
void match_chain(const imported_graph& g, const std::vector<expected_layer>& want,
                 const std::vector<imported_layer>& found, const std::string& context, const std::string& owner,
                 std::vector<T>& params) {
    std::size_t i = 0;
    for (const expected_layer& w : want) {
        const std::string expected = context + "layer " + std::to_string(w.index) + " " + layer_string(w);
        if (i >= found.size()) {
            std::string last = owner;
            if (i > 0) last = "node '" + found[i - 1].node + "' (" + found[i - 1].op + ")";
            throw onnx_error(g.where + ": the graph ends after " + last + "; the declared type continues with " +
                             expected);
        }
        const imported_layer& f = found[i++];
        const std::string node = "node '" + f.node + "' (" + f.op + ")";
        const bool block = !w.parts.empty() || !f.parts.empty();
        if (block && w.spec.name == f.spec.name && w.parts.size() == f.parts.size()) {
            for (std::size_t k = 0; k < w.parts.size(); ++k) {
                const std::string part = w.spec.name == "concat" ? "branch " + std::to_string(k)
                                         : k == 0                ? std::string("body")
                                                                 : std::string("projection");
                match_chain(g, w.parts[k], f.parts[k],
                            context + "layer " + std::to_string(w.index) + " " + w.spec.name + ", " + part + ": ",
                            "the " + part + " of " + node, params);
            }
        }
        if (w.spec != f.spec || w.parts.size() != f.parts.size())
            throw onnx_error(g.where + ": " + node + " does not match the declared type: expected " + expected +
                             ", found " + layer_string(f));
        if (!block && w.parameter_count > 0) {
            // Equal specs imply equal sizes; checked anyway, as the copy below relies on it.
            if (f.weights.size() != w.weight_count || f.bias.size() != w.parameter_count - w.weight_count)
                throw onnx_error(g.where + ": " + node + ": parameter sizes differ from " + expected);
            T* p = params.data() + w.param_offset;
            for (std::size_t k = 0; k < f.weights.size(); ++k) p[k] = static_cast<T>(f.weights[k]);
            for (std::size_t k = 0; k < f.bias.size(); ++k) p[w.weight_count + k] = static_cast<T>(f.bias[k]);
        }
    }
    if (i < found.size()) {
        const auto& extra = found[i];
        const std::string last = want.empty() ? "" : std::to_string(want.back().index);
        throw onnx_error(g.where + ": node '" + extra.node + "' (" + extra.op + ") is " + layer_string(extra) +
                         " but the declared type ends after " + (context.empty() ? "its layer " : context + "layer ") +
                         last);
    }
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
    match_chain(g, expected_chain<typename Arch::reference_plan>(0), g.layers, "", "its input", params);
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
