#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/) with clang-14 in build-fuzz/ and runs
# each for SECONDS (default 60), one after another at low priority. Fails on the
# first finding; the input is left in build-fuzz/tests/fuzz/findings/ -- fix the
# bug, then copy the input to tests/fuzz/regressions/<target>/ so it stays a test.
# Ends with one line per target: executions, seconds, corpus size.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]      (targets: the folders of tests/fuzz/corpus/)
# FUZZ_SANITIZERS: the sanitizers besides fuzzer (default address,undefined; the
# long campaign, scripts/fuzz-campaign.sh, builds its own with undefined only).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then
  for d in tests/fuzz/corpus/*/; do targets+=("$(basename "$d")"); done
fi
CXX="${CXX:-clang++-14}" cmake -S . -B build-fuzz -DTYPENET_BUILD_FUZZ=ON -DCMAKE_BUILD_TYPE=Release \
  -DTYPENET_FUZZ_SANITIZERS="${FUZZ_SANITIZERS:-address,undefined}" >/dev/null
cmake --build build-fuzz -j2 --target "${targets[@]/#/fuzz_}"
mkdir -p build-fuzz/tests/fuzz/findings build-fuzz/tests/fuzz/logs
summary=()
for t in "${targets[@]}"; do
  mkdir -p "build-fuzz/tests/fuzz/work/$t" "tests/fuzz/regressions/$t"
  echo "== fuzz_$t: ${seconds}s"
  log="build-fuzz/tests/fuzz/logs/$t.log"
  # A finding stops the run here (pipefail + set -e), after its report is printed.
  nice -n 10 "build-fuzz/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="build-fuzz/tests/fuzz/findings/$t-" \
    "build-fuzz/tests/fuzz/work/$t" "tests/fuzz/corpus/$t" "tests/fuzz/regressions/$t" 2>&1 | tee "$log"
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
  corp=$(grep -o 'corp: [0-9]*/[0-9]*[a-zA-Z]*' "$log" | tail -1 | cut -d' ' -f2)
  summary+=("$(printf '%-11s %12s executions in %5s s, corpus %s' "$t" "${execs:-?}" "${secs:-?}" "${corp:-?}")")
done
echo "== summary (no findings)"
printf '%s\n' "${summary[@]}"
