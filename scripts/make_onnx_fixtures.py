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


def conv_bn(c_in, c_out, k, stride=1, groups=1):
    return [nn.Conv2d(c_in, c_out, k, stride=stride, padding=k // 2, groups=groups, bias=False), nn.BatchNorm2d(c_out)]


class BasicBlock(nn.Module):
    """torchvision's ResNet BasicBlock: out = bn2(conv2(relu(bn1(conv1(x))))) + downsample(x), then relu.
    `out += identity` exports as Add(body, shortcut): the importer takes the path with fewer layers as the
    projection (here the downsample's conv + bn), so the declared type is residual<projection<...>, body...>."""

    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.conv1, self.bn1 = conv_bn(c_in, c_out, 3, stride)
        self.relu = nn.ReLU()
        self.conv2, self.bn2 = conv_bn(c_out, c_out, 3)
        self.downsample = None
        if stride != 1 or c_in != c_out:
            self.downsample = nn.Sequential(*conv_bn(c_in, c_out, 1, stride))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        out += identity
        return self.relu(out)


def resnet():
    # stem conv + bn + relu, an identity block, a projection block with stride 2, global average pool, linear
    return nn.Sequential(*conv_bn(3, 8, 3), nn.ReLU(), BasicBlock(8, 8, 1), BasicBlock(8, 16, 2),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10))


class InvertedResidual(nn.Module):
    """MobileNetV2's block: 1x1 expand + bn + relu6, 3x3 depthwise + bn + relu6 (depth multiplier
    `multiplier`: MobileNetV2 uses 1), 1x1 project + bn; x + block(x) where the shapes allow."""

    def __init__(self, c_in, c_out, stride, expand, multiplier=1):
        super().__init__()
        hidden = c_in * expand
        self.use_residual = stride == 1 and c_in == c_out
        self.conv = nn.Sequential(*conv_bn(c_in, hidden, 1), nn.ReLU6(),
                                  *conv_bn(hidden, hidden * multiplier, 3, stride, groups=hidden), nn.ReLU6(),
                                  *conv_bn(hidden * multiplier, c_out, 1))

    def forward(self, x):
        return x + self.conv(x) if self.use_residual else self.conv(x)


def mobilenet():
    return nn.Sequential(*conv_bn(3, 8, 3), nn.ReLU6(), InvertedResidual(8, 8, 1, 2),
                         InvertedResidual(8, 12, 2, 2, multiplier=2), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(12, 5))


class Inception(nn.Module):
    """Three branches joined along channels: a 1x1 conv; 1x1, relu, 3x3; 3x3 conv + bn, relu."""

    def __init__(self, c_in):
        super().__init__()
        self.a = nn.Conv2d(c_in, 4, 1)
        self.b = nn.Sequential(nn.Conv2d(c_in, 3, 1), nn.ReLU(), nn.Conv2d(3, 5, 3, padding=1))
        self.c = nn.Sequential(*conv_bn(c_in, 6, 3), nn.ReLU())

    def forward(self, x):
        return torch.cat([self.a(x), self.b(x), self.c(x)], dim=1)


def inception():
    return nn.Sequential(nn.Conv2d(3, 6, 3), nn.ReLU(), Inception(6), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Linear(15, 4))


def randomize_batch_norm(model):
    """Running statistics and affine parameters away from their initial 0/1, so that folding them matters."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.3, 0.3)


def fold_batch_norm(model):
    """The same network with every BatchNorm2d folded into the Conv2d before it (the eval export's folding,
    done by PyTorch's own fuse_conv_bn_eval), so that its float64 run has the float32 weights of a file
    without BatchNormalization nodes."""
    import copy
    from torch.nn.utils.fusion import fuse_conv_bn_eval
    model = copy.deepcopy(model)

    def fold(module):
        names = list(module._modules)
        for i, name in enumerate(names):
            child = module._modules[name]
            if isinstance(child, nn.BatchNorm2d):
                prev = module._modules[names[i - 1]]
                module._modules[names[i - 1]] = fuse_conv_bn_eval(prev, child)
                module._modules[name] = nn.Identity()
            elif child is not None:
                fold(child)

    fold(model)
    return model


def fmt(values, digits):
    return " ".join(f"{v:.{digits}g}" for v in values)


def export(name, net, input_shape, out_dir, dynamic_batch, seed, samples=3, batch_norm=None):
    """batch_norm: None (no BatchNorm2d); "kept" exports the BatchNormalization nodes (TrainingMode.PRESERVE
    of an eval model) and takes float64 outputs from the model as it is; "folded" (torch.onnx.export's
    default) folds them into the convolutions in float32, so float64 outputs come from the model folded the
    same way first (fold_batch_norm), whose weights are then the file's."""
    torch.manual_seed(seed)
    model = net()
    if batch_norm:
        randomize_batch_norm(model)
    model.eval()
    example = torch.randn(1, *input_shape)
    path = os.path.join(out_dir, name + ".onnx")
    training = torch.onnx.TrainingMode.PRESERVE if batch_norm == "kept" else torch.onnx.TrainingMode.EVAL
    exported = fold_batch_norm(model) if batch_norm == "folded" else model
    torch.onnx.export(exported, example, path, opset_version=OPSET, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}} if dynamic_batch else None,
                      do_constant_folding=True, training=training)
    onnx.checker.check_model(onnx.load(path))
    x = torch.randn(samples, *input_shape)
    with torch.no_grad():
        y32 = model(x)  # PyTorch's own network, batch norm unfolded
        y64 = exported.double()(x.double())
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
    # Blocks: residual (identity and projection), concat, depthwise convolutions, relu6, global average pool.
    export("resnet", resnet, (3, 12, 12), out_dir, True, 6, batch_norm="kept")
    export("mobilenet", mobilenet, (3, 12, 12), out_dir, True, 7, batch_norm="folded")
    export("inception", inception, (3, 8, 8), out_dir, True, 8, batch_norm="kept")
    # Seed corpus of tests/fuzz/fuzz_onnx.cpp (its fixed architecture is small_cnn's).
    corpus = os.path.join(root, "tests", "fuzz", "corpus", "onnx")
    if len(sys.argv) == 1:
        os.makedirs(corpus, exist_ok=True)
        shutil.copy(small, os.path.join(corpus, "small_cnn.onnx"))
        shutil.copy(tiny, os.path.join(corpus, "tiny_mlp.onnx"))
        shutil.copy(unsupported, os.path.join(corpus, "leaky.onnx"))


if __name__ == "__main__":
    main()
