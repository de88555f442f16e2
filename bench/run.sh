#!/usr/bin/env bash
# Builds the benchmarks and runs typenet, libtorch and dlib on the same work
# (bench/common.hpp), REPEATS times at 1 and 2 threads, then prints one table:
# medians with min-max, and typenet's speed-up over each peer.
#   bench/run.sh            (REPEATS=3 by default; needs scripts/install-deps.sh --bench)
#   PAIRS=n                 epochs (and MLP throughputs) in turns per model and thread count (bench/paired_epochs; 7 by default)
#   REPORT_ONLY=1           print the table of the last run's results again
set -euo pipefail
cd "$(dirname "$0")/.."
repeats=${REPEATS:-3}
build=${BUILD_DIR:-build-bench}
results="$build/results.txt"   # raw RESULT lines, kept for a second look (REPORT_ONLY=1 prints their table again)
blas_note="$build/openblas_core.txt"  # which OpenBLAS kernels the peers ran on (printed in the table's header)
if [ -z "${REPORT_ONLY:-}" ]; then
cmake -S . -B "$build" -DTYPENET_BUILD_BENCH=ON -DTYPENET_BUILD_TESTS=OFF -DTYPENET_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build" -j2 --target fma_peak blas_core typenet_bench torch_bench dlib_bench paired_epochs >/dev/null
: >"$results"
# The peers' BLAS at its best: OpenBLAS picks its kernels from the CPU model, and a
# release that does not know the model falls back to a generic core (0.3.21 on Emerald
# Rapids: Prescott, SSE3 only; libtorch's MLP epoch 3x slower). On such a fallback the
# peers are pinned to the widest core the CPU's features allow. OPENBLAS_CORETYPE set by
# the caller is kept.
detected=$("$build/bench/blas_core")
if [ -z "${OPENBLAS_CORETYPE:-}" ]; then
  case "$detected" in
    Prescott|Core2|Penryn|Dunnington|Nehalem|Katmai|Coppermine|Northwood|Banias|Atom|Unknown*|unknown*)
      if grep -q -w avx512f /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX
      elif grep -q -w avx2 /proc/cpuinfo; then export OPENBLAS_CORETYPE=Haswell; fi ;;
  esac
fi
if [ -n "${OPENBLAS_CORETYPE:-}" ]; then
  echo "OpenBLAS core: $OPENBLAS_CORETYPE (pinned; it detects $detected on this CPU)" >"$blas_note"
else
  echo "OpenBLAS core: $detected (as detected)" >"$blas_note"
fi
for r in $(seq "$repeats"); do
  # The probe in every round: on a shared machine the peak itself moves (86-173 GFLOP/s
  # seen within an hour), and its range tells how quiet the round was.
  "$build/bench/fma_peak" 2>/dev/null >>"$results"
  for t in 1 2; do
    "$build/bench/typenet_bench" "$t" >>"$results"
    # libtorch: its own intra-op threads; OpenBLAS pinned to 1 or the two oversubscribe the cores.
    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS="$t" "$build/bench/torch_bench" "$t" >>"$results"
    # dlib: its CPU layers run on OpenBLAS.
    OPENBLAS_NUM_THREADS="$t" "$build/bench/dlib_bench" "$t" >>"$results"
  done
  echo "round $r of $repeats done" >&2
done
# libtorch and typenet epochs in turns in one process: a ratio per pair, free of the machine's drift.
for t in 1 2; do
  OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS="$t" "$build/bench/paired_epochs" "$t" "${PAIRS:-7}" | grep '^RESULT' >>"$results"
done
fi

simd_level=$(grep -q -w avx512f /proc/cpuinfo && echo avx512f || (grep -q -w avx2 /proc/cpuinfo && echo avx2) || echo sse)
echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $simd_level"
cat "$blas_note" 2>/dev/null || true
echo "Packages: $(dpkg-query -W -f='${Package} ${Version}; ' xtensor-dev libxsimd-dev libtorch-dev libdlib-dev libopenblas0-pthread 2>/dev/null)"
echo "Command: REPEATS=$repeats bench/run.sh   ($(date -u +%Y-%m-%d))"
echo
awk '
  $1 == "RESULT" { key = $3 "|" $4 "|" $5; lib = $2; n = ++count[lib, key]; v[lib, key, n] = $6; keys[key] = 1 }
  function sortv(lib, key,   i, j, t, m) {
    m = count[lib, key]
    for (i = 1; i <= m; i++) s[i] = v[lib, key, i]
    for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (s[j] < s[i]) { t = s[i]; s[i] = s[j]; s[j] = t }
    return m
  }
  function median(lib, key,   m) { m = sortv(lib, key); return m ? (m % 2 ? s[(m + 1) / 2] : (s[m / 2] + s[m / 2 + 1]) / 2) : 0 }
  function cell(lib, key,   m, med) {
    m = sortv(lib, key); if (!m) return "-"
    med = median(lib, key); m = sortv(lib, key)
    return sprintf("%.4g (%.4g–%.4g)", med, s[1], s[m])
  }
  function speedup(metric, t, p) {
    if (!t || !p) return "-"
    return sprintf("%.2f×", metric == "throughput" ? t / p : p / t)
  }
  END {
    printf "FP32 peak (one core): %s GFLOP/s\n\n", cell("machine", "fp32|peak_gflops|1")
    print "| model | metric | threads | typenet | libtorch | dlib | typenet vs libtorch | typenet vs dlib |"
    print "|---|---|---|---|---|---|---|---|"
    # latency_bf16_us: typenet with bfloat16 weights against the float latency of the peers.
    split("mlp lenet", models, " "); split("epoch_s latency_us latency_bf16_us throughput", metrics, " ")
    for (mi = 1; mi <= 2; mi++) for (ti = 1; ti <= 4; ti++) for (th = 1; th <= 2; th++) {
      key = models[mi] "|" metrics[ti] "|" th
      if (!(key in keys)) continue
      peer = metrics[ti] == "latency_bf16_us" ? models[mi] "|latency_us|" th : key
      t = median("typenet", key); p = median("libtorch", peer); d = median("dlib", peer)
      printf "| %s | %s | %d | %s | %s | %s | %s | %s |\n", models[mi], metrics[ti], th,
             cell("typenet", key), cell("libtorch", peer), cell("dlib", peer),
             speedup(metrics[ti], t, p), speedup(metrics[ti], t, d)
    }
    pairs = count["paired", "mlp|epoch_speedup|1"]
    printf "\nEpochs in turns in one process (bench/paired_epochs, %s pairs), libtorch time over typenet time, median (min–max):", pairs
    for (mi = 1; mi <= 2; mi++) for (th = 1; th <= 2; th++)
      printf " %s %d thread%s %s;", models[mi], th, (th > 1 ? "s" : ""), cell("paired", models[mi] "|epoch_speedup|" th)
    printf "\n"
    printf "MLP batch-256 throughput in turns (the same pairs), typenet over libtorch, median (min–max):"
    for (th = 1; th <= 2; th++)
      printf " %d thread%s %s;", th, (th > 1 ? "s" : ""), cell("paired", "mlp|throughput_speedup|" th)
    printf "\n"
    printf "\nTest accuracy after the one-epoch run (typenet, float weights → bfloat16 weights):"
    for (mi = 1; mi <= 2; mi++)
      printf " %s %s → %s;", models[mi], cell("typenet", models[mi] "|test_accuracy|1"), cell("typenet", models[mi] "|test_accuracy_bf16|1")
    printf "\n"
    peak = median("machine", "fp32|peak_gflops|1")
    f = median("typenet", "dense784x128|forward_gflops|1"); b = median("typenet", "dense784x128|backward_gflops|1")
    printf "\nDense 784→128 (+ReLU) at batch 64, one thread: forward %.1f GFLOP/s (%.0f %% of peak), backward %.1f GFLOP/s (%.0f %% of peak)\n",
           f, 100 * f / peak, b, 100 * b / peak
    f = median("typenet", "dense784x128_first|forward_gflops|1"); b = median("typenet", "dense784x128_first|backward_gflops|1")
    printf "The same as a first layer (skipping zero inputs; dense inputs, so none to skip): forward %.1f GFLOP/s (%.0f %% of peak), backward %.1f GFLOP/s (%.0f %% of peak)\n",
           f, 100 * f / peak, b, 100 * b / peak
    print "Speed-up: the time of the peer over the time of typenet (epoch, latency), or typenet throughput over the peer throughput; above 1 means typenet is faster."
  }' "$results"
