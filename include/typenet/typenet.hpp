#pragma once
// typenet: neural networks for image analysis as C++ types.
//
//   using net = typenet::sequential<typenet::input<784>, typenet::dense<128>, typenet::relu, typenet::dense<10>>;
//   typenet::model<net> m{42};
//   auto history = typenet::fit(m, data, typenet::softmax_cross_entropy{}, typenet::sgd{.learning_rate = 0.1});

#include "core/bfloat16.hpp"
#include "core/classes.hpp"
#include "core/diagnostic.hpp"
#include "core/random.hpp"
#include "core/shape.hpp"
#include "core/storage.hpp"
#include "core/thread_pool.hpp"
#include "core/type_name.hpp"

#include "layers/activations.hpp"
#include "layers/batch_norm.hpp"
#include "layers/conv2d.hpp"
#include "layers/dense.hpp"
#include "layers/depthwise_conv2d.hpp"
#include "layers/dropout.hpp"
#include "layers/elementwise.hpp"
#include "layers/flatten.hpp"
#include "layers/global_pool.hpp"
#include "layers/input.hpp"
#include "layers/lane_math.hpp"
#include "layers/pooling.hpp"
#include "layers/protocol.hpp"
#include "layers/softmax.hpp"

#include "blocks/chain.hpp"
#include "blocks/concat.hpp"
#include "blocks/residual.hpp"

#include "network/batch_inference.hpp"
#include "network/inference.hpp"
#include "network/inspect.hpp"
#include "network/model.hpp"
#include "network/passes.hpp"
#include "network/plan.hpp"
#include "network/fold.hpp"
#include "network/fusion.hpp"
#include "network/reduced_precision.hpp"
#include "network/sequential.hpp"
#include "network/workspace.hpp"

#include "loss/binary_cross_entropy.hpp"
#include "loss/hinge.hpp"
#include "loss/mse.hpp"
#include "loss/softmax_cross_entropy.hpp"

#include "io/export_header.hpp"
#include "io/plot.hpp"
#include "io/weights.hpp"
// io/png.hpp needs stb_image_write (libstb-dev): include it where you draw.

#include "optim/adam.hpp"
#include "optim/schedule.hpp"
#include "optim/sgd.hpp"

#include "data/dataset.hpp"
#include "data/fashion_mnist.hpp"
#include "data/idx.hpp"
#include "data/labeled_images.hpp"
#include "data/split.hpp"
#include "data/synthetic.hpp"

#include "train/checkpoint.hpp"
#include "train/fit.hpp"
#include "train/gradient_check.hpp"
#include "train/history.hpp"
#include "train/metrics.hpp"
#include "train/progress.hpp"
#include "train/random_streams.hpp"
#include "train/report.hpp"
#include "train/augment.hpp"
#include "train/trainer.hpp"
