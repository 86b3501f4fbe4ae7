"""lutc: LUT-decode quantization, compilation and simulation from Python.

The same library the ``lutc`` command runs: ``quantize`` writes byte-identical ``.xfp`` files
to ``lutc quantize``, ``gemv`` reproduces ``lutc gemv`` bit for bit, and ``compile`` +
``simulate`` give the cycles and energy of ``lutc compile`` + ``lutc sim``.

    import lutc, numpy as np
    q = lutc.quantize(np.random.randn(256, 512).astype(np.float32), scheme="xfp.v2", bits=4)
    print(q.bpw, q.report["total"]["sqnr_db"])
    y = lutc.gemv(q, np.ones(512, np.float32))
    r = lutc.simulate(lutc.compile(q), np.ones(512, np.float32))
    print(r.cycles, r.energy_pj)
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Sequence, Union

import numpy as np

from . import _lutc
from .errors import BadInputError, Error, InternalError, IoError, QualityError, UsageError, error_class

__version__: str = _lutc.__version__

Layer = _lutc.Layer
QuantizedModel = _lutc.QuantizedModel
Program = _lutc.Program

SCHEMES = ("xfp", "xfp.v2", "xfp.v2a", "sop", "int4.g128", "nf4.b64", "fp8.e4m3")
PATHS = ("golden", "exact", "f32", "i8")

__all__ = [
    "__version__", "quantize", "read_xfp", "gemv", "compile", "read_lutp", "simulate",
    "Layer", "QuantizedModel", "Program", "SimResult", "SCHEMES", "PATHS",
    "Error", "UsageError", "BadInputError", "IoError", "QualityError", "InternalError",
]


def _bf16_dtype():
    try:
        import ml_dtypes  # optional: numpy bfloat16
        return np.dtype(ml_dtypes.bfloat16)
    except ImportError:
        return None


def as_float32(a: Any, what: str = "array") -> np.ndarray:
    """``a`` as a C-contiguous float32 numpy array; float32 C-contiguous input is not copied.

    Accepts numpy arrays (float32, float16, float64, bfloat16 from ``ml_dtypes``; uint16 is read
    as bfloat16 bit patterns), torch tensors and anything else with ``__dlpack__`` or
    ``__array__``. bfloat16 torch tensors are widened by torch (numpy has no bfloat16).
    """
    if not isinstance(a, np.ndarray):
        if type(a).__module__.startswith("torch"):
            t = a.detach()
            if t.device.type != "cpu":
                t = t.cpu()
            if str(t.dtype) == "torch.bfloat16":
                t = t.float()
            a = np.from_dlpack(t.contiguous())
        elif hasattr(a, "__dlpack__"):
            a = np.from_dlpack(a)
        else:
            a = np.asarray(a)
    if a.dtype == np.uint16:  # bfloat16 bits: the high half of a float32
        a = (np.ascontiguousarray(a).astype(np.uint32) << 16).view(np.float32)
    elif a.dtype.kind != "f" and a.dtype != _bf16_dtype():
        raise UsageError(f"{what}: dtype {a.dtype} is not a float type (float32, float16, bfloat16, float64)", 2)
    return np.ascontiguousarray(a, dtype=np.float32)


def _settings(scheme: str, options: Mapping[str, Any]) -> "_lutc.QuantizeSettings":
    s = _lutc.QuantizeSettings()
    s.scheme = scheme
    for key, value in options.items():
        if key == "roles":
            s.role_overrides = list(value)
        elif key == "act_stats":
            s.act_stats = "" if value is None else os.fspath(value)
        elif key == "sop_format":
            s.sop_format = "" if value is None else (",".join(value) if isinstance(value, (list, tuple)) else value)
        elif hasattr(s, key) and not key.startswith("_"):
            setattr(s, key, value)
        else:
            raise UsageError(f"quantize: unknown option '{key}'", 2)
    return s


def quantize(
    weights: Union[str, os.PathLike, Any, Mapping[str, Any]],
    scheme: str = "xfp",
    *,
    source: Optional[str] = None,
    tensors: Optional[str] = None,
    keep: Optional[str] = None,
    quantize_embeddings: bool = False,
    fail_on_floor: bool = False,
    **options: Any,
) -> QuantizedModel:
    """Quantize weights as ``lutc quantize`` does; returns the records of the ``.xfp`` in memory.

    ``weights`` is one of:

    * a path or input spec (str / PathLike): a safetensors file, a Hugging Face folder, a GGUF
      file, a llama2.c checkpoint or ``synth:...`` -- every tensor gets the CLI's fate (matrices
      quantized, norms and embeddings kept, tied heads aliased); ``tensors``, ``keep`` and
      ``quantize_embeddings`` are the CLI's ``--tensors``, ``--keep``, ``--quantize-embeddings``;
    * a mapping name -> 2-D array: every matrix quantized, in the mapping's order;
    * one 2-D array (numpy, torch, DLPack): one layer named ``"weight"``.

    ``scheme`` is one of ``SCHEMES``. ``options`` are the CLI flags with ``_`` for ``-``:
    ``floor_strict``, ``floor_lazy``, ``bits``, ``group``, ``outliers``, ``sop_format``,
    ``budget_bpw``, ``act_stats``, ``roles`` (list of ``"REGEX=ROLE"``), ``threads``,
    ``max_memory_gb``. ``source`` names an in-memory input in the file's metadata (default
    ``"arrays"``); ``QuantizedModel.write(path)`` then gives the bytes ``lutc quantize`` writes
    for a safetensors file of the same matrices whose stem is ``source``.

    Raises ``UsageError`` for bad options, ``BadInputError`` for bad weights (NaN/Inf, ...) and,
    with ``fail_on_floor`` (the CLI's ``--fail-on-floor``, exit code 5), ``QualityError`` when a
    layer misses its cosine floor.
    """
    settings = _settings(scheme, options)
    if isinstance(weights, (str, os.PathLike)):
        q = _lutc._quantize_file(os.fspath(weights), settings, tensors, keep, quantize_embeddings)
    else:
        if tensors is not None or keep is not None or quantize_embeddings:
            raise UsageError("quantize: tensors, keep and quantize_embeddings apply to file inputs only", 2)
        if isinstance(weights, Mapping):
            items = [(str(k), as_float32(v, f"matrix '{k}'")) for k, v in weights.items()]
        else:
            items = [("weight", as_float32(weights, "matrix 'weight'"))]
        q = _lutc._quantize_arrays(source or "arrays", items, settings)
    if fail_on_floor and q.report["total"].get("floors_missed"):
        missed = [r["name"] for r in q.report["layers"] if r.get("floor_met") is False]  # null: no floor
        raise QualityError(f"{len(missed)} layer(s) missed their cosine floor: {', '.join(missed[:10])}", 5)
    return q


def read_xfp(path: Union[str, os.PathLike]) -> QuantizedModel:
    """Reads an ``.xfp`` (either version) whole. Bad files raise ``BadInputError`` naming the
    record and the offset; a missing file raises ``IoError``."""
    return _lutc._read_xfp(os.fspath(path))


def _layer(layer: Union[Layer, QuantizedModel], name: Optional[str] = None) -> Layer:
    if isinstance(layer, Layer):
        return layer
    if isinstance(layer, QuantizedModel):
        if name is not None:
            return layer[name]
        names = layer.names
        if len(names) != 1:
            raise UsageError(f"the model has {len(names)} layers: pass one (model['name']) or layer=NAME", 2)
        return layer[names[0]]
    raise UsageError(f"expected a lutc.Layer or lutc.QuantizedModel, got {type(layer).__name__}", 2)


def _arch(arch: Optional[Union[str, os.PathLike]]) -> Optional[str]:
    return None if arch is None else os.fspath(arch)


def gemv(
    layer: Union[Layer, QuantizedModel],
    x: Any,
    arch: Optional[Union[str, os.PathLike]] = None,
    path: str = "golden",
    *,
    name: Optional[str] = None,
) -> np.ndarray:
    """y = W_hat . x for x of shape (cols,) or (batch, cols); y is float32 (rows,) or (batch, rows).

    ``path``:

    * ``"golden"`` -- the golden GEMV of docs/numerics.md, bit-identical to ``lutc gemv``; with
      ``arch`` (an .ini path) it takes ``act.bits`` and the HIF widths from it, as
      ``lutc gemv --arch`` does;
    * ``"exact"`` -- the CPU kernel's exact path: the golden GEMV (16-bit activations) bit for bit;
    * ``"f32"``, ``"i8"`` -- the CPU kernels' fast paths (own rounding; i8 needs 4-bit codes).

    x is rounded to bfloat16 on entry by the golden and exact paths (as the engines do).
    """
    lay = _layer(layer, name)
    xs = as_float32(x, "x")
    if path == "golden":
        return _lutc._golden_gemv(lay, xs, _arch(arch))
    if arch is not None:
        raise UsageError("gemv: arch applies to path='golden' only; the CPU kernels compute with the golden "
                         "decode and 16-bit activations", 2)
    return _lutc._kernel_gemv(lay, xs, path)


def compile(  # noqa: A001 - the CLI's verb
    layer: Union[Layer, QuantizedModel],
    arch: Optional[Union[str, os.PathLike]] = None,
    *,
    name: Optional[str] = None,
) -> Program:
    """Lowers one layer into its LUT-SRAM program for ``arch`` (an .ini path; None = the
    built-in default arch, examples/arch/default.ini), as ``lutc compile`` does. The
    program's ``report`` holds the tiling, its size and the error HIF adds."""
    return _lutc._compile(_layer(layer, name), _arch(arch))


def read_lutp(path: Union[str, os.PathLike], arch: Optional[Union[str, os.PathLike]] = None) -> Program:
    """Reads a ``.lutp``; with ``arch``, refuses a program compiled for another arch."""
    return _lutc._read_lutp(os.fspath(path), _arch(arch))


@dataclass
class SimResult:
    """What one simulation observed: ``y`` (None for a timing-only run), ``cycles``,
    ``energy_pj`` (total) and ``stats`` (the stats schema of docs/stats.md, as
    ``lutc sim --report`` writes it)."""

    y: Optional[np.ndarray]
    cycles: int
    energy_pj: float
    stats: dict = field(repr=False)

    @property
    def energy(self) -> float:
        """Total energy in pJ (alias of ``energy_pj``)."""
        return self.energy_pj


def simulate(
    program: Program,
    x: Any = None,
    *,
    batch: int = 1,
    dram_burst: int = 256,
    dram_outstanding: int = 64,
) -> SimResult:
    """Runs ``program`` on the SystemC cycle-approximate model (``lutc sim``).

    With ``x`` ((cols,) or (batch, cols)) the run is functional and ``y`` is bit-identical to
    ``gemv(layer, x, arch)``; without it, a timing-only run of ``batch`` vectors.

    SystemC elaborates once per process, so each call runs the model in a forked child
    process (the Python process never enters SystemC); calls can repeat freely. POSIX only.
    """
    xs = None if x is None else as_float32(x, "x")
    y, stats = _lutc._simulate(program, xs, batch, dram_burst, dram_outstanding)
    return SimResult(y=y, cycles=int(stats["cycles"]), energy_pj=float(stats["energy_total_pj"]), stats=stats)
