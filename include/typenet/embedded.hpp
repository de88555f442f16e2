#pragma once
// What a header written by export_header needs: the layers and batch-1 inference.
// No file I/O, data sets, training, or xtensor; compiles with -fno-exceptions.
#include "blocks/concat.hpp"
#include "blocks/residual.hpp"
#include "layers/activations.hpp"
#include "layers/conv2d.hpp"
#include "layers/dense.hpp"
#include "layers/depthwise_conv2d.hpp"
#include "layers/flatten.hpp"
#include "layers/global_pool.hpp"
#include "layers/input.hpp"
#include "layers/pooling.hpp"
#include "layers/softmax.hpp"
#include "network/inference.hpp"
#include "network/sequential.hpp"
