#pragma once
// flatten: C x H x W -> C*H*W. Storage is already row-major and contiguous per
// sample, so flatten is free: its stage aliases its input buffer and does nothing.
#include <cstddef>
#include <string_view>

#include "layer.hpp"

namespace typenet {

struct flatten : layer_base {
    static constexpr std::string_view name = "flatten";
    static constexpr std::string_view onnx_op = "Flatten";
    template <class In, std::size_t Index, std::size_t ParamOffset>
    struct stage : stage_defaults {
        using layer = flatten;
        using input_shape = In;
        using output_shape = shape<In::size>;
        static constexpr std::size_t layer_index = Index;
        static constexpr std::size_t param_offset = ParamOffset;
        static constexpr std::size_t flops = 0;
        static constexpr bool aliases_input = true;

        template <class T>
        static void forward(const T*, const T*, T*, std::size_t, T*) {}
        template <class T>
        static void backward(const T*, const T*, const T*, T*, T*, T*, std::size_t, T*) {}
    };
};

}  // namespace typenet
