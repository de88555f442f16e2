#!/usr/bin/env bash
# Installs everything typenet needs from Debian packages (run as root).
# Usage: scripts/install-deps.sh [--bench]
#   --bench  also installs the peers used by bench/ (libtorch, dlib).
set -euo pipefail

packages=(
  build-essential cmake ccache pkg-config
  xtl-dev libxsimd-dev xtensor-dev libboost-dev catch2
  zlib1g-dev libcli11-dev libstb-dev
  clang-14 libclang-rt-14-dev  # fuzzing (scripts/fuzz.sh): libFuzzer ships with clang's runtime
  dataset-fashion-mnist
)
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(libtorch-dev libdlib-dev libopenblas-dev)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends "${missing[@]}"
fi
