// The layer laws (laws/laws.hpp) over the blocks (residual, concat), each in a network
// that reaches batch_norm, dropout, a projection and a nested block through it.
#define TYPENET_COUNTING_NEW_COUNTERS_ONLY  // operator new is replaced in test_layer_laws_layers.cpp
#include "counting_new.hpp"
#define TYPENET_LAW_CASES laws::block_cases
#define TYPENET_LAW_GROUP "blocks"
#include "laws/laws.hpp"
