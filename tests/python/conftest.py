"""Shared fixtures: the lutc CLI to compare against (env LUTC_BIN, default build/lutc) and the
real weights (env LUTC_SHARED_DATA, default ../shared/data beside the repository). With CI=true a
missing CLI or data set is a failure, not a skip."""
import os
import pathlib
import subprocess

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
CI = os.environ.get("CI", "").lower() == "true"


def _missing(what: str):
    if CI:
        pytest.fail(f"{what} (CI=true: a missing test input is a failure)")
    pytest.skip(what)


@pytest.fixture(scope="session")
def lutc_bin() -> str:
    path = os.environ.get("LUTC_BIN") or str(ROOT / "build" / "lutc")
    if not os.access(path, os.X_OK):
        _missing(f"no lutc executable at {path} (set LUTC_BIN)")
    return path


@pytest.fixture(scope="session")
def shared_data() -> pathlib.Path:
    path = pathlib.Path(os.environ.get("LUTC_SHARED_DATA") or ROOT.parent / "shared" / "data")
    if not (path / "stories260K" / "stories260K.safetensors").is_file():
        _missing(f"no stories260K weights under {path} (set LUTC_SHARED_DATA)")
    return path


@pytest.fixture(scope="session")
def stories(shared_data) -> pathlib.Path:
    return shared_data / "stories260K" / "stories260K.safetensors"


@pytest.fixture
def rng():
    """Fresh random inputs every run; the seed is printed so a failure can be replayed."""
    seed = int.from_bytes(os.urandom(8), "little")
    print(f"rng seed {seed}")
    return np.random.default_rng(seed)


@pytest.fixture(scope="session")
def run_cli(lutc_bin):
    def run(*args, check=True):
        p = subprocess.run([lutc_bin, *map(str, args)], capture_output=True, text=True)
        if check and p.returncode != 0:
            raise AssertionError(f"lutc {' '.join(map(str, args))} exited {p.returncode}:\n{p.stderr}")
        return p

    return run


@pytest.fixture(scope="session")
def edge_arch() -> str:
    return str(ROOT / "examples" / "arch" / "edge.ini")
