#pragma once
// The models whose weight files the weights fuzz target loads and make_seeds writes.
#include <cstdint>

#include <typenet/typenet.hpp>

namespace typenet_fuzz {

using mlp_model = typenet::model<typenet::sequential<typenet::input<4>, typenet::dense<5>, typenet::relu,
                                                     typenet::dense<3>>,
                                 float>;
using conv_model = typenet::model<typenet::sequential<typenet::input<1, 6, 6>, typenet::conv2d<2, 3>, typenet::relu,
                                                      typenet::max_pool<2>, typenet::flatten, typenet::dense<3>>,
                                  double>;

template <class Model>
Model make_model() {
    return Model(42);
}

}  // namespace typenet_fuzz
