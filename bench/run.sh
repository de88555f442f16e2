#!/usr/bin/env bash
# Builds the benchmarks and runs typenet, libtorch and dlib on the same work
# (bench/common.hpp), REPEATS times at 1 and 2 threads, then prints one table:
# medians with min-max, and typenet's speed-up over each peer.
#   bench/run.sh            (REPEATS=3 by default; needs scripts/install-deps.sh --bench)
#   MODELS="bn-cnn mobilenet"  the models to run, in the table's order (default: all five,
#                           mlp lenet bn-cnn mobilenet resnet; resnet's epochs take most of the time)
#   PAIRS=n                 epochs (and MLP throughputs) in turns per model and thread count (bench/paired_epochs; 7 by default)
#   REPORT_ONLY=1           print the table of the last run's results again
# libtorch's 2-thread rows run in three OpenMP / OpenBLAS thread settings and dlib's at
# 1 and 2 OpenBLAS threads; each peer cell is the fastest (bench/README.md says how).
set -euo pipefail
cd "$(dirname "$0")/.."
repeats=${REPEATS:-3}
export MODELS=${MODELS:-mlp lenet bn-cnn mobilenet resnet}
for m in $MODELS; do
  case "$m" in mlp|lenet|bn-cnn|mobilenet|resnet) ;; *) echo "bench/run.sh: unknown model '$m' in MODELS (mlp lenet bn-cnn mobilenet resnet)" >&2; exit 2 ;; esac
done
has_model() { case " $MODELS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
build=${BUILD_DIR:-build-bench}
results="$build/results.txt"   # raw RESULT lines, kept for a second look (REPORT_ONLY=1 prints their table again)
blas_note="$build/openblas_core.txt"  # which OpenBLAS kernels the peers ran on (printed in the table's header)
if [ -z "${REPORT_ONLY:-}" ]; then
cmake -S . -B "$build" -DTYPENET_BUILD_BENCH=ON -DTYPENET_BUILD_TESTS=OFF -DTYPENET_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build" -j2 --target fma_peak blas_core typenet_bench conv_layers torch_bench dlib_bench paired_epochs >/dev/null
: >"$results"
# The peers' BLAS at its best: OpenBLAS picks its kernels from the CPU model, and a
# release that does not know the model falls back to a generic core (0.3.21 on Emerald
# Rapids: Prescott, SSE3 only; libtorch's MLP epoch 3x slower). On such a fallback the
# peers are pinned to the widest core the CPU's features allow. OPENBLAS_CORETYPE set by
# the caller is kept.
# What OpenBLAS picks by itself: asked without the caller's OPENBLAS_CORETYPE, which
# would otherwise be reported back as "detected".
detected=$(env -u OPENBLAS_CORETYPE "$build/bench/blas_core")
if [ -n "${OPENBLAS_CORETYPE:-}" ]; then
  echo "OpenBLAS core: $OPENBLAS_CORETYPE (OPENBLAS_CORETYPE set by the caller; it detects $detected on this CPU)" >"$blas_note"
else
  case "$detected" in
    Prescott|Core2|Penryn|Dunnington|Nehalem|Katmai|Coppermine|Northwood|Banias|Atom|Unknown*|unknown*)
      if grep -q -w avx512f /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX
      elif grep -q -w avx2 /proc/cpuinfo; then export OPENBLAS_CORETYPE=Haswell; fi ;;
  esac
  if [ -n "${OPENBLAS_CORETYPE:-}" ]; then
    echo "OpenBLAS core: $OPENBLAS_CORETYPE (pinned; it detects $detected on this CPU)" >"$blas_note"
  else
    echo "OpenBLAS core: $detected (as detected)" >"$blas_note"
  fi
fi

# peer LABEL VAR=value... PROGRAM ARGS...: runs PROGRAM with those variables set and
# appends its RESULT lines with the library renamed LABEL (library@setting), so that
# every thread setting of a peer keeps its own figures and the table can pick the best.
peer() {
  local label=$1; shift
  env "$@" | sed -n "s/^RESULT [^ ]* /RESULT $label /p" >>"$results"
}
# libtorch's 2-thread settings: "OpenMP OpenBLAS" threads. On 2 cores the two pools
# oversubscribe when both are 2, and which one pays depends on the row (OpenBLAS runs
# the linear layers' GEMMs, OpenMP the rest), so each round runs all three; the order
# rotates by round so that no setting always runs first.
torch_settings=("2 1" "1 2" "2 2")
for r in $(seq "$repeats"); do
  # The probe in every round: on a shared machine the peak itself moves (86-173 GFLOP/s
  # seen within an hour), and its range tells how quiet the round was.
  "$build/bench/fma_peak" 2>/dev/null >>"$results"
  # Every convolution of the CNNs asked for, alone (one thread): GFLOP/s of its three products.
  if has_model bn-cnn || has_model resnet || has_model mobilenet; then "$build/bench/conv_layers" >>"$results"; fi
  "$build/bench/typenet_bench" 1 >>"$results"
  peer libtorch@omp1-blas1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$build/bench/torch_bench" 1 1
  # dlib: its CPU layers run on OpenBLAS (and its dnn_trainer keeps a worker thread of its own).
  peer dlib@blas1 OPENBLAS_NUM_THREADS=1 "$build/bench/dlib_bench" 1
  "$build/bench/typenet_bench" 2 >>"$results"
  for i in 0 1 2; do
    read -r omp blas <<<"${torch_settings[(i + r) % 3]}"
    peer "libtorch@omp$omp-blas$blas" OMP_NUM_THREADS="$omp" OPENBLAS_NUM_THREADS="$blas" "$build/bench/torch_bench" 2 "$omp"
  done
  peer dlib@blas2 OPENBLAS_NUM_THREADS=2 "$build/bench/dlib_bench" 2
  echo "round $r of $repeats done" >&2
done
fi

# The statistics shared by the choice of settings below and the table: RESULT lines by
# library and key (model|metric|threads), medians, and a peer's best setting for a row.
stats_awk='
  $1 == "RESULT" { key = $3 "|" $4 "|" $5; lib = $2; n = ++count[lib, key]; v[lib, key, n] = $6; keys[key] = 1; libs[lib] = 1 }
  function sortv(lib, key,   i, j, t, m) {
    m = count[lib, key]
    for (i = 1; i <= m; i++) s[i] = v[lib, key, i]
    for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (s[j] < s[i]) { t = s[i]; s[i] = s[j]; s[j] = t }
    return m
  }
  function median(lib, key,   m) { m = sortv(lib, key); return m ? (m % 2 ? s[(m + 1) / 2] : (s[m / 2] + s[m / 2 + 1]) / 2) : 0 }
  # The fastest setting (by median) of peer ("libtorch", "dlib") for the row model|metric|th:
  # its settings at th threads and, for th > 1, at fewer threads too, so that a peer
  # slower with 2 threads than with 1 is compared at its 1-thread figure. Sets best_lib,
  # best_key and best_value; returns 0 when the peer has no figure for the row.
  function best(peer, model, metric, th,   tt, k, l, m) {
    best_lib = ""; best_key = ""; best_value = 0
    for (tt = th; tt >= 1; tt--) {
      k = model "|" metric "|" tt
      for (l in libs) if (index(l, peer "@") == 1 && count[l, k]) {
        m = median(l, k)
        if (best_lib == "" || (metric == "throughput" ? m > best_value : m < best_value)) {
          best_lib = l; best_key = k; best_value = m
        }
      }
    }
    return best_lib != ""
  }
  # "libtorch@omp2-blas1" -> "OMP 2 / OpenBLAS 1"; "dlib@blas2" -> "OpenBLAS 2".
  function setting_name(lib,   n) {
    n = lib; sub(/^[^@]*@/, "", n)
    if (n ~ /^omp/) { sub(/^omp/, "OMP ", n); sub(/-blas/, " / OpenBLAS ", n) } else sub(/^blas/, "OpenBLAS ", n)
    return n
  }
'
# libtorch's fastest setting for the 2-thread row model|metric (omp<N>-blas<M>), from this run's results.
best_torch_setting() {
  awk -v model="$1" -v metric="$2" "$stats_awk"'
    END { if (best("libtorch", model, metric, 2)) { sub(/^libtorch@/, "", best_lib); print best_lib } else print "omp2-blas1" }' "$results"
}

if [ -z "${REPORT_ONLY:-}" ]; then
# libtorch and typenet epochs in turns in one process: a ratio per pair, free of the
# machine's drift. At 2 threads each part runs with libtorch's fastest setting for its
# row in the rounds above (its 1-thread setting where that was faster).
# (The MLP and LeNet only: their epochs take a second, the CNNs' tens of seconds.)
for part in "mlp epoch_s mlp" "lenet epoch_s lenet" "mlp throughput throughput"; do
  read -r model metric what <<<"$part"
  has_model "$model" || continue
  peer paired@omp1-blas1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$build/bench/paired_epochs" 1 "${PAIRS:-7}" "$what" 1
done
for part in "mlp epoch_s mlp" "lenet epoch_s lenet" "mlp throughput throughput"; do
  read -r model metric what <<<"$part"
  has_model "$model" || continue
  setting=$(best_torch_setting "$model" "$metric")
  omp=${setting#omp}; omp=${omp%%-*}; blas=${setting##*blas}
  peer "paired@$setting" OMP_NUM_THREADS="$omp" OPENBLAS_NUM_THREADS="$blas" "$build/bench/paired_epochs" 2 "${PAIRS:-7}" "$what" "$omp"
done
fi

simd_level=$(grep -q -w avx512f /proc/cpuinfo && echo avx512f || (grep -q -w avx2 /proc/cpuinfo && echo avx2) || echo sse)
echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $simd_level"
cat "$blas_note" 2>/dev/null || true
echo "Packages: $(dpkg-query -W -f='${Package} ${Version}; ' xtensor-dev libxsimd-dev libtorch-dev libdlib-dev libopenblas0-pthread 2>/dev/null)"
echo "Command: REPEATS=$repeats MODELS=\"$MODELS\" bench/run.sh   ($(date -u +%Y-%m-%d))"
echo
awk -v models_asked="$MODELS" -v results_file="$results" "$stats_awk"'
  function cell(lib, key,   m, med) {
    m = sortv(lib, key); if (!m) return "-"
    med = median(lib, key); m = sortv(lib, key)
    return sprintf("%.4g (%.4g–%.4g)", med, s[1], s[m])
  }
  # The cell of a peer for a row: the median (min–max) of its best setting, named at 2
  # threads for libtorch (several settings), or marked where its 1-thread figure was faster.
  function peer_cell(peer, model, metric, th,   c, k) {
    if (!best(peer, model, metric, th)) return "-"
    c = cell(best_lib, best_key); split(best_key, k, "|")
    if (k[3] + 0 < th) return c " (1 thread faster)"
    if (th > 1 && peer == "libtorch") return c " [" setting_name(best_lib) "]"
    return c
  }
  # The cell of the pairs: their ratio and, at 2 threads, the libtorch setting they ran.
  function paired_cell(key, th,   l) {
    for (l in libs) if (index(l, "paired@") == 1 && count[l, key])
      return cell(l, key) (th > 1 ? " [libtorch " setting_name(l) "]" : "")
    return "-"
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
    nm = split(models_asked, models, " "); split("epoch_s latency_us latency_bf16_us throughput", metrics, " ")
    for (mi = 1; mi <= nm; mi++) for (ti = 1; ti <= 4; ti++) for (th = 1; th <= 2; th++) {
      key = models[mi] "|" metrics[ti] "|" th
      if (!(key in keys)) continue
      pm = metrics[ti] == "latency_bf16_us" ? "latency_us" : metrics[ti]
      t = median("typenet", key)
      lc = peer_cell("libtorch", models[mi], pm, th); p = best_value
      dc = peer_cell("dlib", models[mi], pm, th); d = best_value
      printf "| %s | %s | %d | %s | %s | %s | %s | %s |\n", models[mi], metrics[ti], th,
             cell("typenet", key), lc, dc, speedup(metrics[ti], t, p), speedup(metrics[ti], t, d)
    }
    print "\nlibtorch and dlib: each cell is the fastest of their settings (medians); a 2-thread cell marked (1 thread faster) shows the 1-thread figure, and its ratio is against that."
    # Every setting of the peers, so that the choice can be checked.
    split("libtorch@omp1-blas1 libtorch@omp2-blas1 libtorch@omp1-blas2 libtorch@omp2-blas2 dlib@blas1 dlib@blas2", settings, " ")
    printf "\nThe peers at each setting (medians; OMP = libtorch intra-op threads, OpenBLAS = OPENBLAS_NUM_THREADS; the 1-thread rows use the first setting of each):\n\n| model | metric |"
    for (si = 1; si <= 6; si++) printf " %s %s |", substr(settings[si], 1, index(settings[si], "@") - 1), setting_name(settings[si])
    printf "\n|---|---|"
    for (si = 1; si <= 6; si++) printf "---|"
    printf "\n"
    split("epoch_s latency_us throughput", peer_metrics, " ")
    for (mi = 1; mi <= nm; mi++) for (ti = 1; ti <= 3; ti++) {
      printf "| %s | %s |", models[mi], peer_metrics[ti]
      for (si = 1; si <= 6; si++) {
        k = models[mi] "|" peer_metrics[ti] "|" 2
        if (!count[settings[si], k]) k = models[mi] "|" peer_metrics[ti] "|" 1
        printf " %s |", count[settings[si], k] ? sprintf("%.4g", median(settings[si], k)) : "-"
      }
      printf "\n"
    }
    pairs = 0
    for (l in libs) if (index(l, "paired@") == 1 && count[l, "mlp|epoch_speedup|1"]) pairs = count[l, "mlp|epoch_speedup|1"]
    printf "\nEpochs in turns in one process (bench/paired_epochs, %s pairs, the side that runs first alternating), libtorch time over typenet time, median (min–max):", pairs
    for (mi = 1; mi <= nm; mi++) for (th = 1; th <= 2; th++)
      if (models[mi] == "mlp" || models[mi] == "lenet")
        printf " %s %d thread%s %s;", models[mi], th, (th > 1 ? "s" : ""), paired_cell(models[mi] "|epoch_speedup|" th, th)
    printf "\n"
    printf "MLP batch-256 throughput in turns (the same pairs), typenet over libtorch, median (min–max):"
    for (th = 1; th <= 2; th++)
      printf " %d thread%s %s;", th, (th > 1 ? "s" : ""), paired_cell("mlp|throughput_speedup|" th, th)
    printf "\n"
    printf "\nTest accuracy after the one-epoch run (typenet, float weights → bfloat16 weights):"
    for (mi = 1; mi <= nm; mi++)
      printf " %s %s → %s;", models[mi], cell("typenet", models[mi] "|test_accuracy|1"), cell("typenet", models[mi] "|test_accuracy_bf16|1")
    printf "\n"
    # typenet on two threads against one, its own epochs (medians).
    printf "\ntypenet epoch, 1 thread over 2 threads (medians):"
    for (mi = 1; mi <= nm; mi++) {
      one = median("typenet", models[mi] "|epoch_s|1"); two = median("typenet", models[mi] "|epoch_s|2")
      if (one && two) printf " %s %.2f×;", models[mi], one / two
    }
    printf "\n"
    peak = median("machine", "fp32|peak_gflops|1")
    # The convolutions alone (bench/conv_layers, one thread), medians and % of the median peak.
    conv_rows = 0
    for (k in keys) if (k ~ /^conv:/ && k ~ /forward_gflops/) conv_rows++
    if (conv_rows) {
      printf "\nEvery convolution alone (bench/conv_layers, one thread; GFLOP/s, %% of the FMA peak):\n\n"
      print "| convolution | batch | forward | weight gradient | input gradient |"
      print "|---|---|---|---|---|"
      # In the order conv_layers ran them: by first appearance in the results.
      while ((getline line < results_file) > 0) {
        split(line, fld, " ")
        if (fld[1] != "RESULT" || fld[3] !~ /^conv:/ || fld[4] != "forward_gflops" || (fld[3] in shown)) continue
        shown[fld[3]] = 1; name = substr(fld[3], 6); batch = name; sub(/^.*@/, "", batch); sub(/@[0-9]+$/, "", name); gsub(/_/, " ", name)
        printf "| %s | %s |", name, batch
        split("forward_gflops weight_grad_gflops input_grad_gflops", cm, " ")
        for (ci = 1; ci <= 3; ci++) { g = median("typenet", fld[3] "|" cm[ci] "|1"); printf " %.1f (%.0f %%) |", g, 100 * g / peak }
        printf "\n"
      }
    }
    f = median("typenet", "dense784x128|forward_gflops|1"); b = median("typenet", "dense784x128|backward_gflops|1")
    if (f) {
      printf "\nDense 784→128 (+ReLU) at batch 64, one thread: forward %.1f GFLOP/s (%.0f %% of peak), backward %.1f GFLOP/s (%.0f %% of peak)\n",
             f, 100 * f / peak, b, 100 * b / peak
      f = median("typenet", "dense784x128_first|forward_gflops|1"); b = median("typenet", "dense784x128_first|backward_gflops|1")
      printf "The same as a first layer (skipping zero inputs; dense inputs, so none to skip): forward %.1f GFLOP/s (%.0f %% of peak), backward %.1f GFLOP/s (%.0f %% of peak)\n",
             f, 100 * f / peak, b, 100 * b / peak
    }
    print "Speed-up: the time of the peer over the time of typenet (epoch, latency), or typenet throughput over the peer throughput; above 1 means typenet is faster."
  }' "$results"
