#!/usr/bin/env bash
# The GPU GEMV benchmark: the fused fast kernel on the four LLM shapes at
# batch 1, 4 and 16, next to a device-to-device copy and cuBLAS fp16 GEMV
# measured in the same run (`lutc gpu-bench --help` explains the columns).
#
#   scripts/gpu-bench.sh [path/to/lutc] [extra gpu-bench flags, e.g. --scheme xfp.v2 --group 0]
#
# Writes one JSON file per run under ${OUT_DIR:-gpu-bench-out}/ and prints the tables.
set -euo pipefail
LUTC=${1:-build/lutc}
shift || true
OUT_DIR=${OUT_DIR:-gpu-bench-out}
mkdir -p "$OUT_DIR"
for shape in 4096x4096 11008x4096 4096x11008 14336x4096; do
  for batch in 1 4 16; do
    "$LUTC" gpu-bench --synthetic "$shape" --batch "$batch" "$@"
    "$LUTC" gpu-bench --synthetic "$shape" --batch "$batch" --json "$@" >"$OUT_DIR/${shape}_b${batch}.json"
  done
done
