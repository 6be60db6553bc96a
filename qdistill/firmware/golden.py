"""Golden vectors: the firmware's test inputs and outputs, as text files hls4ml's testbench reads.

``golden/inputs.dat`` holds one particle a line, its 16 inputs separated by spaces, exactly the
fixed-point values the firmware receives (after preprocessing and the input quantizer);
``golden/outputs.dat`` one output a line. hls4ml copies both into ``hls4ml_prj/tb_data/`` as
``tb_input_features.dat`` and ``tb_output_predictions.dat``, so a ``vivado_hls``/``vitis_hls``
C simulation of the generated project runs the same vectors. Values are written with 17
significant digits, which round-trips every float64 exactly.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt

from qdistill.atomic import atomic_path
from qdistill.errors import QdistillError
from qdistill.features import N_FEATURES

Preprocess = Callable[[npt.NDArray[np.float32]], npt.NDArray[np.float32]]


def write_dat(path: str | os.PathLike[str], values: npt.ArrayLike) -> None:
    """Write ``values`` (n,) or (n, k) as a testbench .dat file, atomically."""
    arr = np.asarray(values, dtype=np.float64)
    arr = arr.reshape(len(arr), -1)
    with atomic_path(path) as tmp:
        np.savetxt(tmp, arr, fmt="%.17g", delimiter=" ")


def read_dat(path: str | os.PathLike[str], columns: int) -> npt.NDArray[np.float64]:
    """Read a testbench .dat file with ``columns`` values a line → (n, columns) float64."""
    path = Path(path)
    if not path.is_file():
        raise QdistillError(f"{path}: missing golden vectors; rerun `qdistill convert`")
    try:
        arr = np.loadtxt(path, dtype=np.float64, ndmin=2)
    except ValueError as exc:
        raise QdistillError(f"{path}: not a testbench .dat file ({exc})") from None
    if arr.shape[1] != columns or len(arr) == 0:
        raise QdistillError(
            f"{path}: expected lines of {columns} numbers, got shape {arr.shape}; "
            "rerun `qdistill convert`"
        )
    return arr


def sample_event_particles(
    event_path: str | os.PathLike[str], n: int, seed: int
) -> npt.NDArray[np.float32]:
    """``n`` particles drawn without replacement (seeded) from an event file → features (n, 16).

    Particles keep file order, so the sample is reproducible from (file, n, seed).
    """
    from qdistill.data.layout import EventFile

    with EventFile(event_path) as events:
        total = events.n_particles
        if n > total:
            raise QdistillError(
                f"{event_path}: has {total} particles, fewer than the {n} golden particles asked "
                "for; lower --golden-particles or generate more events"
            )
        index = np.sort(np.random.default_rng(seed).choice(total, size=n, replace=False))
        features = events.h5["particles/features"][index]
    return np.asarray(features, dtype=np.float32)


def sweep_input_range(n: int, low: float, high: float, seed: int) -> npt.NDArray[np.float32]:
    """``n`` seeded uniform vectors over [low, high] per input (when no event file is given)."""
    rng = np.random.default_rng(seed)
    return rng.uniform(low, high, size=(n, N_FEATURES)).astype(np.float32)
