"""Bad input raises the lutc.Error subclass of the CLI's exit code, with the CLI's message."""
import numpy as np
import pytest

import lutc


def test_error_classes():
    assert issubclass(lutc.UsageError, lutc.Error)
    for cls, code in [(lutc.UsageError, 2), (lutc.BadInputError, 3), (lutc.IoError, 4), (lutc.QualityError, 5),
                      (lutc.InternalError, 70)]:
        assert cls.exit_code == code


def test_missing_file_is_io_error(tmp_path, run_cli):
    with pytest.raises(lutc.IoError) as e:
        lutc.read_xfp(tmp_path / "none.xfp")
    assert e.value.exit_code == 4
    cli = run_cli("info", tmp_path / "none.xfp", check=False)
    assert cli.returncode == 4 and str(e.value) in cli.stderr


def test_corrupt_xfp_is_bad_input_like_cli(rng, tmp_path, run_cli):
    q = lutc.quantize(rng.standard_normal((8, 64)).astype(np.float32), "int4.g128")
    q.write(tmp_path / "ok.xfp")
    data = bytearray((tmp_path / "ok.xfp").read_bytes())
    cut = tmp_path / "cut.xfp"
    cut.write_bytes(data[: int(rng.integers(20, len(data) - 1))])
    with pytest.raises(lutc.BadInputError) as e:
        lutc.read_xfp(cut)
    assert e.value.exit_code == 3
    cli = run_cli("info", cut, check=False)
    assert cli.returncode == 3 and str(e.value) in cli.stderr
    flipped = tmp_path / "flip.xfp"
    data[len(data) // 2] ^= 0x5A
    flipped.write_bytes(data)
    with pytest.raises(lutc.BadInputError):
        lutc.read_xfp(flipped)


def test_bad_options_are_usage_errors(rng):
    w = rng.standard_normal((8, 64)).astype(np.float32)
    with pytest.raises(lutc.UsageError, match="--bits 7"):
        lutc.quantize(w, "xfp.v2", bits=7)
    with pytest.raises(lutc.UsageError, match="unknown"):
        lutc.quantize(w, "xfp.v9")
    with pytest.raises(lutc.UsageError, match="floor-strict"):
        lutc.quantize(w, "xfp", floor_strict=1.5)
    with pytest.raises(lutc.UsageError, match="need --scheme sop"):
        lutc.quantize(w, "xfp", sop_format="e2m1.ue4m3.b16")
    with pytest.raises(lutc.UsageError):
        lutc.quantize(w, "xfp", no_such_option=1)
    with pytest.raises(lutc.UsageError):
        lutc.quantize(w[0], "int4.g128")  # 1-D
    q = lutc.quantize(w, "int4.g128")
    with pytest.raises(lutc.UsageError):
        lutc.gemv(q, np.ones(64, np.float32), path="fast")


def test_bad_values_are_bad_input(rng, tmp_path):
    w = rng.standard_normal((8, 64)).astype(np.float32)
    w[3, 5] = np.nan
    with pytest.raises(lutc.BadInputError, match="row 3, column 5 is NaN"):
        lutc.quantize({"m": w}, "int4.g128")
    q = lutc.quantize(np.ones((8, 64), np.float32), "int4.g128")
    with pytest.raises(lutc.BadInputError, match="columns"):
        lutc.gemv(q, np.ones(63, np.float32))
    with pytest.raises(lutc.BadInputError):
        lutc.gemv(q, np.full(64, np.inf, np.float32))
    with pytest.raises(lutc.IoError):
        lutc.compile(q, arch=tmp_path / "missing.ini")
    bad = tmp_path / "bad.ini"
    bad.write_text("[core]\nlanes = 0\n")
    with pytest.raises(lutc.BadInputError, match="lanes"):
        lutc.compile(q, arch=bad)


def test_write_leaves_no_partial_file(rng, tmp_path):
    q = lutc.quantize(rng.standard_normal((8, 64)).astype(np.float32), "int4.g128")
    target = tmp_path / "no" / "such" / "dir" / "q.xfp"
    with pytest.raises(lutc.IoError):
        q.write(target)
    assert not target.exists()
