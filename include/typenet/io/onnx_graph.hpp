#pragma once
// Reading an ONNX file into a run-time description of a typenet network: the layers
// and blocks typenet has, their template arguments and shapes, and their parameters
// already re-laid out the way typenet stores them. io/onnx.hpp checks that
// description against a declared model type and copies the parameters;
// onnx_declaration() prints the typenet type that would match.
//
// Needs Debian's libonnx-dev (the generated protobuf classes, libonnx_proto) and
// libprotobuf: link the CMake target typenet::onnx. Not part of typenet.hpp.
//
// What is understood (everything else is refused with an onnx_error that names
// the node, its op type and the problem):
//   Gemm (transA = 0, alpha = beta = 1, transB 0 or 1)  -> dense<N>
//   MatMul followed by Add of a bias                    -> dense<N>
//   Conv (square kernel, equal strides, symmetric pads, group 1, dilations 1) -> conv2d<F, K, S, P>
//   Conv as above with group = input channels C, F = C * M filters -> depthwise_conv2d<K, S, P, M>
//   BatchNormalization alone reading a Conv's output    -> folded into that layer's weights and bias
//   GlobalAveragePool (a Flatten after it is absorbed)  -> global_avg_pool (output flat: [C])
//   Clip to [0, 6] (bounds as inputs or attributes)     -> relu6
//   Relu, Sigmoid, Tanh, Softmax (last axis)            -> relu, sigmoid, tanh_act, softmax
//   LeakyRelu (alpha in (0, 1], at most 6 decimals)     -> leaky_relu<N, D>, N / D = alpha in lowest terms
//   MaxPool, AveragePool (square, no padding, floor)    -> max_pool<K, S>, avg_pool<K, S>
//   Flatten (axis 1), Reshape to [N, -1]                -> flatten
//   Identity, Dropout, Pad with all pads zero           -> skipped (PyTorch puts a zero Pad
//                                                          before AveragePool)
// Branches (io/onnx_blocks.hpp): a tensor read by several nodes starts a block that ends
// where all its paths meet:
//   Add of the tensor itself and a path                 -> residual<Body...>
//   Add of two paths                                    -> residual<projection<P...>, Body...>, the
//                                                          path with fewer layers the projection (tie:
//                                                          the Add's second input; PyTorch's BasicBlock)
//   Concat (axis 1) of paths                            -> concat<Branch...>, a one-layer branch bare
// Paths may split again inside (nested blocks). Anything else (paths that do not meet, a
// join input from elsewhere, a Concat along another axis) is refused naming the node.
//
// Which layer an op becomes is the layer's own fact (its onnx_op, read into the table
// of io/onnx_ops.hpp); an element-wise layer without template arguments that states an
// onnx_op and is listed there imports with no code of its own. The parts:
//   io/onnx_spec.hpp    the description (layer_spec, imported_graph) and its spelling
//   io/onnx_ops.hpp     the op table, from the layers' facts
//   io/onnx_proto.hpp   protobuf access: attributes, stored tensors, bounds
//   io/onnx_chain.hpp   the chain being built and the shape reaching it
//   io/onnx_conv.hpp    Conv (conv2d, depthwise_conv2d) and the BatchNormalization folded into it
//   io/onnx_nodes.hpp   what each other op means: arguments, shapes, weight layouts
//   io/onnx_blocks.hpp  splits and joins as residual and concat blocks
//   io/onnx_reader.hpp  the graph from the input to the output; read_graph
#include <filesystem>
#include <string>

#include "onnx_reader.hpp"
#include "onnx_spec.hpp"

namespace typenet {

/// The typenet type declaration for the network in an ONNX file. Throws onnx_error.
inline std::string onnx_declaration(const std::filesystem::path& path, const std::string& alias = "imported") {
    return onnx_import::declaration(onnx_import::read_graph(path), alias);
}

}  // namespace typenet
