"""lutc.gemv: the golden path is `lutc gemv` bit for bit, the exact CPU kernel is the golden
GEMV bit for bit, and the fast paths are close to an fp64 product."""
import numpy as np
import pytest

import lutc


def layer_file(rng, tmp_path, scheme, **options):
    rows, cols = int(rng.integers(8, 70)), int(rng.choice([128, 256, 320]))
    w = rng.standard_normal((rows, cols)).astype(np.float32)
    q = lutc.quantize({"l.w": w}, scheme, **options)
    q.write(tmp_path / "l.xfp")
    return q, tmp_path / "l.xfp"


def cli_gemv(run_cli, tmp_path, xfp, x, *flags):
    np.save(tmp_path / "x.npy", x)
    run_cli("gemv", xfp, "--x", tmp_path / "x.npy", "-o", tmp_path / "y.npy", *flags)
    return np.load(tmp_path / "y.npy")


@pytest.mark.parametrize("scheme,options", [("xfp.v2", {"bits": 4}), ("xfp.v2a", {"bits": 3}),
                                            ("sop", {"sop_format": "e2m1.ue4m3.b16"}), ("int4.g128", {}),
                                            ("fp8.e4m3", {})])
def test_golden_matches_cli(rng, run_cli, tmp_path, edge_arch, scheme, options):
    q, xfp = layer_file(rng, tmp_path, scheme, **options)
    layer = q["l.w"]
    for x in (rng.standard_normal(layer.cols).astype(np.float32),
              rng.standard_normal((3, layer.cols)).astype(np.float32)):
        y = lutc.gemv(layer, x)
        assert y.dtype == np.float32 and y.shape == x.shape[:-1] + (layer.rows,)
        assert y.tobytes() == cli_gemv(run_cli, tmp_path, xfp, x).tobytes()
        y_arch = lutc.gemv(q, x, arch=edge_arch)  # a one-layer model stands for its layer
        assert y_arch.tobytes() == cli_gemv(run_cli, tmp_path, xfp, x, "--arch", edge_arch).tobytes()


def test_real_weights_golden_matches_cli(stories, rng, run_cli, tmp_path):
    q = lutc.quantize(stories, "xfp.v2", bits=4, tensors=r"layers\.0\.mlp\.down_proj")
    q.write(tmp_path / "s.xfp")
    layer = q.layers[0]
    x = rng.standard_normal((2, layer.cols)).astype(np.float32)
    assert lutc.gemv(layer, x).tobytes() == cli_gemv(run_cli, tmp_path, tmp_path / "s.xfp", x).tobytes()


@pytest.mark.parametrize("scheme,options", [("xfp.v2", {"bits": 4}), ("nf4.b64", {}), ("xfp.v2", {"bits": 5})])
def test_kernel_paths(rng, tmp_path, scheme, options):
    q, _ = layer_file(rng, tmp_path, scheme, **options)
    layer = q["l.w"]
    x = rng.standard_normal((4, layer.cols)).astype(np.float32)
    golden = lutc.gemv(layer, x)
    assert lutc.gemv(layer, x, path="exact").tobytes() == golden.tobytes()
    ref = x.astype(np.float64) @ layer.decode().astype(np.float64).T
    nmse = lambda y: float(np.sum((y - ref) ** 2) / np.sum(ref ** 2))
    assert nmse(lutc.gemv(layer, x, path="f32")) < 1e-10
    if layer.bits == 4:
        assert nmse(lutc.gemv(layer, x, path="i8")) < 1e-2
    else:
        with pytest.raises(lutc.UsageError):
            lutc.gemv(layer, x, path="i8")


def test_bf16_activations(rng, tmp_path):
    q, _ = layer_file(rng, tmp_path, "xfp.v2", bits=4)
    x = rng.standard_normal(q["l.w"].cols).astype(np.float32)
    bits = (x.view(np.uint32) >> 16).astype(np.uint16)
    widened = (bits.astype(np.uint32) << 16).view(np.float32)
    assert lutc.gemv(q, bits).tobytes() == lutc.gemv(q, widened).tobytes()
