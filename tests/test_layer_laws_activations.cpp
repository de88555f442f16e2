// The layer laws (laws/laws.hpp) over the element-wise layers, each fused after a
// convolution and after a dense layer.
#define TYPENET_COUNTING_NEW_COUNTERS_ONLY  // operator new is replaced in test_layer_laws_layers.cpp
#include "counting_new.hpp"
#define TYPENET_LAW_CASES laws::activation_cases
#define TYPENET_LAW_GROUP "activations"
#include "laws/laws.hpp"
