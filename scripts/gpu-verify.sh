#!/usr/bin/env bash
# Every GPU number docs/cuda.md asks for, in one run on a machine with an
# NVIDIA GPU. Sized to stay under ~8 minutes on one H100 (an estimate, not yet
# timed there: on 2 CPU cores without a GPU the quantize steps take ~1 minute;
# gpu-check's CPU-side golden references on the synthetic set dominate the rest):
#   a. the device: nvidia-smi, and the device line lutc itself sees
#      (a tiny `lutc bench --gpu` run);
#   b. ctest -L cuda (the GPU parity tests; with CUDA_TESTS=BIN, that gtest
#      binary directly, as in a scripts/gpu-bundle bundle);
#   c. lutc gpu-check --vs-emulation (GPU vs golden, and the fast GEMV vs its
#      CPU emulation), batch 1 and 16, JSON, on stories260K and on the
#      synthetic LLM-shaped set (synth:default) quantized with every scheme:
#      xfp (auto), xfp.v2, xfp.v2a, int4.g128, nf4.b64, fp8.e4m3 and the sop
#      formats e2m3.ue4m4.b16 and pair(nf4,dd4).ue4m3.b16;
#   d. scripts/gpu-bench.sh (the fast kernel vs D2D copy and cuBLAS fp16).
#
#   scripts/gpu-verify.sh [path/to/lutc] [BUILD_DIR]     (defaults: build/lutc build)
#
# Everything goes under ${OUT:-gpu-verify-out}/: one log per step in logs/,
# gpu-check JSON in gpu-check/, benchmark JSON in gpu-bench/, and summary.txt.
# Every step runs and its exit code is kept; the script exits non-zero at the
# end when any step failed. It stops early (summary still written) only when
# lutc is missing or has no CUDA commands, when a GPU step finds no CUDA
# device (exit 4: nothing later could run), or at the first failure with
# STOP_ON_FAIL=1. Inputs: stories260K from ${LUTC_DATA:-../shared/data}.
set -u

# Paths given as arguments are relative to the current folder; the defaults
# (build/lutc, build, ../shared/data) to the repository root.
abs() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/$1" ;; esac; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LUTC=$(abs "${1:-$ROOT/build/lutc}")
BUILD=$(abs "${2:-$ROOT/build}")
OUT=$(abs "${OUT:-gpu-verify-out}")
STORIES=$(abs "${LUTC_DATA:-$ROOT/../shared/data}")/stories260K/stories260K.bin
cd "$ROOT"

mkdir -p "$OUT/logs" "$OUT/xfp" "$OUT/gpu-check" "$OUT/gpu-bench"
STEP_NAMES=()
STEP_RCS=()
STEP_SECS=()
STEP_NOTES=()
FAILED=0
START=$SECONDS

summary() {
  {
    printf '\ngpu-verify summary (%s)\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    printf 'lutc: %s\nout:  %s\n\n' "$LUTC" "$OUT"
    printf '%-52s %-9s %5s  %s\n' "step" "status" "sec" "result"
    local i status
    for i in "${!STEP_NAMES[@]}"; do
      case "${STEP_RCS[$i]}" in
        0) status=ok ;;
        *) status="FAIL(${STEP_RCS[$i]})" ;;
      esac
      printf '%-52s %-9s %5s  %s\n' "${STEP_NAMES[$i]}" "$status" "${STEP_SECS[$i]}" "${STEP_NOTES[$i]}"
    done
    if [ -s "$OUT/gpu-bench/summary.txt" ]; then
      printf '\ngpu-bench (fast kernel, %s):\n' "gpu-bench/*.json"
      cat "$OUT/gpu-bench/summary.txt"
    fi
    printf '\n%d step(s), %d failed, %d s in all\n' "${#STEP_NAMES[@]}" "$FAILED" "$((SECONDS - START))"
  } | tee "$OUT/summary.txt"
}

finish() {
  summary
  [ "$FAILED" -eq 0 ] && exit 0
  exit 1
}

# record NAME RC SECS NOTE
record() {
  STEP_NAMES+=("$1")
  STEP_RCS+=("$2")
  STEP_SECS+=("$3")
  STEP_NOTES+=("$4")
  if [ "$2" -ne 0 ]; then
    FAILED=$((FAILED + 1))
    printf '  FAILED (exit %s): %s\n' "$2" "$4"
    if [ "${STOP_ON_FAIL:-0}" = 1 ]; then
      echo "gpu-verify: stopping at the first failure (STOP_ON_FAIL=1)"
      finish
    fi
  fi
}

# run NAME LOG NOTE_IF_OK cmd... : stdout and stderr to LOG; sets RC.
run() {
  local name=$1 log=$2 note=$3 t0=$SECONDS
  shift 3
  printf '== %s\n' "$name"
  "$@" >"$log" 2>&1
  RC=$?
  if [ "$RC" -ne 0 ]; then note="see ${log#"$OUT"/}: $(tail -n 1 "$log" | cut -c1-100)"; fi
  record "$name" "$RC" "$((SECONDS - t0))" "$note"
}

no_device_stop() {
  echo "gpu-verify: no CUDA device (exit 4); the GPU steps after this one cannot run. Logs: $OUT/logs/"
  echo "(lutc gpu-check X.xfp --emulate checks the kernels' code on the CPU, without a GPU.)"
  finish
}

# ---- preconditions ----------------------------------------------------------
if [ ! -x "$LUTC" ]; then
  record "lutc binary" 4 0 "$LUTC does not exist (build first: scripts/setup)"
  finish
fi
if ! "$LUTC" --help | grep '^  gpu-check ' >/dev/null; then
  record "lutc has CUDA commands" 2 0 "$LUTC has no gpu-check: built without CUDA (no nvcc at configure time)"
  finish
fi
if [ ! -f "$STORIES" ]; then
  record "stories260K" 4 0 "$STORIES not found (set LUTC_DATA to the folder holding stories260K/)"
  finish
fi

# ---- a. the device ----------------------------------------------------------
{
  echo "lutc: $LUTC ($("$LUTC" --version))"
  echo "source: $(git -C "$ROOT" rev-parse HEAD 2>/dev/null) ($(git -C "$ROOT" status --short 2>/dev/null | wc -l) changed files)"
  command -v nvcc >/dev/null && nvcc --version | tail -n 2
  uname -a
} >"$OUT/logs/env.txt" 2>&1
if command -v nvidia-smi >/dev/null; then
  run "a. nvidia-smi" "$OUT/logs/nvidia-smi.txt" "logs/nvidia-smi.txt" nvidia-smi
else
  record "a. nvidia-smi" 127 0 "nvidia-smi not found"
fi
run "a. lutc device (bench --gpu)" "$OUT/logs/device.txt" "" \
  "$LUTC" bench --gpu --synthetic 1024x1024 --repeat 2
if [ "$RC" -eq 0 ]; then STEP_NOTES[$((${#STEP_NOTES[@]} - 1))]=$(head -n 1 "$OUT/logs/device.txt"); fi
[ "$RC" -eq 4 ] && NO_DEVICE=1 || NO_DEVICE=0

# ---- b. ctest -L cuda -------------------------------------------------------
# CUDA_TESTS=path/to/cuda_tests runs the test binary directly (a bundle from
# scripts/gpu-bundle, where no ctest tree exists); otherwise ctest in BUILD.
if [ -n "${CUDA_TESTS:-}" ]; then
  run "b. cuda_tests" "$OUT/logs/ctest-cuda.txt" "" "$(abs "$CUDA_TESTS")" --gtest_brief=1
  note=$(grep -E '^\[  PASSED  \]|^\[  FAILED  \] [0-9]' "$OUT/logs/ctest-cuda.txt" | tr '\n' ' ')
  skipped=$(grep -oE '^\[  SKIPPED \] [0-9]+' "$OUT/logs/ctest-cuda.txt" | grep -oE '[0-9]+$' || echo 0)
else
  run "b. ctest -L cuda" "$OUT/logs/ctest-cuda.txt" "" \
    ctest --test-dir "$BUILD" -L cuda --output-on-failure --no-tests=error
  note=$(grep -E 'tests passed|tests failed' "$OUT/logs/ctest-cuda.txt" | tail -n 1)
  skipped=$(grep -c '\*\*\*Skipped' "$OUT/logs/ctest-cuda.txt")
fi
[ "$RC" -eq 0 ] && STEP_NOTES[$((${#STEP_NOTES[@]} - 1))]="$note; $skipped skipped"
if [ "$RC" -eq 0 ] && [ "$skipped" -gt 0 ] && [ "$NO_DEVICE" -eq 0 ]; then
  record "b. cuda tests ran (none skipped)" 1 0 "$skipped CUDA test(s) skipped although a device was found"
fi

# ---- c. quantize, then gpu-check --------------------------------------------
# name | lutc quantize flags
SCHEMES=(
  "xfp|--scheme xfp"
  "xfp.v2.b4|--scheme xfp.v2 --bits 4"
  "xfp.v2.b3.g128|--scheme xfp.v2 --bits 3 --group 128"
  "xfp.v2a.b4|--scheme xfp.v2a --bits 4"
  "int4.g128|--scheme int4.g128"
  "nf4.b64|--scheme nf4.b64"
  "fp8.e4m3|--scheme fp8.e4m3"
  "sop.e2m3.ue4m4.b16|--scheme sop --sop-format e2m3.ue4m4.b16"
  "sop.pair-nf4-dd4.ue4m3.b16|--scheme sop --sop-format pair(nf4,dd4).ue4m3.b16"
)
INPUTS=("stories260K|$STORIES" "synth|synth:default")

XFPS=()
for input in "${INPUTS[@]}"; do
  in_name=${input%%|*}
  in_path=${input#*|}
  for s in "${SCHEMES[@]}"; do
    name=${s%%|*}
    read -r -a flags <<<"${s#*|}"
    xfp="$OUT/xfp/$in_name.$name.xfp"
    run "c. quantize $in_name $name" "$OUT/logs/quantize.$in_name.$name.txt" "" \
      "$LUTC" quantize "$in_path" "${flags[@]}" -o "$xfp" --report "$OUT/xfp/$in_name.$name.report.json" --quiet
    if [ "$RC" -eq 0 ]; then
      STEP_NOTES[$((${#STEP_NOTES[@]} - 1))]=$(sed -n 's/^total: \([0-9]* layers\).* \([0-9.]* effective bpw\).*\(SQNR [0-9.-]* dB\).*/\1, \2, \3/p' \
        "$OUT/logs/quantize.$in_name.$name.txt")
      XFPS+=("$in_name.$name")
    fi
  done
done

# --vs-emulation (where this lutc has it): the device's fast GEMV must also
# equal its CPU emulation bit for bit, i.e. the GPU ran the code as designed.
VS_EMUL=()
"$LUTC" gpu-check --help | grep -- '--vs-emulation' >/dev/null && VS_EMUL=(--vs-emulation)
for id in "${XFPS[@]}"; do
  for batch in 1 16; do
    json="$OUT/gpu-check/$id.b$batch.json"
    printf '== c. gpu-check %s batch %s\n' "$id" "$batch"
    t0=$SECONDS
    "$LUTC" gpu-check "$OUT/xfp/$id.xfp" --batch "$batch" --json ${VS_EMUL[@]+"${VS_EMUL[@]}"} \
      >"$json" 2>"$OUT/logs/gpu-check.$id.b$batch.txt"
    rc=$?
    if [ "$rc" -eq 0 ] || [ "$rc" -eq 70 ]; then
      note=$(python3 - "$json" 2>/dev/null <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
c = j["checks"]
worst = max([max(x["f16_nmse"], x["bf16_nmse"]) for x in c] or [0])
emul = [x["fast_equals_emulation"] for x in c if "fast_equals_emulation" in x]
print("%d mismatches over %d layers, max fast NMSE %.2e%s" % (j["mismatches"], len(c), worst,
      ", fast == emulation on %d/%d" % (sum(emul), len(emul)) if emul else ""))
EOF
)
      [ -n "$note" ] || note=$(grep -m1 '"mismatches"' "$json" | tr -d ' ,')
    else
      note="see logs/gpu-check.$id.b$batch.txt: $(tail -n 1 "$OUT/logs/gpu-check.$id.b$batch.txt" | cut -c1-90)"
    fi
    record "c. gpu-check $id b$batch" "$rc" "$((SECONDS - t0))" "$note"
    [ "$rc" -eq 4 ] && no_device_stop
  done
done

# ---- d. benchmark -----------------------------------------------------------
run "d. scripts/gpu-bench.sh" "$OUT/logs/gpu-bench.txt" "tables in logs/gpu-bench.txt, JSON in gpu-bench/" \
  env OUT_DIR="$OUT/gpu-bench" "$ROOT/scripts/gpu-bench.sh" "$LUTC"
[ "$RC" -eq 4 ] && no_device_stop
python3 - "$OUT/gpu-bench" >"$OUT/gpu-bench/summary.txt" 2>/dev/null <<'EOF'
import glob, json, os, sys
print("%-12s %5s %6s %9s %9s %8s %8s" % ("shape", "batch", "bpw", "time_us", "GB/s", "%copy", "xcuBLAS"))
for f in sorted(glob.glob(os.path.join(sys.argv[1], "*_b*.json"))):
    for r in json.load(open(f)):
        print("%-12s %5d %6.2f %9.2f %9.1f %7.1f%% %8.2f" % ("%dx%d" % (r["rows"], r["cols"]), r["batch"],
              r["stream_bpw"], 1e6 * r["time_s"], r["gb_per_s"], r["pct_of_copy_bw"], r["speedup_vs_cublas_fp16"]))
EOF

finish
