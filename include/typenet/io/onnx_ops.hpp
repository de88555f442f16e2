#pragma once
// What a typenet layer is in ONNX, taken from the layers' own facts (layers/protocol.hpp):
// its stable `name`, its `onnx_op` and its template arguments. The reader parses an op's
// ONNX semantics (attributes, weights, shapes) and looks up here which layer the op
// becomes; io/onnx.hpp builds the layer a declared stage expects from the same facts.
// An element-wise layer with an onnx_op and no template arguments is imported from its
// op with nothing more: listing it in onnx_layers below is all its import needs.
// Two layers may share an op when one of them also states an `onnx_variant`, the form of
// the op it is (depthwise_conv2d: "Conv" with group = input channels, depthwise_variant);
// the reader tells the forms apart from the node and looks up (op, variant).
#include <array>
#include <concepts>
#include <cstddef>
#include <string_view>
#include <vector>

#include "../layers/activations.hpp"
#include "../layers/conv2d.hpp"
#include "../layers/dense.hpp"
#include "../layers/depthwise_conv2d.hpp"
#include "../layers/flatten.hpp"
#include "../layers/global_pool.hpp"
#include "../layers/pooling.hpp"
#include "../layers/softmax.hpp"

namespace typenet::onnx_import {

template <class L>
concept has_onnx_op = requires {
    { L::onnx_op } -> std::convertible_to<std::string_view>;
};

/// The variant of a Conv that is a depthwise convolution: group = the input's channels.
inline constexpr std::string_view depthwise_variant = "group = channels";

/// L's onnx_variant: "" for the plain form of its op.
template <class L>
constexpr std::string_view variant_of() {
    if constexpr (requires { std::string_view(L::onnx_variant); })
        return L::onnx_variant;
    else
        return {};
}

/// L's template arguments in order, as type_name<L>() spells them ("conv2d<6, 5, 1, 2>":
/// {6, 5, 1, 2}); a layer that is no template has none.
template <class L>
struct layer_arguments {
    static constexpr bool readable = true;
    static constexpr std::array<std::size_t, 0> values{};
};
template <template <std::size_t...> class L, std::size_t... N>
struct layer_arguments<L<N...>> {
    static constexpr bool readable = true;
    static constexpr std::array<std::size_t, sizeof...(N)> values{N...};
};
/// Types as template arguments: an ONNX graph holds nothing they could be read from.
template <template <class...> class L, class... A>
struct layer_arguments<L<A...>> {
    static constexpr bool readable = false;
    static constexpr std::array<std::size_t, 0> values{};
};

template <class L>
std::vector<std::size_t> arguments_of() {
    return {layer_arguments<L>::values.begin(), layer_arguments<L>::values.end()};
}

/// One row of the table: an ONNX op and the typenet layer it becomes.
struct op_fact {
    std::string_view op;       ///< L::onnx_op, "Conv"
    std::string_view variant;  ///< L::onnx_variant, "" or depthwise_variant
    std::string_view layer;    ///< L::name, "conv2d"
    std::size_t arity;         ///< how many template arguments L takes
    bool elementwise;          ///< shape kept, one formula per value (layers/elementwise.hpp)
};

template <class... L>
struct layer_list {};

/// The built-in layers that have an ONNX counterpart. A template layer stands in as any
/// one of its instances: its name, onnx_op and number of arguments do not depend on them.
using onnx_layers = layer_list<dense<1>, conv2d<1, 1>, depthwise_conv2d<1>, max_pool<1>, avg_pool<1>, flatten,
                               global_avg_pool, softmax, relu, relu6, sigmoid, tanh_act, leaky_relu<>>;

namespace detail {

template <class... L>
constexpr auto make_op_table(layer_list<L...>) {
    static_assert((has_onnx_op<L> && ...), "typenet: onnx_layers lists a layer without onnx_op");
    static_assert((layer_arguments<L>::readable && ...), "typenet: onnx_layers lists a layer with type arguments");
    return std::array<op_fact, sizeof...(L)>{
        op_fact{L::onnx_op, variant_of<L>(), L::name, layer_arguments<L>::values.size(), elementwise_layer<L>}...};
}

template <std::size_t N>
constexpr bool each_op_once(const std::array<op_fact, N>& table) {
    for (std::size_t i = 0; i < N; ++i)
        for (std::size_t j = i + 1; j < N; ++j)
            if ((table[i].op == table[j].op && table[i].variant == table[j].variant) ||
                table[i].layer == table[j].layer)
                return false;
    return true;
}

}  // namespace detail

inline constexpr auto op_table = detail::make_op_table(onnx_layers{});
static_assert(variant_of<depthwise_conv2d<1>>() == depthwise_variant,
              "typenet: depthwise_conv2d states the Conv variant the reader looks up");
static_assert(detail::each_op_once(op_table), "typenet: two layers in onnx_layers share an onnx_op or a name");

/// The row of ONNX op `op` in the form `variant`, or nullptr: no typenet layer corresponds to it.
constexpr const op_fact* fact_for(std::string_view op, std::string_view variant = {}) {
    for (const auto& f : op_table)
        if (f.op == op && f.variant == variant) return &f;
    return nullptr;
}

}  // namespace typenet::onnx_import
