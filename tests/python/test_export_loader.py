"""`lutc export` read back by the reference safetensors package (pytest).

Quantizes stories260K with `lutc quantize` (xfp auto), exports it, loads every
tensor with safetensors.numpy (bf16, which NumPy lacks, is read from the
file's own header and bytes) and compares: quantized matrices with
`lutc decode`'s fp32 values rounded to the export dtype by NumPy, q_proj/k_proj
rows in the rotate-half order transformers uses, every other tensor equal to
the source; the index and config.json describe exactly the shards.

Environment: LUTC_BIN (the lutc executable; default build/lutc under the
repository root), LUTC_SHARED_DATA (default ../shared/data relative to the repository
root). Without the data the tests are skipped, except on CI (CI=true), where
that is a failure.
"""
import json
import os
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

ROOT = Path(__file__).resolve().parents[2]
LUTC = Path(os.environ.get("LUTC_BIN", ROOT / "build" / "lutc")).resolve()
DATA = Path(os.environ.get("LUTC_SHARED_DATA") or ROOT.parent / "shared" / "data")
SOURCE = DATA / "stories260K" / "stories260K.safetensors"
HEAD_SIZE = 8  # dim 64 / 8 heads (data README)


def require(path):
    if path.exists():
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"missing test input {path}")
    pytest.skip(f"missing test input {path}")


def lutc(*args):
    r = subprocess.run([str(LUTC), *map(str, args)], capture_output=True, text=True)
    assert r.returncode == 0, f"lutc {' '.join(map(str, args))} exited {r.returncode}: {r.stderr}"
    return r.stdout


def read_header(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        return json.loads(f.read(n)), 8 + n


def load_any(path):
    """Every tensor of a safetensors file; BF16 ones as their uint16 bit patterns."""
    header, start = read_header(path)
    if not any(v["dtype"] == "BF16" for k, v in header.items() if k != "__metadata__"):
        return load_file(str(path))
    raw = Path(path).read_bytes()
    out = {}
    for name, v in header.items():
        if name == "__metadata__":
            continue
        a, b = v["data_offsets"]
        dt = {"BF16": np.uint16, "F16": np.float16, "F32": np.float32}[v["dtype"]]
        out[name] = np.frombuffer(raw[start + a:start + b], dtype=dt).reshape(v["shape"])
    return out


def to_bf16_bits(w):
    """fp32 -> bf16 bit patterns, round to nearest even (no NaN in a decode)."""
    u = w.astype(np.float32).view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def rotate_half(w):
    """llama2.c interleaved q/k rows -> Hugging Face rotate-half rows."""
    rows = w.shape[0]
    rest = w.shape[1:]
    return w.reshape(rows // HEAD_SIZE, HEAD_SIZE // 2, 2, *rest).swapaxes(1, 2).reshape(w.shape)


@pytest.fixture(scope="module")
def quantized(tmp_path_factory):
    require(SOURCE)
    assert LUTC.exists(), f"no lutc executable at {LUTC} (set LUTC_BIN)"
    d = tmp_path_factory.mktemp("export")
    xfp, decoded = d / "q.xfp", d / "decoded.safetensors"
    lutc("quantize", SOURCE, "-o", xfp, "--scheme", "xfp", "--quiet")
    lutc("decode", xfp, "-o", decoded)
    return d, xfp, load_file(str(decoded))


@pytest.mark.parametrize("dtype", ["bf16", "fp16", "fp32"])
def test_export_matches_decode_and_source(quantized, dtype):
    d, xfp, decoded = quantized
    out = d / f"hf-{dtype}"
    report = json.loads(lutc("export", xfp, "--source", SOURCE, "-o", out, "--dtype", dtype, "--json"))
    assert report["qk_permuted"] and report["config_synthesized"]

    source = load_file(str(SOURCE))
    index = json.loads((out / "model.safetensors.index.json").read_text())
    shards = sorted(set(index["weight_map"].values()))
    assert shards == ["model.safetensors"]
    got = load_any(out / "model.safetensors")
    assert set(got) == set(source) == set(index["weight_map"])
    assert index["metadata"]["total_size"] == sum(v.nbytes for v in got.values())

    header = read_header(out / "model.safetensors")[0]
    sixteen_bit = {name for name, v in header.items() if name != "__metadata__" and v["dtype"] != "F32"}
    decoded_names = set()
    rounded = 0
    for name, src in source.items():
        q_or_k = ".self_attn.q_proj." in name or ".self_attn.k_proj." in name
        # The .xfp keeps the embedding and the norms; every other matrix is quantized.
        quantized_matrix = src.ndim == 2 and name != "model.embed_tokens.weight"
        if quantized_matrix:
            w = decoded[name]
            want = {"bf16": lambda: to_bf16_bits(w), "fp16": lambda: w.astype(np.float16),
                    "fp32": lambda: w}[dtype]()
            rounded += int(np.count_nonzero(to_bf16_bits(w).astype(np.uint32) << 16 != w.view(np.uint32)))
            decoded_names.add(name)
        else:
            want = src
        if q_or_k:
            want = rotate_half(want)
        assert got[name].dtype == want.dtype, name
        assert np.array_equal(got[name].view(np.uint8), np.ascontiguousarray(want).view(np.uint8)), name
    if dtype != "fp32":  # the decoded matrices, and nothing else, are in the 16-bit dtype
        assert sixteen_bit == decoded_names
    assert report["decoded"] == len(decoded_names) == 35
    assert sum(r["rounded_bf16"] for r in report["rounding"].values()) == rounded

    config = json.loads((out / "config.json").read_text())
    assert config["architectures"] == ["LlamaForCausalLM"]
    assert (config["hidden_size"], config["intermediate_size"], config["num_hidden_layers"]) == (64, 172, 5)
    assert (config["num_attention_heads"], config["num_key_value_heads"]) == (8, 4)
    assert (config["vocab_size"], config["max_position_embeddings"]) == (512, 512)
    assert config["tie_word_embeddings"] is True
    assert config["torch_dtype"] == {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}[dtype]
    assert not list(d.glob(".*tmp*")), "temp folder left behind"
