#!/usr/bin/env bash
# The long fuzzing campaign, run once per issue that touches a reader (README,
# Reliability): every target (the folders of tests/fuzz/corpus/) in turn, until
# RUNS executions (default 10 million) or MAX_SECONDS (default 1800) have passed,
# whichever comes first. Built with clang-14 and -fsanitize=fuzzer,undefined
# (SANITIZERS), which runs several times faster than address,undefined; replay
# what it finds under address,undefined (scripts/fuzz.sh or the replay tests).
#
# Polite to a shared machine: one target at a time, pinned to ONE core (CPU,
# default 1) at nice 19, building with -j1 in its own build tree, build-fuzz/campaign/
# (so that build-fuzz/, scripts/fuzz.sh's, keeps its sanitizers).
#
# New inputs are written to build-fuzz/campaign/work/<target>/, then merged into
# tests/fuzz/corpus/<target>/ with libFuzzer's -merge=1: only inputs that add
# coverage are copied, so the committed corpus stays small. A finding does not
# stop the campaign; it is left in build-fuzz/campaign/findings/ and counted.
#
# At the end it prints a Markdown table (executions, time, exec/s, corpus before
# and after the merge, findings per target) to paste into the closing note; it is
# also written to build-fuzz/campaign/summary.md. libFuzzer's output per target:
# build-fuzz/campaign/logs/<target>.log (and <target>-merge.log).
#
# Usage: scripts/fuzz-campaign.sh [TARGET...]
#   e.g. nohup scripts/fuzz-campaign.sh > /work/campaign.log 2>&1 &
# Afterwards: git status tests/fuzz/corpus; git add tests/fuzz/corpus/<target>/...
set -uo pipefail
cd "$(dirname "$0")/.."
runs="${RUNS:-10000000}"
max_seconds="${MAX_SECONDS:-1800}"
cpu="${CPU:-1}"
sanitizers="${SANITIZERS:-undefined}"
build="${BUILD:-build-fuzz/campaign}"
targets=("$@")
if ((${#targets[@]} == 0)); then
  for d in tests/fuzz/corpus/*/; do targets+=("$(basename "$d")"); done
fi
pin=(nice -n 19 taskset -c "$cpu")

echo "== fuzz campaign: ${targets[*]}; $runs runs or ${max_seconds}s each, -fsanitize=fuzzer,$sanitizers, CPU $cpu"
echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- include tests/fuzz || echo ' (with uncommitted changes)')"
CXX="${CXX:-clang++-14}" cmake -S . -B "$build" -DTYPENET_BUILD_FUZZ=ON -DCMAKE_BUILD_TYPE=Release \
  -DTYPENET_FUZZ_SANITIZERS="$sanitizers" >/dev/null || exit 1
"${pin[@]}" cmake --build "$build" -j1 --target "${targets[@]/#/fuzz_}" || exit 1

bin="$build/tests/fuzz"
mkdir -p "$build/findings" "$build/logs"
cpu_name=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
table=("| target | executions | time (s) | exec/s | corpus files before → after merge | findings |"
       "|---|---:|---:|---:|---:|---|")
total_findings=0
for t in "${targets[@]}"; do
  work="$build/work/$t"
  corpus="tests/fuzz/corpus/$t"
  mkdir -p "$work" "tests/fuzz/regressions/$t"
  log="$build/logs/$t.log"
  before=$(find "$corpus" -maxdepth 1 -type f | wc -l)
  found_before=$(find "$build/findings" -maxdepth 1 -type f -name "$t-*" | wc -l)
  echo "== fuzz_$t: started $(date -u '+%H:%M:%S UTC'), log $log"
  start=$(date +%s)
  "${pin[@]}" "$bin/fuzz_$t" -runs="$runs" -max_total_time="$max_seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$build/findings/$t-" \
    "$work" "$corpus" "tests/fuzz/regressions/$t" >"$log" 2>&1
  rc=$?
  seconds=$(($(date +%s) - start))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  # Only inputs that add coverage to the committed corpus are copied into it.
  "${pin[@]}" "$bin/fuzz_$t" -merge=1 -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$build/findings/$t-merge-" \
    "$corpus" "$work" >"$build/logs/$t-merge.log" 2>&1 || echo "   merge of $t failed, see $build/logs/$t-merge.log"
  after=$(find "$corpus" -maxdepth 1 -type f | wc -l)
  found=$(($(find "$build/findings" -maxdepth 1 -type f -name "$t-*" | wc -l) - found_before))
  if ((rc != 0 && found == 0)); then found=1; fi  # e.g. a sanitizer report without an artifact
  total_findings=$((total_findings + found))
  if ((found == 0)); then what="none"; else what="**$found** (exit $rc; $build/findings/$t-*)"; fi
  line="| $t | ${execs:-?} | $seconds | ${rate:-?} | $before → $after | $what |"
  echo "   $line"
  table+=("$line")
done

{
  echo "Fuzz campaign, commit $(git rev-parse --short HEAD), $(date -u '+%Y-%m-%d'): clang-14 -fsanitize=fuzzer,$sanitizers,"
  echo "each target until $runs executions or ${max_seconds} s, one core ($cpu_name) at nice 19:"
  echo
  printf '%s\n' "${table[@]}"
  echo
  if ((total_findings == 0)); then echo "No findings."; else echo "$total_findings finding(s): see $build/findings/."; fi
} >"$build/summary.md"
echo "== summary ($build/summary.md)"
cat "$build/summary.md"
echo "== new corpus inputs (commit them: git add tests/fuzz/corpus):"
git status --short --untracked-files=all tests/fuzz/corpus | sed 's/^/   /'
((total_findings == 0))
