#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/) with clang-14 in build-fuzz/ and runs
# each for SECONDS (default 60), one after another at low priority. Fails on the
# first finding; the input is left in build-fuzz/tests/fuzz/findings/ -- fix the
# bug, then copy the input to tests/fuzz/regressions/<target>/ so it stays a test.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]      (targets: the folders of tests/fuzz/corpus/)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then
  for d in tests/fuzz/corpus/*/; do targets+=("$(basename "$d")"); done
fi
CXX="${CXX:-clang++-14}" cmake -S . -B build-fuzz -DTYPENET_BUILD_FUZZ=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-fuzz -j2 --target "${targets[@]/#/fuzz_}"
mkdir -p build-fuzz/tests/fuzz/findings
for t in "${targets[@]}"; do
  mkdir -p "build-fuzz/tests/fuzz/work/$t" "tests/fuzz/regressions/$t"
  echo "== fuzz_$t: ${seconds}s"
  nice -n 10 "build-fuzz/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="build-fuzz/tests/fuzz/findings/$t-" \
    "build-fuzz/tests/fuzz/work/$t" "tests/fuzz/corpus/$t" "tests/fuzz/regressions/$t"
done
