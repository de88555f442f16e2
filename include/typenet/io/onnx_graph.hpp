#pragma once
// Reading an ONNX file into a run-time description of a sequential network: the
// layers typenet has, their template arguments and shapes, and their parameters
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
//   Relu, Sigmoid, Tanh, Softmax (last axis)            -> relu, sigmoid, tanh_act, softmax
//   LeakyRelu (alpha in (0, 1], at most 6 decimals)     -> leaky_relu<N, D>, N / D = alpha in lowest terms
//   MaxPool, AveragePool (square, no padding, floor)    -> max_pool<K, S>, avg_pool<K, S>
//   Flatten (axis 1), Reshape to [N, -1]                -> flatten
//   Identity, Dropout, Pad with all pads zero           -> skipped (PyTorch puts a zero Pad
//                                                          before AveragePool)
// The graph must be one chain from its single input to its single output.
//
// Which layer an op becomes is the layer's own fact (its onnx_op, read into the table
// of io/onnx_ops.hpp); an element-wise layer without template arguments that states an
// onnx_op and is listed there imports with no code of its own. The parts:
//   io/onnx_spec.hpp    the description (layer_spec, imported_graph) and its spelling
//   io/onnx_ops.hpp     the op table, from the layers' facts
//   io/onnx_proto.hpp   protobuf access: attributes, stored tensors, bounds
//   io/onnx_nodes.hpp   what each op means: arguments, shapes, weight layouts
//   io/onnx_reader.hpp  the chain from the input to the output; read_graph
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
