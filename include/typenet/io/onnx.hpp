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
// the expected and found layer with their shapes. Weights are re-laid out as
// typenet stores them (dense [in][out], conv2d [C*K*K][F]). On any error the
// model is unchanged. examples/onnx_declaration prints the type to declare.
//
// Needs libonnx-dev and libprotobuf (CMake target typenet::onnx); typenet.hpp
// does not include this header.
#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include <boost/hana/for_each.hpp>

#include "../layers/activations.hpp"
#include "../layers/conv2d.hpp"
#include "../layers/dense.hpp"
#include "../layers/flatten.hpp"
#include "../layers/pooling.hpp"
#include "../layers/softmax.hpp"
#include "../network/model.hpp"
#include "onnx_graph.hpp"

namespace typenet {

namespace onnx_import {

/// What ONNX layer a typenet layer corresponds to (undefined: it has no counterpart).
inline layer_spec make_spec(layer_kind kind, std::size_t units = 0, std::size_t kernel = 0, std::size_t stride = 0,
                            std::size_t padding = 0) {
    layer_spec s;
    s.kind = kind;
    s.units = units;
    s.kernel = kernel;
    s.stride = stride;
    s.padding = padding;
    return s;
}

template <class L>
struct counterpart {
    static constexpr bool exists = false;
};
template <std::size_t U>
struct counterpart<dense<U>> {
    static constexpr bool exists = true;
    static layer_spec spec() { return make_spec(layer_kind::dense, U); }
};
template <std::size_t F, std::size_t K, std::size_t S, std::size_t P>
struct counterpart<conv2d<F, K, S, P>> {
    static constexpr bool exists = true;
    static layer_spec spec() { return make_spec(layer_kind::conv2d, F, K, S, P); }
};
template <std::size_t K, std::size_t S>
struct counterpart<max_pool<K, S>> {
    static constexpr bool exists = true;
    static layer_spec spec() { return make_spec(layer_kind::max_pool, 0, K, S); }
};
template <std::size_t K, std::size_t S>
struct counterpart<avg_pool<K, S>> {
    static constexpr bool exists = true;
    static layer_spec spec() { return make_spec(layer_kind::avg_pool, 0, K, S); }
};
template <layer_kind Kind>
struct simple_counterpart {
    static constexpr bool exists = true;
    static layer_spec spec() { return make_spec(Kind); }
};
template <>
struct counterpart<relu> : simple_counterpart<layer_kind::relu> {};
template <>
struct counterpart<sigmoid> : simple_counterpart<layer_kind::sigmoid> {};
template <>
struct counterpart<tanh_act> : simple_counterpart<layer_kind::tanh> {};
template <>
struct counterpart<flatten> : simple_counterpart<layer_kind::flatten> {};
template <>
struct counterpart<softmax> : simple_counterpart<layer_kind::softmax> {};

template <class S>
std::vector<std::size_t> dims_of() {
    return {S::dims.begin(), S::dims.end()};
}

inline bool same(const layer_spec& a, const layer_spec& b) {
    return a.kind == b.kind && a.units == b.units && a.kernel == b.kernel && a.stride == b.stride &&
           a.padding == b.padding && a.input == b.input && a.output == b.output;
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
        using L = typename S::layer;
        static_assert(counterpart<L>::exists, "typenet: import_onnx: a layer of this architecture has no ONNX counterpart");
        layer_spec want = counterpart<L>::spec();
        want.input = dims_of<typename S::input_shape>();
        want.output = dims_of<typename S::output_shape>();
        const std::string expected = "layer " + std::to_string(S::layer_index) + " " + layer_string(want);
        if (i >= g.layers.size()) {
            const std::string last = g.layers.empty() ? std::string("its input")
                                                      : "node '" + g.layers.back().node + "' (" + g.layers.back().op + ")";
            throw onnx_error(g.where + ": the graph ends after " + last + "; the declared type continues with " + expected);
        }
        const imported_layer& found = g.layers[i++];
        if (!same(want, found.spec))
            throw onnx_error(g.where + ": node '" + found.node + "' (" + found.op + ") does not match the declared type: expected " +
                             expected + ", found " + layer_string(found.spec));
        if constexpr (S::parameter_count > 0) {
            // Equal specs imply equal sizes; checked anyway, as the copy below relies on it.
            if (found.weights.size() != S::weight_count || found.bias.size() != S::parameter_count - S::weight_count)
                throw onnx_error(g.where + ": node '" + found.node + "' (" + found.op + "): parameter sizes differ from " + expected);
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
