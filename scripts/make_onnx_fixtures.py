#!/usr/bin/python3
"""Writes the ONNX fixtures of tests/test_onnx.cpp and tests/fuzz/corpus/onnx/.

Models are built in PyTorch with fixed seeds and exported with torch.onnx.export;
next to each model, <name>.ref holds reference inputs and PyTorch's outputs for
them, in float32 and (the same weights and inputs, widened) in float64.

Needs Debian's python3-torch and python3-onnx (hence /usr/bin/python3, not a
virtualenv's). The generated files are committed, so building and testing
typenet does not need PyTorch; run this again after changing a model:

    /usr/bin/python3 scripts/make_onnx_fixtures.py [OUTPUT_DIR]   # default tests/onnx
"""
import os
import shutil
import sys

import onnx
import torch
import torch.nn as nn

OPSET = 13


class MatMulAdd(nn.Module):
    """x @ W + b with W stored [in][out]: exports as MatMul + Add (not Gemm)."""

    def __init__(self, n_in, n_out):
        super().__init__()
        bound = 1.0 / n_in ** 0.5
        self.weight = nn.Parameter(torch.empty(n_in, n_out).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(n_out).uniform_(-bound, bound))

    def forward(self, x):
        return torch.matmul(x, self.weight) + self.bias


class Reshape(nn.Module):
    def __init__(self, features):
        super().__init__()
        self.features = features

    def forward(self, x):
        return x.reshape(-1, self.features)  # a constant target shape [-1, features]


def mlp():
    # 784-32-16-10: Gemm (transB=1), Relu, Gemm, Tanh, MatMul+Add, Sigmoid
    return nn.Sequential(nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 16), nn.Tanh(), MatMulAdd(16, 10), nn.Sigmoid())


def lenet():
    # LeNet-like: Conv (pads 2), Relu, MaxPool, Conv, Tanh, AveragePool, Flatten, Gemm, Sigmoid, Gemm, Softmax
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(400, 32), nn.Sigmoid(), nn.Linear(32, 10), nn.Softmax(dim=1))


def small_cnn():
    # Conv with stride 2 and pads 1, MaxPool with stride 1, Dropout (skipped), Reshape to [-1, N], MatMul+Add
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, stride=2, padding=1), nn.ReLU(), nn.MaxPool2d(2, stride=1), nn.Dropout(0.5),
        Reshape(100), MatMulAdd(100, 3))


def tiny_mlp():
    return nn.Sequential(nn.Linear(8, 4), nn.ReLU(), nn.Linear(4, 3))


def leaky():
    # LeakyRelu is not a typenet layer: the importer must refuse it by name.
    return nn.Sequential(nn.Linear(8, 4), nn.LeakyReLU(0.1), nn.Linear(4, 3))


def fmt(values, digits):
    return " ".join(f"{v:.{digits}g}" for v in values)


def export(name, net, input_shape, out_dir, dynamic_batch, seed, samples=3):
    torch.manual_seed(seed)
    model = net()
    model.eval()
    example = torch.randn(1, *input_shape)
    path = os.path.join(out_dir, name + ".onnx")
    torch.onnx.export(model, example, path, opset_version=OPSET, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}} if dynamic_batch else None,
                      do_constant_folding=True)
    onnx.checker.check_model(onnx.load(path))
    x = torch.randn(samples, *input_shape)
    with torch.no_grad():
        y32 = model(x)
        y64 = model.double()(x.double())
    with open(os.path.join(out_dir, name + ".ref"), "w") as f:
        f.write(f"typenet-onnx-reference 1\n{samples} {x[0].numel()} {y32[0].numel()}\n")
        for i in range(samples):
            f.write(fmt(x[i].flatten().tolist(), 9) + "\n")
        for i in range(samples):
            f.write(fmt(y32[i].flatten().tolist(), 9) + "\n")
        for i in range(samples):
            f.write(fmt(y64[i].flatten().tolist(), 17) + "\n")
    return path


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "tests", "onnx")
    os.makedirs(out_dir, exist_ok=True)
    export("mlp", mlp, (784,), out_dir, True, 1)
    export("lenet", lenet, (1, 28, 28), out_dir, True, 2)
    small = export("small_cnn", small_cnn, (1, 12, 12), out_dir, False, 3)
    tiny = export("tiny_mlp", tiny_mlp, (8,), out_dir, True, 4)
    unsupported = export("leaky", leaky, (8,), out_dir, True, 5)
    # Seed corpus of tests/fuzz/fuzz_onnx.cpp (its fixed architecture is small_cnn's).
    corpus = os.path.join(root, "tests", "fuzz", "corpus", "onnx")
    if len(sys.argv) == 1:
        os.makedirs(corpus, exist_ok=True)
        shutil.copy(small, os.path.join(corpus, "small_cnn.onnx"))
        shutil.copy(tiny, os.path.join(corpus, "tiny_mlp.onnx"))
        shutil.copy(unsupported, os.path.join(corpus, "leaky.onnx"))


if __name__ == "__main__":
    main()
