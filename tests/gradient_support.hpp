#pragma once
// The one acceptance rule of the gradient-check tests (test_gradients,
// test_regularization): every layer's parameter and input gradients agree with
// central differences within `bound`, and inputs were actually checked.
#include <catch2/catch.hpp>

#include <typenet/train/gradient_check.hpp>

namespace test_support {

inline void require_all_below(const typenet::gradient_check_result& r, double bound) {
    for (const auto& l : r.layers) {
        INFO("layer " << l.layer_index << " " << l.layer << ": parameter error " << l.parameter_error
                      << ", input error " << l.input_error);
        CHECK(l.parameter_error <= bound);
        CHECK(l.input_error <= bound);
        CHECK(l.inputs_checked > 0);
    }
}

}  // namespace test_support
