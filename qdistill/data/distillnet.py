"""``qdistill data import-distillnet``: convert the public DistillNet dataset layout to ours.

Source layout (one HDF5 file):

- ``distill_inputs_default``, shape (16, events, particles): rows px, py, pz, E (GeV), d0, dz
  (mm), PUPPI weight, charge, then the 8 PID one-hot columns in the order of
  :data:`qdistill.features.PID_CLASSES`; particles zero-padded (E = 0) to a common length;
- ``data_abc``, shape (rows, events, particles): row 4 is the teacher (ABCNet) weight;
- ``data_gen`` (optional), shape (≥ 4, events, generator particles): rows px, py, pz, E of the
  generator particles, zero-padded; the reference code's generator MET is their |Σ pT|;
- ``data_puppi`` (optional), shape (≥ 5, events, particles): row 4 the PUPPI weight of each
  candidate, the weight the reference code's PUPPI MET uses;
- ``data_nopu`` (optional), shape (≥ 4, events, slots): rows px, py, pz, E of the event
  reconstructed without pileup, zero-padded; the reference's η–φ maps divide by its pT.

The teacher weight becomes ``/particles/soft_label``, the generator particles ``/gen`` (PDG ids
unknown: stored as 0, attribute ``gen_pdg_available = false``; every particle counts as visible),
the no-pileup reconstruction ``/nopu``. Rows with E ≤ 0 or pT = 0 are padding and dropped. The
layout carries no per-candidate truth: ``truth_fraction`` is -1 (:data:`NO_TRUTH`), attribute
``truth_available = false``; the teacher weight is not truth and is never stored as such. The
PUPPI feature is row 6 of the inputs (the networks' input); where ``data_puppi`` row 4 differs
from it, the file attribute ``puppi_weight_mismatches`` counts the candidates.
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
GEN: Final[str] = "data_gen"
PUPPI: Final[str] = "data_puppi"
PUPPI_ROW: Final[int] = 4
NOPU: Final[str] = "data_nopu"
#: What an optional dataset's absence costs (the ``missing`` attribute).
_WITHOUT: Final[dict[str, str]] = {
    GEN: "no generator particles; no MET or jet truth",
    PUPPI: "no data_puppi; the PUPPI weight is the inputs' row 6 alone",
    NOPU: "no no-pileup reconstruction; no eta-phi reference",
}
#: Optional datasets: name -> rows needed.
_OPTIONAL_ROWS: Final[dict[str, int]] = {GEN: 4, PUPPI: PUPPI_ROW + 1, NOPU: 4}
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
    n_events = f[INPUTS].shape[1] if INPUTS in f and f[INPUTS].ndim == 3 else None
    for name, rows in _OPTIONAL_ROWS.items():
        if name not in f:
            continue
        d = f[name]
        if d.ndim != 3 or d.shape[0] < rows or d.shape[1] != n_events:
            problems.append(f"{name} has shape {d.shape}, expected (>={rows}, {n_events}, n)")
        elif name == PUPPI and INPUTS in f and d.shape[2] != f[INPUTS].shape[2]:
            problems.append(
                f"{name} has {d.shape[2]} particle slots, {INPUTS} {f[INPUTS].shape[2]}"
            )
    if problems:
        f.close()
        raise QdistillError(f"{src}: not a DistillNet dataset ({'; '.join(problems)})")
    return f


def _real(p4_rows: npt.NDArray[np.floating]) -> npt.NDArray[np.bool_]:
    """Slots that hold a particle: E > 0 and pT > 0 (padding is all zero; pT = 0 has no η)."""
    return (p4_rows[_E] > 0) & (np.hypot(p4_rows[_PX], p4_rows[_PY]) > 0)


def _four_vectors(rows: npt.NDArray[np.floating]) -> npt.NDArray[np.float32]:
    """(≥ 4, slots) px, py, pz, E rows → (particles, 4), padding dropped."""
    x = np.asarray(rows[:4], dtype=np.float64)
    return x[:, _real(x)].T.astype(np.float32)


def convert_event(
    inputs: npt.NDArray[np.floating],
    teacher: npt.NDArray[np.floating],
    gen: npt.NDArray[np.floating] | None = None,
    nopu: npt.NDArray[np.floating] | None = None,
) -> Event:
    """One event: ``inputs`` (16, particles), ``teacher`` (particles,), optionally ``gen``
    (≥ 4, generator slots) and ``nopu`` (≥ 4, slots) → :class:`Event`.

    Padding (E ≤ 0) and particles along the beam (pT = 0, η undefined) are dropped.
    """
    x = np.asarray(inputs, dtype=np.float64)
    keep = _real(x)
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
    gen_p4 = np.zeros((0, 4), dtype=np.float32) if gen is None else _four_vectors(gen)
    return Event(
        features=feats,
        p4=p4.astype(np.float32),
        truth_fraction=np.full(len(pt), NO_TRUTH, dtype=np.float32),
        gen_p4=gen_p4,
        gen_pdg_id=np.zeros(len(gen_p4), dtype=np.int32),
        soft_label=label,
        nopu_p4=None if nopu is None else _four_vectors(nopu),
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
        gen, puppi, nopu = (f.get(name) for name in (GEN, PUPPI, NOPU))
        n_events = inputs.shape[1]
        attrs = {
            "source": str(src),
            "source_layout": "distillnet",
            "truth_available": False,
            "gen_available": gen is not None,
            "gen_pdg_available": False,
            "nopu_available": nopu is not None,
            "missing": [
                "per-candidate truth: the layout has none; truth_fraction -1",
                *(f"{name}: {why}" for name, why in _WITHOUT.items() if name not in f),
            ],
        }
        mismatches = 0
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
                    g = None if gen is None else gen[:4, e0:e1, :]
                    n = None if nopu is None else nopu[:4, e0:e1, :]
                    _check_block(src, x, w, e0)
                    for name, arr in ((GEN, g), (NOPU, n)):
                        if arr is not None:
                            _check_finite(src, name, arr, e0)
                    if puppi is not None:
                        p = puppi[PUPPI_ROW, e0:e1, :]
                        _check_finite(src, PUPPI, p, e0)
                        real = _real(x)
                        mismatches += int((p[real] != x[_PUPPI][real]).sum())
                    writer.write(
                        [
                            convert_event(
                                x[:, k],
                                w[k],
                                None if g is None else g[:, k],
                                None if n is None else n[:, k],
                            )
                            for k in range(e1 - e0)
                        ]
                    )
                    bar.advance(task, e1 - e0)
                if puppi is not None:
                    writer.set_attrs({"puppi_weight_mismatches": mismatches})
    return output


def _check_block(
    src: Path, x: npt.NDArray[np.floating], w: npt.NDArray[np.floating], first_event: int
) -> None:
    for name, arr in ((INPUTS, x), (TEACHER, w)):
        _check_finite(src, name, arr, first_event)
    pid = x[_PID_ROWS][:, _real(x)]
    if pid.size and not (np.isin(pid, (0.0, 1.0)).all() and (pid.sum(axis=0) == 1).all()):
        raise QdistillError(f"{src}: PID rows 8-15 of {INPUTS} are not one-hot")


def _check_finite(src: Path, name: str, arr: npt.NDArray[np.floating], first_event: int) -> None:
    """``arr``'s second-to-last axis is events (counted from ``first_event``)."""
    bad = ~np.isfinite(arr)
    if bad.any():
        event = first_event + int(np.argwhere(bad)[0][-2])
        raise QdistillError(f"{src}: NaN or infinite values in {name} (event {event})")
