"""Type stubs of the lutc package (the API of lutc/__init__.py and the extension's classes)."""
import os
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

from .errors import BadInputError as BadInputError
from .errors import Error as Error
from .errors import InternalError as InternalError
from .errors import IoError as IoError
from .errors import QualityError as QualityError
from .errors import UsageError as UsageError
from .errors import error_class as error_class

__version__: str
SCHEMES: Tuple[str, ...]
PATHS: Tuple[str, ...]

PathLike = Union[str, os.PathLike]
ArrayLike = Any  # numpy array, torch tensor, anything with __dlpack__ or __array__

class Layer:
    """One quantized layer: packed codes, codebooks, metadata and outliers."""
    @property
    def name(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def rows(self) -> int: ...
    @property
    def cols(self) -> int: ...
    @property
    def shape(self) -> Tuple[int, int]: ...
    @property
    def scheme(self) -> str: ...
    @property
    def bits(self) -> int: ...
    @property
    def group(self) -> int: ...
    @property
    def outliers(self) -> int: ...
    @property
    def stored_bits(self) -> int: ...
    @property
    def bpw(self) -> float:
        """Effective bits per weight: every stored bit of the layer's record / (rows * cols)."""
    @property
    def params(self) -> Dict[str, str]: ...
    @property
    def report(self) -> Dict[str, Any]:
        """The layer's row of the quantize report (docs/reports.md keys)."""
    def decode(self) -> npt.NDArray[np.float32]:
        """The golden decode W_hat (rows x cols float32)."""

class QuantizedModel:
    """Every record of an .xfp, in file order, held in memory."""
    @property
    def names(self) -> List[str]: ...
    @property
    def layers(self) -> List[Layer]: ...
    @property
    def kept(self) -> List[str]: ...
    @property
    def aliases(self) -> Dict[str, str]: ...
    @property
    def metadata(self) -> Dict[str, str]: ...
    @property
    def bpw(self) -> float: ...
    @property
    def report(self) -> Dict[str, Any]: ...
    def decode(self, name: Optional[str] = None) -> Union[npt.NDArray[np.float32], Dict[str, npt.NDArray[np.float32]]]:
        """The golden decode: of layer ``name``, of the only layer, or a dict name -> array of every layer."""
    def __len__(self) -> int: ...
    def __getitem__(self, name: str) -> Layer: ...
    def __contains__(self, name: str) -> bool: ...
    def write(self, path: PathLike) -> None:
        """Writes the .xfp atomically (temp file renamed into place)."""

class Program:
    """One layer's LUT-SRAM program (.lutp) for one arch."""
    @property
    def layer(self) -> str: ...
    @property
    def rows(self) -> int: ...
    @property
    def cols(self) -> int: ...
    @property
    def arch(self) -> str: ...
    @property
    def arch_hash(self) -> int: ...
    @property
    def report(self) -> Dict[str, Any]: ...
    def to_bytes(self) -> bytes: ...
    def write(self, path: PathLike) -> None: ...
    def listing(self) -> str: ...

@dataclass
class SimResult:
    y: Optional[npt.NDArray[np.float32]]
    cycles: int
    energy_pj: float
    stats: Dict[str, Any]
    @property
    def energy(self) -> float: ...

def as_float32(a: ArrayLike, what: str = ...) -> npt.NDArray[np.float32]: ...
def quantize(
    weights: Union[PathLike, ArrayLike, Mapping[str, ArrayLike]],
    scheme: str = "xfp",
    *,
    source: Optional[str] = None,
    tensors: Optional[str] = None,
    keep: Optional[str] = None,
    quantize_embeddings: bool = False,
    fail_on_floor: bool = False,
    floor_strict: float = 0.99,
    floor_lazy: float = 0.98,
    bits: int = 0,
    group: int = 0,
    outliers: float = -1,
    sop_format: Union[str, Sequence[str], None] = None,
    budget_bpw: float = 0,
    act_stats: Optional[PathLike] = None,
    roles: Sequence[str] = (),
    threads: int = 0,
    max_memory_gb: float = 1.5,
) -> QuantizedModel: ...
def read_xfp(path: PathLike) -> QuantizedModel: ...
def gemv(
    layer: Union[Layer, QuantizedModel],
    x: ArrayLike,
    arch: Optional[PathLike] = None,
    path: str = "golden",
    *,
    name: Optional[str] = None,
) -> npt.NDArray[np.float32]: ...
def compile(layer: Union[Layer, QuantizedModel], arch: Optional[PathLike] = None, *,
            name: Optional[str] = None) -> Program: ...
def read_lutp(path: PathLike, arch: Optional[PathLike] = None) -> Program: ...
def simulate(program: Program, x: Optional[ArrayLike] = None, *, batch: int = 1, dram_burst: int = 256,
             dram_outstanding: int = 64) -> SimResult: ...
