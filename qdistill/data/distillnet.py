"""``qdistill data import-distillnet``: convert the public DistillNet dataset layout to ours.

Source layout (one HDF5 file):

- ``distill_inputs_default``, shape (16, events, particles): rows px, py, pz, E (GeV), d0, dz
  (mm), PUPPI weight, charge, then the 8 PID one-hot columns in the order of
  :data:`qdistill.features.PID_CLASSES`; particles zero-padded (E = 0) to a common length;
- ``data_abc``, shape (rows, events, particles): row 4 is the teacher (ABCNet) weight.

The teacher weight becomes ``/particles/soft_label``. That layout carries no truth and no
generator particles: ``truth_fraction`` is stored as -1 (:data:`NO_TRUTH`) with the file attribute
``truth_available = false``, and every event has zero generator particles (``gen_available =
false``). The teacher weight is not truth and is never stored as such.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

import h5py
import numpy as np
import numpy.typing as npt

from qdistill import features
from qdistill.atomic import atomic_path
from qdistill.data.layout import NO_TRUTH, Event, EventWriter
from qdistill.errors import QdistillError
from qdistill.kinematics import pt_eta_phi

INPUTS: Final[str] = "distill_inputs_default"
TEACHER: Final[str] = "data_abc"
TEACHER_ROW: Final[int] = 4
_EVENTS_PER_READ: Final[int] = 256

# Rows of distill_inputs_default.
_PX, _PY, _PZ, _E, _D0, _DZ, _PUPPI, _CHARGE = range(8)
_PID_ROWS: Final[slice] = slice(8, 8 + features.N_PID_CLASSES)


def _open_source(src: Path) -> h5py.File:
    if not src.is_file():
        raise QdistillError(f"{src}: no such file")
    try:
        f = h5py.File(src, "r")
    except OSError as exc:
        raise QdistillError(f"{src}: not an HDF5 file ({exc})") from None
    problems = []
    if INPUTS not in f:
        problems.append(f"no dataset {INPUTS!r}")
    elif f[INPUTS].ndim != 3 or f[INPUTS].shape[0] != 8 + features.N_PID_CLASSES:
        problems.append(f"{INPUTS} has shape {f[INPUTS].shape}, expected (16, events, particles)")
    if TEACHER not in f:
        problems.append(f"no dataset {TEACHER!r}")
    elif INPUTS in f and (
        f[TEACHER].ndim != 3
        or f[TEACHER].shape[0] <= TEACHER_ROW
        or f[TEACHER].shape[1:] != f[INPUTS].shape[1:]
    ):
        problems.append(
            f"{TEACHER} has shape {f[TEACHER].shape}, expected (>{TEACHER_ROW}, events, particles) "
            f"matching {INPUTS}"
        )
    if problems:
        f.close()
        raise QdistillError(f"{src}: not a DistillNet dataset ({'; '.join(problems)})")
    return f


def convert_event(inputs: npt.NDArray[np.floating], teacher: npt.NDArray[np.floating]) -> Event:
    """One event: ``inputs`` (16, particles) and ``teacher`` (particles,) → :class:`Event`.

    Padding (E ≤ 0) and particles along the beam (pT = 0, η undefined) are dropped.
    """
    x = np.asarray(inputs, dtype=np.float64)
    keep = (x[_E] > 0) & (np.hypot(x[_PX], x[_PY]) > 0)
    x, label = x[:, keep], np.asarray(teacher, dtype=np.float32)[keep]
    p4 = x[[_PX, _PY, _PZ, _E]].T
    pt, eta, phi = pt_eta_phi(p4)
    feats = np.zeros((len(pt), features.N_FEATURES), dtype=np.float32)
    feats[:, features.ETA] = eta
    feats[:, features.PHI] = phi
    feats[:, features.LOG_PT] = np.log(pt)
    feats[:, features.LOG_E] = np.log(p4[:, 3])
    feats[:, features.CHARGE] = x[_CHARGE]
    feats[:, features.PUPPI_WEIGHT] = x[_PUPPI]
    feats[:, features.PID_SLICE] = x[_PID_ROWS].T
    feats[:, features.D0] = x[_D0]
    feats[:, features.DZ] = x[_DZ]
    return Event(
        features=feats,
        p4=p4.astype(np.float32),
        truth_fraction=np.full(len(pt), NO_TRUTH, dtype=np.float32),
        gen_p4=np.zeros((0, 4), dtype=np.float32),
        gen_pdg_id=np.zeros(0, dtype=np.int32),
        soft_label=label,
    )


def import_distillnet(
    src: str | os.PathLike[str], output: str | os.PathLike[str], progress: bool = True
) -> Path:
    """Convert the DistillNet file ``src`` to our event file ``output`` (atomically); returns it.

    Raises QdistillError for a missing file, another layout, NaN/infinite inputs or teacher
    weights, or PID rows that are not one-hot.
    """
    from rich.console import Console
    from rich.progress import Progress

    src, output = Path(src), Path(output)
    with _open_source(src) as f:
        inputs, teacher = f[INPUTS], f[TEACHER]
        n_events = inputs.shape[1]
        attrs = {
            "source": str(src),
            "source_layout": "distillnet",
            "truth_available": False,
            "gen_available": False,
        }
        with (
            Progress(console=Console(stderr=True), disable=not progress) as bar,
            atomic_path(output) as tmp,
        ):
            task = bar.add_task("importing", total=n_events)
            with EventWriter(tmp, attrs=attrs) as writer:
                for e0 in range(0, n_events, _EVENTS_PER_READ):
                    e1 = min(e0 + _EVENTS_PER_READ, n_events)
                    x = inputs[:, e0:e1, :]
                    w = teacher[TEACHER_ROW, e0:e1, :]
                    _check_block(src, x, w, e0)
                    writer.write([convert_event(x[:, k], w[k]) for k in range(e1 - e0)])
                    bar.advance(task, e1 - e0)
    return output


def _check_block(
    src: Path, x: npt.NDArray[np.floating], w: npt.NDArray[np.floating], first_event: int
) -> None:
    for name, arr in ((INPUTS, x), (TEACHER, w)):
        bad = ~np.isfinite(arr)
        if bad.any():
            event = first_event + int(np.argwhere(bad)[0][-2])
            raise QdistillError(f"{src}: NaN or infinite values in {name} (event {event})")
    real = x[_E] > 0
    pid = x[_PID_ROWS][:, real]
    if pid.size and not (np.isin(pid, (0.0, 1.0)).all() and (pid.sum(axis=0) == 1).all()):
        raise QdistillError(f"{src}: PID rows 8-15 of {INPUTS} are not one-hot")
