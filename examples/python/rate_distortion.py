#!/usr/bin/env python3
"""Rate-distortion of stories260K with the lutc Python package, notebook style.

Quantizes the real stories260K weights with three schemes, prints effective bpw and SQNR per
scheme, plots SQNR against bpw (matplotlib, Agg backend) into OUT/rate_distortion.png, then
compiles one layer for the default arch, simulates it on the SystemC model and prints cycles and
energy.

usage: examples/python/rate_distortion.py [OUT_DIR] [--weights PATH]
       OUT_DIR defaults to $LUTC_EXAMPLE_OUT or out/python-example;
       PATH defaults to $LUTC_SHARED_DATA/stories260K/stories260K.safetensors
       (LUTC_SHARED_DATA defaults to ../shared/data beside the repository).
"""
# %% Setup: arguments, paths, a headless matplotlib
import argparse
import os
import pathlib
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import lutc  # noqa: E402

root = pathlib.Path(__file__).resolve().parents[2]
parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("out", nargs="?", default=os.environ.get("LUTC_EXAMPLE_OUT", "out/python-example"))
parser.add_argument("--weights", default=None)
args = parser.parse_args()
data = pathlib.Path(os.environ.get("LUTC_SHARED_DATA") or root.parent / "shared" / "data")
weights = pathlib.Path(args.weights or data / "stories260K" / "stories260K.safetensors")
if not weights.is_file():
    sys.exit(f"rate_distortion: no weights at {weights} (pass --weights or set LUTC_SHARED_DATA)")
out = pathlib.Path(args.out)
out.mkdir(parents=True, exist_ok=True)
print(f"lutc {lutc.__version__}; weights {weights}")

# %% Quantize with three schemes: XFP per-channel at 3 and 4 bits, the NF4 and INT4 baselines
schemes = {
    "xfp.v2 b3": ("xfp.v2", {"bits": 3}),
    "xfp.v2 b4": ("xfp.v2", {"bits": 4}),
    "nf4.b64": ("nf4.b64", {}),
    "int4.g128": ("int4.g128", {}),
}
models = {label: lutc.quantize(weights, scheme, **opts) for label, (scheme, opts) in schemes.items()}

# %% The bpw / SQNR table (whole model: every quantized layer, file overhead amortized)
print(f"\n{'scheme':<12} {'layers':>6} {'bpw':>8} {'SQNR dB':>9} {'cos min':>9}")
for label, q in models.items():
    t = q.report["total"]
    print(f"{label:<12} {t['layers']:>6} {q.bpw:>8.3f} {t['sqnr_db']:>9.2f} {t['cos_min']:>9.5f}")

# %% Rate-distortion plot: one point per layer (small) and the model total (large) per scheme
fig, ax = plt.subplots(figsize=(6.4, 4.2))
for label, q in models.items():
    rows = q.report["layers"]
    dots = ax.scatter([r["bpw"] for r in rows], [r["sqnr_db"] for r in rows], s=8, alpha=0.4)
    ax.scatter([q.bpw], [q.report["total"]["sqnr_db"]], s=60, color=dots.get_facecolor()[0], label=label,
               edgecolors="black")
ax.set_xlabel("effective bits per weight (every stored bit)")
ax.set_ylabel("SQNR (dB)")
ax.set_title(f"rate-distortion: {weights.stem}")
ax.grid(True, alpha=0.3)
ax.legend()
png = out / "rate_distortion.png"
fig.tight_layout()
fig.savefig(png, dpi=120)
print(f"\nwrote {png}")

# %% Compile one layer for the default arch and simulate one activation vector
q = models["xfp.v2 b4"]
layer = max(q.layers, key=lambda l: l.rows * l.cols)
program = lutc.compile(layer)
rep = program.report
print(f"\ncompiled {layer.name} ({layer.rows}x{layer.cols}): {rep['row_tiles']}x{rep['col_tiles']} tiles, "
      f"{rep['program_bytes']} bytes, HIF {'lossless' if rep['hif_lossless'] else 'lossy'}")
x = np.random.default_rng(0).standard_normal(layer.cols).astype(np.float32)
result = lutc.simulate(program, x)
same = result.y.tobytes() == lutc.gemv(layer, x).tobytes()
print(f"simulated: {result.cycles} cycles, {result.energy_pj / 1e3:.3f} nJ "
      f"({result.energy_pj / (layer.rows * layer.cols):.3f} pJ/weight), bottleneck {result.stats.get('bottleneck')}, "
      f"y {'bit-identical to' if same else 'DIFFERS from'} the golden GEMV")
if not same:
    sys.exit(1)
