"""lutc.quantize writes the bytes `lutc quantize` writes, on the real weights and on fresh
random matrices, and reports what the CLI reports."""
import json

import numpy as np
import pytest
from safetensors.numpy import save_file

import lutc

# (scheme, python options, CLI flags)
SCHEMES = [
    ("xfp.v2", {"bits": 4}, ["--bits", "4"]),
    ("xfp.v2", {"bits": 3, "group": 64}, ["--bits", "3", "--group", "64"]),
    ("xfp.v2a", {"bits": 4}, ["--bits", "4"]),
    ("xfp", {"floor_strict": 0.98}, ["--floor-strict", "0.98"]),
    ("sop", {"sop_format": "e2m3.ue4m4.b16"}, ["--sop-format", "e2m3.ue4m4.b16"]),
    ("sop", {"budget_bpw": 5.0}, ["--budget-bpw", "5"]),
    ("int4.g128", {}, []),
    ("nf4.b64", {}, []),
    ("fp8.e4m3", {}, []),
]
IDS = [s + ("-" + "-".join(f[1:] for f in flags if f.startswith("--")) if flags else "") for s, _, flags in SCHEMES]


def cli_quantize(run_cli, src, out, scheme, flags, report=None):
    args = ["quantize", src, "-o", out, "--scheme", scheme, "-q", *flags]
    if report:
        args += ["--report", report]
    run_cli(*args)
    return out.read_bytes()


@pytest.mark.parametrize("scheme,options,flags", SCHEMES, ids=IDS)
def test_file_input_matches_cli(stories, run_cli, tmp_path, scheme, options, flags):
    want = cli_quantize(run_cli, stories, tmp_path / "cli.xfp", scheme, flags, tmp_path / "cli.json")
    q = lutc.quantize(stories, scheme, **options)
    q.write(tmp_path / "py.xfp")
    assert (tmp_path / "py.xfp").read_bytes() == want
    cli = json.loads((tmp_path / "cli.json").read_text())
    assert q.report["total"] == cli["total"]
    assert q.report["layers"] == cli["layers"]
    assert q.bpw == cli["total"]["bpw"]
    assert q.kept, "stories260K's norms and embedding are kept, as the CLI keeps them"
    # read back (kept tensors and aliases too) and written again: the same bytes and bpw
    back = lutc.read_xfp(tmp_path / "cli.xfp")
    back.write(tmp_path / "again.xfp")
    assert (tmp_path / "again.xfp").read_bytes() == want
    assert back.bpw == q.bpw and back.names == q.names and back.kept == q.kept and back.aliases == q.aliases


def test_fail_on_floor_is_a_quality_error(rng):
    w = {"m": rng.standard_normal((16, 128)).astype(np.float32)}
    q = lutc.quantize(w, "xfp.v2", bits=2, outliers=0, floor_strict=0.999)  # reported, not raised
    assert q.report["total"]["floors_missed"] == 1 and not q["m"].report["floor_met"]
    with pytest.raises(lutc.QualityError) as e:
        lutc.quantize(w, "xfp.v2", bits=2, outliers=0, floor_strict=0.999, fail_on_floor=True)
    assert e.value.exit_code == 5 and str(e.value).endswith(": m")


def random_matrices(rng):
    mats = {}
    for i in range(3):
        rows = int(rng.integers(8, 80))
        cols = int(rng.choice([64, 128, 200, 256]))
        w = rng.standard_normal((rows, cols)).astype(np.float32) * np.float32(rng.uniform(0.01, 2))
        w[rng.integers(0, rows), rng.integers(0, cols)] *= 40  # an outlier for XFP to keep
        mats[f"blk.{i}.w"] = w  # name order = the file's tensor order
    return mats


@pytest.mark.parametrize("scheme,options,flags", SCHEMES, ids=IDS)
def test_array_input_matches_cli(rng, run_cli, tmp_path, scheme, options, flags):
    mats = random_matrices(rng)
    save_file(mats, str(tmp_path / "rand.safetensors"))
    want = cli_quantize(run_cli, tmp_path / "rand.safetensors", tmp_path / "cli.xfp", scheme, flags)
    q = lutc.quantize(mats, scheme, source="rand", **options)
    q.write(tmp_path / "py.xfp")
    assert (tmp_path / "py.xfp").read_bytes() == want
    assert q.names == list(mats)
    decoded = q.decode()
    assert list(decoded) == q.names and all(np.array_equal(decoded[n], q.decode(n)) for n in q.names)
    back = lutc.read_xfp(tmp_path / "py.xfp")
    for name, w in mats.items():
        d = q[name].decode()
        assert d.dtype == np.float32 and d.shape == w.shape
        assert np.array_equal(d, back[name].decode())
        # the decode is the reconstruction the report measured
        err = np.sum((d.astype(np.float64) - w) ** 2)
        sqnr = 10 * np.log10(np.sum(w.astype(np.float64) ** 2) / err) if err else np.inf
        assert sqnr == pytest.approx(q[name].report["sqnr_db"], rel=1e-4, abs=1e-4)


def test_decode_matches_cli(rng, run_cli, tmp_path):
    from safetensors.numpy import load_file

    mats = random_matrices(rng)
    q = lutc.quantize(mats, "xfp.v2", bits=4)
    q.write(tmp_path / "q.xfp")
    run_cli("decode", tmp_path / "q.xfp", "-o", tmp_path / "d.safetensors")
    got = load_file(str(tmp_path / "d.safetensors"))
    for name in mats:
        assert np.array_equal(q[name].decode(), got[name])


def test_one_array_and_dtypes(rng):
    w = rng.standard_normal((32, 128)).astype(np.float32)
    q32 = lutc.quantize(w, "nf4.b64")
    assert q32.names == ["weight"] and len(q32) == 1
    layer = q32["weight"]
    assert (layer.rows, layer.cols, layer.scheme) == (32, 128, "nf4.b64")
    assert layer.bpw == q32.report["layers"][0]["bpw"] > 4
    # float16 and float64 inputs are quantized from their float32 values
    w16 = w.astype(np.float16)
    assert np.array_equal(lutc.quantize(w16, "nf4.b64")["weight"].decode(),
                          lutc.quantize(w16.astype(np.float32), "nf4.b64")["weight"].decode())
    # bfloat16 as uint16 bit patterns, and as ml_dtypes.bfloat16 when installed
    bits = (w.view(np.uint32) >> 16).astype(np.uint16)
    widened = (bits.astype(np.uint32) << 16).view(np.float32)
    want = lutc.quantize(widened, "nf4.b64")["weight"].decode()
    assert np.array_equal(lutc.quantize(bits, "nf4.b64")["weight"].decode(), want)
    ml_dtypes = pytest.importorskip("ml_dtypes")
    assert np.array_equal(lutc.quantize(bits.view(ml_dtypes.bfloat16), "nf4.b64")["weight"].decode(), want)


def test_float32_input_is_not_copied(rng):
    w = rng.standard_normal((16, 64)).astype(np.float32)
    assert lutc.as_float32(w) is w


def test_torch_tensor_input(rng):
    torch = pytest.importorskip("torch")
    w = rng.standard_normal((16, 128)).astype(np.float32)
    a = lutc.quantize(torch.from_numpy(w), "int4.g128")["weight"].decode()
    assert np.array_equal(a, lutc.quantize(w, "int4.g128")["weight"].decode())


def test_dlpack_input(rng):
    class OnlyDlpack:  # a tensor from another framework: nothing but the DLPack protocol
        def __init__(self, a):
            self._a = a

        def __dlpack__(self, **kwargs):
            return self._a.__dlpack__(**kwargs)

        def __dlpack_device__(self):
            return self._a.__dlpack_device__()

    w = rng.standard_normal((16, 128)).astype(np.float32)
    got = lutc.quantize({"m": OnlyDlpack(w)}, "int4.g128")["m"].decode()
    assert np.array_equal(got, lutc.quantize({"m": w}, "int4.g128")["m"].decode())
    x = rng.standard_normal(128).astype(np.float32)
    q = lutc.quantize(w, "int4.g128")
    assert lutc.gemv(q, OnlyDlpack(x)).tobytes() == lutc.gemv(q, x).tobytes()
