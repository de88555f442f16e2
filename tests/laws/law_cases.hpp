#pragma once
// The layer-law type list: every layer and activation, each in a small network that
// puts it where it works (an activation after a convolution and after a dense layer,
// where both fuse it; batch_norm after both kinds of producer). test_layer_laws holds
// every case to the same laws; the export fixture writes every case as a header.
//
// Adding a layer: its header, and one line here (its network, its loss, the network's
// parameter count worked out by hand, the layer's stable spelling).
#include <algorithm>
#include <cstddef>
#include <string_view>
#include <tuple>

#include <typenet/typenet.hpp>

namespace laws {

using namespace typenet;

/// A string as a template argument: the layer's spelling in a case's type.
template <std::size_t N>
struct fixed_string {
    char text[N];
    constexpr fixed_string(const char (&s)[N]) { std::copy(s, s + N, text); }
    constexpr std::string_view view() const { return {text, N - 1}; }
};

template <class Layer, fixed_string Spelling, class Net, class Loss, std::size_t Parameters>
struct law_case {
    using layer = Layer;
    using net = Net;
    using loss = Loss;
    static constexpr std::size_t parameters = Parameters;  ///< of the whole network, by hand
    static constexpr auto spelling = Spelling;             ///< type_name<Layer>() in weight files and reports
};

/// conv2d<3, 3> (2*9*3 + 3 = 57) -> 3x4x4, Act, flatten, dense<5> (48*5 + 5 = 245), Act, dense<3> (18).
template <class Act, fixed_string Spelling>
using activation_case =
    law_case<Act, Spelling, sequential<input<2, 6, 6>, conv2d<3, 3>, Act, flatten, dense<5>, Act, dense<3>>,
             softmax_cross_entropy, 57 + 245 + 18>;

using layer_cases = std::tuple<
    law_case<dense<5>, "dense<5>", sequential<input<6>, dense<5>>, softmax_cross_entropy, 6 * 5 + 5>,
    law_case<conv2d<3, 3, 1, 1>, "conv2d<3, 3, 1, 1>",
             sequential<input<2, 5, 5>, conv2d<3, 3, 1, 1>, flatten, dense<3>>, softmax_cross_entropy, 57 + 75 * 3 + 3>,
    law_case<conv2d<2, 3, 2, 0>, "conv2d<2, 3, 2, 0>",
             sequential<input<1, 7, 7>, conv2d<2, 3, 2, 0>, flatten, dense<3>>, softmax_cross_entropy,
             9 * 2 + 2 + 18 * 3 + 3>,
    law_case<max_pool<2, 2>, "max_pool<2, 2>",
             sequential<input<2, 6, 6>, conv2d<3, 3>, max_pool<2, 2>, flatten, dense<3>>, softmax_cross_entropy,
             57 + 12 * 3 + 3>,
    law_case<avg_pool<2, 2>, "avg_pool<2, 2>",
             sequential<input<2, 6, 6>, conv2d<3, 3>, avg_pool<2, 2>, flatten, dense<3>>, softmax_cross_entropy,
             57 + 12 * 3 + 3>,
    law_case<flatten, "flatten", sequential<input<2, 3, 3>, flatten, dense<3>>, softmax_cross_entropy, 18 * 3 + 3>,
    law_case<softmax, "softmax", sequential<input<6>, dense<4>, softmax>, mse, 6 * 4 + 4>,
    law_case<batch_norm, "batch_norm",
             sequential<input<2, 6, 6>, conv2d<3, 3>, batch_norm, relu, flatten, dense<4>, batch_norm, dense<3>>,
             softmax_cross_entropy, 57 + 6 + (48 * 4 + 4) + 8 + (4 * 3 + 3)>,
    law_case<dropout<25>, "dropout<25>", sequential<input<6>, dense<8>, relu, dropout<25>, dense<3>>,
             softmax_cross_entropy, 6 * 8 + 8 + 8 * 3 + 3>,
    // Output rows of 18: whole vectors and tails in float and double. The first is followed by
    // batch_norm (folded into it), the second fused with relu. Each: 9 * 2 + 2 = 20.
    law_case<depthwise_conv2d<3, 1, 1>, "depthwise_conv2d<3, 1, 1, 1>",
             sequential<input<2, 6, 18>, depthwise_conv2d<3, 1, 1>, batch_norm, relu, depthwise_conv2d<3, 1, 1>, relu,
                        flatten, dense<3>>,
             softmax_cross_entropy, 20 + 4 + 20 + 216 * 3 + 3>,
    /// Stride 2, two filters a channel: 2 x 7 x 35 -> 4 x 4 x 18 (9 * 4 + 4 = 40).
    law_case<depthwise_conv2d<3, 2, 1, 2>, "depthwise_conv2d<3, 2, 1, 2>",
             sequential<input<2, 7, 35>, depthwise_conv2d<3, 2, 1, 2>, flatten, dense<3>>, softmax_cross_entropy,
             40 + 288 * 3 + 3>,
    /// conv2d<3, 3> (57) -> 3 x 5 x 5, the mean of each map, dense<3> (12).
    law_case<global_avg_pool, "global_avg_pool", sequential<input<2, 7, 7>, conv2d<3, 3>, global_avg_pool, dense<3>>,
             softmax_cross_entropy, 57 + 12>,
    /// A 1 x 1 convolution on 7 x 7 maps (4 * 2 + 4 = 12): its columns are the image, whatever the vector width.
    law_case<conv2d<4, 1>, "conv2d<4, 1, 1, 0>", sequential<input<2, 7, 7>, conv2d<4, 1>, relu, flatten, dense<3>>,
             softmax_cross_entropy, 12 + 196 * 3 + 3>>;

using activation_cases =
    std::tuple<activation_case<identity, "identity">, activation_case<relu, "relu">,
               activation_case<leaky_relu<1, 10>, "leaky_relu<1, 10>">, activation_case<relu6, "relu6">,
               activation_case<sigmoid, "sigmoid">, activation_case<tanh_act, "tanh_act">,
               activation_case<gelu, "gelu">, activation_case<silu, "silu">>;

/// Blocks (blocks/): each in a network that sums or joins what the protocol's laws reach
/// through it: batch_norm and dropout in a body, a projection, branches of different
/// depths, a block inside a block.
using block_cases = std::tuple<
    // conv 57; body: conv 84, batch_norm 6, conv 84, batch_norm 6; dense 75 * 3 + 3.
    law_case<residual<conv2d<3, 3, 1, 1>, batch_norm, relu, conv2d<3, 3, 1, 1>, batch_norm>,
             "residual<conv2d<3, 3, 1, 1>, batch_norm, relu, conv2d<3, 3, 1, 1>, batch_norm>",
             sequential<input<2, 5, 5>, conv2d<3, 3, 1, 1>, relu,
                        residual<conv2d<3, 3, 1, 1>, batch_norm, relu, conv2d<3, 3, 1, 1>, batch_norm>, relu, flatten,
                        dense<3>>,
             softmax_cross_entropy, 57 + 180 + 228>,
    // body: conv 76, batch_norm 8, conv 148, batch_norm 8; projection: conv 12, batch_norm 8; dense 36 * 3 + 3.
    law_case<residual<projection<conv2d<4, 1, 2>, batch_norm>, conv2d<4, 3, 2, 1>, batch_norm, relu, conv2d<4, 3, 1, 1>,
                      batch_norm>,
             "residual<projection<conv2d<4, 1, 2, 0>, batch_norm>, conv2d<4, 3, 2, 1>, batch_norm, relu, "
             "conv2d<4, 3, 1, 1>, batch_norm>",
             sequential<input<2, 6, 6>,
                        residual<projection<conv2d<4, 1, 2>, batch_norm>, conv2d<4, 3, 2, 1>, batch_norm, relu,
                                 conv2d<4, 3, 1, 1>, batch_norm>,
                        relu, flatten, dense<3>>,
             softmax_cross_entropy, 240 + 20 + 111>,
    // branches: conv 6 (2 x 5 x 5), conv 57 (3 x 5 x 5), pool + padded 1 x 1 conv 3 (1 x 5 x 5); dense 150 * 3 + 3.
    law_case<
        concat<conv2d<2, 1>, branch<conv2d<3, 3, 1, 1>, relu>, branch<max_pool<3, 1>, conv2d<1, 1, 1, 1>>>,
        "concat<conv2d<2, 1, 1, 0>, branch<conv2d<3, 3, 1, 1>, relu>, branch<max_pool<3, 1>, conv2d<1, 1, 1, 1>>>",
        sequential<input<2, 5, 5>,
                   concat<conv2d<2, 1>, branch<conv2d<3, 3, 1, 1>, relu>, branch<max_pool<3, 1>, conv2d<1, 1, 1, 1>>>,
                   flatten, dense<3>>,
        softmax_cross_entropy, 6 + 57 + 3 + 453>,
    // concat 3 + 19, the inner residual's conv 38; dense 32 * 3 + 3.
    law_case<residual<concat<conv2d<1, 1>, branch<conv2d<1, 3, 1, 1>, relu>>, residual<conv2d<2, 3, 1, 1>>>,
             "residual<concat<conv2d<1, 1, 1, 0>, branch<conv2d<1, 3, 1, 1>, relu>>, residual<conv2d<2, 3, 1, 1>>>",
             sequential<input<2, 4, 4>,
                        residual<concat<conv2d<1, 1>, branch<conv2d<1, 3, 1, 1>, relu>>, residual<conv2d<2, 3, 1, 1>>>,
                        flatten, dense<3>>,
             softmax_cross_entropy, 22 + 38 + 99>,
    // dense 28; body: dense 20, dense 20; dense 15.
    law_case<residual<dense<4>, relu, dropout<25>, dense<4>>, "residual<dense<4>, relu, dropout<25>, dense<4>>",
             sequential<input<6>, dense<4>, residual<dense<4>, relu, dropout<25>, dense<4>>, relu, dense<3>>,
             softmax_cross_entropy, 28 + 40 + 15>>;

/// Every case, for the export fixture.
using all_cases = decltype(std::tuple_cat(std::declval<layer_cases>(), std::declval<activation_cases>(),
                                          std::declval<block_cases>()));

}  // namespace laws
