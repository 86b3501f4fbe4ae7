"""lutc.compile writes `lutc compile`'s program, and lutc.simulate gives `lutc sim`'s cycles and
energy and the golden GEMV's y, any number of times in one process."""
import json

import numpy as np
import pytest

import lutc


@pytest.fixture
def model(rng):
    w = rng.standard_normal((int(rng.integers(16, 64)), 256)).astype(np.float32)
    return lutc.quantize({"s.w": w}, "xfp.v2", bits=4)


@pytest.mark.parametrize("use_arch", [False, True])
def test_compile_and_simulate_match_cli(model, rng, run_cli, tmp_path, edge_arch, use_arch):
    arch = edge_arch if use_arch else None
    model.write(tmp_path / "m.xfp")
    program = lutc.compile(model, arch)
    program.write(tmp_path / "py.lutp")
    run_cli("compile", tmp_path / "m.xfp", "-o", tmp_path / "cli.lutp", *(["--arch", arch] if arch else []))
    assert (tmp_path / "py.lutp").read_bytes() == (tmp_path / "cli.lutp").read_bytes() == program.to_bytes()
    assert program.report["program_bytes"] == len(program.to_bytes())

    x = rng.standard_normal(program.cols).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    run_cli("sim", tmp_path / "cli.lutp", "--x", tmp_path / "x.npy", "-o", tmp_path / "y.npy",
            "--report", tmp_path / "r.json")
    cli = json.loads((tmp_path / "r.json").read_text())
    r = lutc.simulate(program, x)
    assert r.cycles == cli["cycles"]
    assert r.energy_pj == cli["energy_total_pj"]
    # The program read back from the CLI's file runs to the identical report; a compiled one
    # differs only in the arch label (a .lutp stores the arch's keys, not its name).
    assert lutc.simulate(lutc.read_lutp(tmp_path / "cli.lutp"), x).stats == cli
    assert {k: v for k, v in r.stats.items() if k != "arch"} == {k: v for k, v in cli.items() if k != "arch"}
    assert r.y.tobytes() == np.load(tmp_path / "y.npy").tobytes()
    assert r.y.tobytes() == lutc.gemv(model, x, arch=arch).tobytes()


def test_repeated_simulations_in_one_process(model, rng):
    program = lutc.compile(model)
    timing = [lutc.simulate(program, batch=b) for b in (1, 2, 1)]
    assert timing[0].y is None
    assert timing[0].cycles == timing[2].cycles < timing[1].cycles
    x = rng.standard_normal((2, program.cols)).astype(np.float32)
    for _ in range(2):
        assert lutc.simulate(program, x).y.tobytes() == lutc.gemv(model, x).tobytes()


def test_read_lutp_and_listing(model, tmp_path, edge_arch):
    program = lutc.compile(model)
    program.write(tmp_path / "p.lutp")
    back = lutc.read_lutp(tmp_path / "p.lutp")
    assert back.to_bytes() == program.to_bytes()
    assert "END" in program.listing()
    with pytest.raises(lutc.BadInputError):
        lutc.read_lutp(tmp_path / "p.lutp", arch=edge_arch)  # compiled for the default arch
