#!/usr/bin/env bash
# The GPU GEMV benchmark: the fused fast kernel on the four LLM shapes at
# batch 1, 4 and 16, next to a device-to-device copy and cuBLAS fp16 GEMV
# measured in the same run (`lutc gpu-bench --help` explains the columns).
#
#   scripts/gpu-bench.sh [path/to/lutc] [extra gpu-bench flags, e.g. --scheme xfp.v2 --group 0]
#
# Each configuration runs once; its JSON goes to ${OUT_DIR:-gpu-bench-out}/
# and one table of all runs is printed at the end.
set -euo pipefail
LUTC=${1:-build/lutc}
shift || true
OUT_DIR=${OUT_DIR:-gpu-bench-out}
mkdir -p "$OUT_DIR"
for shape in 4096x4096 11008x4096 4096x11008 14336x4096; do
  for batch in 1 4 16; do
    echo "gpu-bench: $shape batch $batch" >&2
    "$LUTC" gpu-bench --synthetic "$shape" --batch "$batch" --json "$@" >"$OUT_DIR/${shape}_b${batch}.json"
  done
done
if command -v python3 >/dev/null; then
  python3 - "$OUT_DIR" <<'PY'
import glob, json, os, sys
print("%-12s %-10s %5s %6s %9s %9s %8s %8s" % ("shape", "scheme", "batch", "bpw", "time_us", "GB/s", "%copy", "xcuBLAS"))
for f in sorted(glob.glob(os.path.join(sys.argv[1], "*_b*.json"))):
    for r in json.load(open(f)):
        print("%-12s %-10s %5d %6.2f %9.2f %9.1f %7.1f%% %8.2f" % ("%dx%d" % (r["rows"], r["cols"]), r.get("scheme", "?"),
              r["batch"], r["stream_bpw"], 1e6 * r["time_s"], r["gb_per_s"], r["pct_of_copy_bw"],
              r["speedup_vs_cublas_fp16"]))
PY
else
  cat "$OUT_DIR"/*.json
fi
