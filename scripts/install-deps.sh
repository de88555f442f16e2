#!/usr/bin/env bash
# Installs everything typenet needs from Debian packages (run as root).
# Usage: scripts/install-deps.sh [--bench] [--onnx-fixtures]
#   --bench          also installs the other peers used by bench/ (dlib, OpenBLAS).
#   --onnx-fixtures  also installs PyTorch and python3-onnx (about 174 MB), needed
#                    only to regenerate tests/onnx/ with scripts/make_onnx_fixtures.py;
#                    the generated fixtures are committed, so CI does not need them.
set -euo pipefail

packages=(
  build-essential cmake ccache pkg-config
  xtl-dev libxsimd-dev xtensor-dev libboost-dev catch2
  zlib1g-dev libcli11-dev libstb-dev
  clang-format-14              # scripts/format.sh --check (CI): the committed .clang-format
  clang-14 libclang-rt-14-dev  # fuzzing (scripts/fuzz.sh): libFuzzer ships with clang's runtime
  dataset-fashion-mnist
  libonnx-dev libprotobuf-dev  # ONNX import (typenet::onnx), its test and tool; generated headers, no protoc needed
  libtorch-dev                 # test_torch_parity: outputs and gradients against libtorch (about 1 GB installed)
)
for arg in "$@"; do
  case "$arg" in
    --bench) packages+=(libdlib-dev libopenblas-dev) ;;
    --onnx-fixtures) packages+=(python3-torch python3-onnx) ;;
    *) echo "install-deps.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends "${missing[@]}"
fi
