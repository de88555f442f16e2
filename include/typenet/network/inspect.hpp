#pragma once
// Looking inside a network: every layer's output for one sample, e.g. to draw the
// feature maps of convolutions. Runs the reference plan (one stage per layer),
// so each layer's own output is visible, not only fused results.
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>

#include <boost/hana/for_each.hpp>

#include "../core/type_name.hpp"
#include "model.hpp"
#include "passes.hpp"

namespace typenet {

/// One layer's output for one sample, as passed to for_each_layer_output.
template <class T>
struct layer_output {
    std::size_t layer_index;
    std::string layer;                  ///< e.g. "conv2d<6, 5, 1, 0>" (type_name: every template argument)
    std::span<const std::size_t> dims;  ///< the layer's output shape
    std::span<const T> values;
};

/// Calls f(layer_output<T>) for every layer, in order, on the sample x.
template <class Arch, class T, class F>
void for_each_layer_output(const model<Arch, T>& m, std::span<const T> x, F&& f) {
    if (x.size() != Arch::input_size)
        throw std::invalid_argument("for_each_layer_output: input has " + std::to_string(x.size()) +
                                    " values, the network's input needs " + std::to_string(Arch::input_size));
    workspace<Arch, T, execution::reference> ws(1);
    forward_pass(m.parameters().data(), ws, x.data(), 1, false, m.inference_mode());
    boost::hana::for_each(Arch::reference_plan::types, [&](auto t) {
        using S = typename decltype(t)::type;
        using out = typename S::output_shape;
        f(layer_output<T>{S::layer_index, type_name<typename S::layer>(),
                          std::span<const std::size_t>(out::dims.data(), out::rank),
                          std::span<const T>(ws.activation(S::position + 1), out::size)});
    });
}

}  // namespace typenet
