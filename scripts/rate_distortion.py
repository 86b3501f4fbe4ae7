#!/usr/bin/env python3
"""Rate-distortion table and plot: effective bpw vs SQNR / cos for XFP and the baselines.

Runs `lutc quantize` for every scheme and floor on each input, collects the JSON reports, and
writes OUT/rd.md (a table), OUT/rd.csv and, when gnuplot exists, OUT/rd_<input>.svg (bpw vs SQNR,
one series per scheme, with the line through the baselines' points).

usage: scripts/rate_distortion.py [--lutc build/lutc] [--out out/rd] [INPUT ...]
       (default inputs: ../shared/data/stories260K/stories260K.safetensors and synth:default)
"""
import argparse
import csv
import json
import os
import shutil
import subprocess
import sys

FLOORS = [0.98, 0.99, 0.995]
BASELINES = ["int4.g128", "nf4.b64", "fp8.e4m3"]


def points():
    for s in BASELINES:
        yield s, s, []
    for scheme in ["xfp.v2", "xfp.v2a", "xfp"]:
        for f in FLOORS:
            label = "xfp auto" if scheme == "xfp" else scheme + " auto"
            yield label + f" @{f}", scheme, ["--floor-strict", str(f), "--floor-lazy", str(f)]


def run(lutc, inp, out_dir, name, scheme, extra):
    tag = name.replace(" ", "_").replace("@", "f")
    rep = os.path.join(out_dir, f"{tag}.json")
    cmd = [lutc, "quantize", inp, "--scheme", scheme, "-o", os.path.join(out_dir, f"{tag}.xfp"),
           "--report", rep, "-q"] + extra
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    t = json.load(open(rep))["total"]
    os.remove(os.path.join(out_dir, f"{tag}.xfp"))
    layers = json.load(open(rep))["layers"]
    cos_mean = sum(l["cos_mean"] for l in layers) / len(layers)
    return {"point": name, "bpw": t["bpw"], "sqnr_db": t["sqnr_db"], "cos_min": t["cos_min"],
            "cos_mean_of_layers": cos_mean, "floors_missed": t["floors_missed"]}


def baseline_line(rows):
    """Least-squares line SQNR = a + b*bpw through the baseline points."""
    pts = [(r["bpw"], r["sqnr_db"]) for r in rows if r["point"] in BASELINES]
    n = len(pts)
    mx = sum(p[0] for p in pts) / n
    my = sum(p[1] for p in pts) / n
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    b = sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx
    return my - b * mx, b


def plot(rows, svg, title, line):
    """SVG and PNG of bpw vs SQNR per scheme family, with the baselines' line."""
    if not shutil.which("gnuplot"):
        return
    dat = svg[:-4] + ".dat"
    with open(dat, "w") as f:
        for group in ["baseline", "xfp.v2 auto", "xfp.v2a auto", "xfp auto"]:
            f.write(f'"{group}"\n')
            for r in rows:
                g = "baseline" if r["point"] in BASELINES else r["point"].split(" @")[0]
                if g == group:
                    f.write(f'{r["bpw"]} {r["sqnr_db"]} "{r["point"]}"\n')
            f.write("\n\n")
    a, b = line
    for term, out in (("svg size 900,600 dynamic enhanced font 'sans,12'", svg),
                      ("pngcairo size 900,600 enhanced font 'sans,11'", svg[:-4] + ".png")):
        _render(term, out, dat, title, a, b)


def _render(term, out, dat, title, a, b):
    script = f"""set terminal {term}
set output '{out}'
set title '{title}: effective bpw vs SQNR (every stored bit counted)'
set xlabel 'effective bits per weight'
set ylabel 'SQNR (dB)'
set key bottom right
set grid
f(x) = {a} + {b}*x
plot for [i=0:3] '{dat}' index i using 1:2 with linespoints pt 7 ps 1 title columnheader(1), \\
     '{dat}' index 0 using 1:2:3 with labels offset 1,1 font ',9' notitle, \\
     f(x) dt 2 lc rgb 'gray' title 'line through the baselines'
"""
    subprocess.run(["gnuplot"], input=script, text=True, check=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lutc", default="build/lutc")
    ap.add_argument("--out", default="out/rd")
    ap.add_argument("inputs", nargs="*",
                    default=["../shared/data/stories260K/stories260K.safetensors", "synth:default"])
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    md = ["# Rate-distortion", ""]
    all_rows = []
    for inp in args.inputs:
        short = os.path.basename(inp).replace(".safetensors", "").replace(":", "_")
        rows = []
        for name, scheme, extra in points():
            print(f"{short}: {name}", file=sys.stderr, flush=True)
            r = run(args.lutc, inp, args.out, name, scheme, extra)
            r["input"] = short
            rows.append(r)
        a, b = baseline_line(rows)
        for r in rows:
            r["vs_baseline_line_db"] = r["sqnr_db"] - (a + b * r["bpw"])
        md += [f"## {inp}", "", "| point | bpw | SQNR dB | cos min | cos mean (layers) | floors missed | vs baseline line dB |",
               "|---|---:|---:|---:|---:|---:|---:|"]
        for r in rows:
            md.append(f"| {r['point']} | {r['bpw']:.3f} | {r['sqnr_db']:.2f} | {r['cos_min']:.5f} | "
                      f"{r['cos_mean_of_layers']:.5f} | {r['floors_missed']} | {r['vs_baseline_line_db']:+.2f} |")
        md.append("")
        plot(rows, os.path.join(args.out, f"rd_{short}.svg"), short, (a, b))
        all_rows += rows
    with open(os.path.join(args.out, "rd.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    with open(os.path.join(args.out, "rd.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(all_rows[0].keys()))
        w.writeheader()
        w.writerows(all_rows)
    print("\n".join(md))


if __name__ == "__main__":
    main()
