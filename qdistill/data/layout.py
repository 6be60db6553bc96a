"""The HDF5 layout of an event file (documented in docs/data-format.md) and its reader/writer.

Particles of all events are stored flat, event after event; ``/events/n_particles`` (and
``/events/n_gen`` for generator particles) give each event's length, so event ``i`` is the slice
``offsets[i]:offsets[i + 1]``. Every dataset is chunked and gzip-compressed so that files of
10,000 events are written and read in bounded memory.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import h5py
import numpy as np
import numpy.typing as npt

from qdistill import __version__
from qdistill.errors import QdistillError
from qdistill.features import FEATURE_NAMES, N_FEATURES

LAYOUT_NAME: Final[str] = "qdistill-events"
LAYOUT_VERSION: Final[int] = 1
SOFT_LABEL: Final[str] = "particles/soft_label"

# name -> (dtype, trailing shape); the first axis grows as events are appended.
PARTICLE_FIELDS: Final[dict[str, tuple[str, tuple[int, ...]]]] = {
    "features": ("f4", (N_FEATURES,)),
    "p4": ("f4", (4,)),  # px, py, pz, E in GeV
    # energy fraction from the primary collision, in [0, 1]; -1 where the file has no truth
    # (attribute truth_available = false)
    "truth_fraction": ("f4", ()),
}
#: ``truth_fraction`` of a candidate whose source has no truth (attribute truth_available = false).
NO_TRUTH: Final[float] = -1.0
GEN_FIELDS: Final[dict[str, tuple[str, tuple[int, ...]]]] = {
    "p4": ("f4", (4,)),  # px, py, pz, E in GeV, final-state particles of the hard collision
    "pdg_id": ("i4", ()),
}
#: Optional: the event's candidates reconstructed without pileup (px, py, pz, E in GeV), kept by
#: importers whose source has them (the public DistillNet layout's ``data_nopu``); a list of its
#: own, not aligned with ``/particles``. Event ``i`` is ``/nopu/p4`` rows by ``/events/n_nopu``.
NOPU_P4: Final[str] = "nopu/p4"
NOPU_COUNTS: Final[str] = "events/n_nopu"
EVENT_FIELDS: Final[dict[str, tuple[str, tuple[int, ...]]]] = {
    "n_particles": ("i8", ()),
    "n_gen": ("i8", ()),
    "n_pileup": ("i4", ()),  # number of pileup collisions overlaid
    "pv_z_mm": ("f4", ()),  # z of the primary vertex in mm
}
_CHUNK_ROWS: Final[int] = 16384
_EVENT_CHUNK_ROWS: Final[int] = 1024


@dataclass
class Event:
    """One event: reconstructed candidates with their features and truth, and generator particles.

    Shapes: ``features`` (n, 16), ``p4`` (n, 4) GeV, ``truth_fraction`` (n,), ``gen_p4`` (m, 4) GeV,
    ``gen_pdg_id`` (m,), ``soft_label`` (n,) or None, ``nopu_p4`` (k, 4) GeV or None (the event
    reconstructed without pileup, where the source has it).
    """

    features: npt.NDArray[np.float32]
    p4: npt.NDArray[np.float32]
    truth_fraction: npt.NDArray[np.float32]
    gen_p4: npt.NDArray[np.float32]
    gen_pdg_id: npt.NDArray[np.int32]
    n_pileup: int = 0
    pv_z_mm: float = 0.0
    soft_label: npt.NDArray[np.float32] | None = None
    nopu_p4: npt.NDArray[np.float32] | None = None

    def __post_init__(self) -> None:
        n = len(self.features)
        if self.features.shape != (n, N_FEATURES):
            raise ValueError(
                f"features must have shape (n, {N_FEATURES}), got {self.features.shape}"
            )
        if self.p4.shape != (n, 4) or self.truth_fraction.shape != (n,):
            raise ValueError("p4 and truth_fraction must have one row per candidate")
        if self.gen_p4.shape != (len(self.gen_pdg_id), 4):
            raise ValueError("gen_p4 and gen_pdg_id must have one row per generator particle")
        if self.nopu_p4 is not None and (self.nopu_p4.ndim != 2 or self.nopu_p4.shape[1] != 4):
            raise ValueError(f"nopu_p4 must have shape (k, 4), got {self.nopu_p4.shape}")

    @property
    def n_particles(self) -> int:
        return len(self.features)


def _create(group: h5py.Group, name: str, dtype: str, shape: tuple[int, ...], rows: int) -> None:
    group.create_dataset(
        name,
        shape=(0, *shape),
        maxshape=(None, *shape),
        dtype=dtype,
        chunks=(rows, *shape),
        compression="gzip",
        compression_opts=4,
        shuffle=True,
    )


def _append(dataset: h5py.Dataset, values: npt.NDArray[Any]) -> None:
    start = dataset.shape[0]
    dataset.resize(start + len(values), axis=0)
    dataset[start:] = values


class EventWriter:
    """Append events to a new event file. Use inside :func:`qdistill.atomic.atomic_path`.

    >>> with atomic_path("out.h5") as tmp, EventWriter(tmp, attrs={"process": "ttbar"}) as w:
    ...     w.write(events)
    """

    def __init__(self, path: str | os.PathLike[str], attrs: dict[str, Any] | None = None) -> None:
        self._file = h5py.File(path, "w")
        root = self._file
        root.attrs["layout"] = LAYOUT_NAME
        root.attrs["layout_version"] = LAYOUT_VERSION
        root.attrs["qdistill_version"] = __version__
        root.attrs["feature_names"] = np.array(FEATURE_NAMES, dtype=h5py.string_dtype())
        for key, value in (attrs or {}).items():
            root.attrs[key] = value
        for group_name, fields, rows in (
            ("particles", PARTICLE_FIELDS, _CHUNK_ROWS),
            ("gen", GEN_FIELDS, _CHUNK_ROWS),
            ("events", EVENT_FIELDS, _EVENT_CHUNK_ROWS),
        ):
            group = root.create_group(group_name)
            for name, (dtype, shape) in fields.items():
                _create(group, name, dtype, shape, rows)
        self._with_soft_labels: bool | None = None
        self._with_nopu: bool | None = None

    def write(self, events: Sequence[Event]) -> None:
        """Append a batch of events (concatenated once per batch, so memory is one batch)."""
        if not events:
            return
        has_labels = {e.soft_label is not None for e in events}
        if len(has_labels) > 1 or (
            self._with_soft_labels is not None and has_labels != {self._with_soft_labels}
        ):
            raise ValueError("either every event carries soft labels or none does")
        if self._with_soft_labels is None:
            self._with_soft_labels = has_labels.pop()
            if self._with_soft_labels:
                _create(self._file["particles"], "soft_label", "f4", (), _CHUNK_ROWS)
        has_nopu = {e.nopu_p4 is not None for e in events}
        if len(has_nopu) > 1 or (self._with_nopu is not None and has_nopu != {self._with_nopu}):
            raise ValueError("either every event carries a no-pileup reconstruction or none does")
        if self._with_nopu is None:
            self._with_nopu = has_nopu.pop()
            if self._with_nopu:
                _create(self._file.create_group("nopu"), "p4", "f4", (4,), _CHUNK_ROWS)
                _create(self._file["events"], "n_nopu", "i8", (), _EVENT_CHUNK_ROWS)
        root = self._file
        _append(root["particles/features"], np.concatenate([e.features for e in events]))
        _append(root["particles/p4"], np.concatenate([e.p4 for e in events]))
        _append(
            root["particles/truth_fraction"], np.concatenate([e.truth_fraction for e in events])
        )
        if self._with_soft_labels:
            labels = [e.soft_label for e in events if e.soft_label is not None]
            _append(root[SOFT_LABEL], np.concatenate(labels))
        _append(root["gen/p4"], np.concatenate([e.gen_p4 for e in events]))
        _append(root["gen/pdg_id"], np.concatenate([e.gen_pdg_id for e in events]))
        _append(root["events/n_particles"], np.array([e.n_particles for e in events]))
        _append(root["events/n_gen"], np.array([len(e.gen_pdg_id) for e in events]))
        _append(root["events/n_pileup"], np.array([e.n_pileup for e in events]))
        _append(root["events/pv_z_mm"], np.array([e.pv_z_mm for e in events]))
        if self._with_nopu:
            nopu = [e.nopu_p4 for e in events if e.nopu_p4 is not None]
            _append(root[NOPU_P4], np.concatenate(nopu))
            _append(root[NOPU_COUNTS], np.array([len(p) for p in nopu]))

    def set_attrs(self, attrs: dict[str, Any]) -> None:
        """File attributes known only at the end, e.g. an importer's counts of dropped entries."""
        for key, value in attrs.items():
            self._file.attrs[key] = value

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> EventWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class EventFile:
    """Read an event file written by :class:`EventWriter`; validates the layout on open.

    Raises QdistillError with one clear line for a missing file, another layout, or a file whose
    feature list differs from :data:`qdistill.features.FEATURE_NAMES`.
    """

    path: Path
    _file: h5py.File = field(init=False, repr=False)
    offsets: npt.NDArray[np.int64] = field(init=False, repr=False)
    gen_offsets: npt.NDArray[np.int64] = field(init=False, repr=False)
    nopu_offsets: npt.NDArray[np.int64] | None = field(init=False, repr=False)

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise QdistillError(
                f"{self.path}: no such file (make one with `qdistill data generate`)"
            )
        try:
            self._file = h5py.File(self.path, "r")
        except OSError as exc:
            raise QdistillError(f"{self.path}: not an HDF5 file ({exc})") from None
        layout = self._file.attrs.get("layout")
        if layout != LAYOUT_NAME:
            self._file.close()
            raise QdistillError(
                f"{self.path}: not a qdistill event file (layout {layout!r}); "
                "convert public DistillNet files with `qdistill data import-distillnet`"
            )
        names = tuple(str(n) for n in self._file.attrs["feature_names"])
        if names != FEATURE_NAMES:
            self._file.close()
            raise QdistillError(
                f"{self.path}: feature list {list(names)} differs from this qdistill's "
                f"{list(FEATURE_NAMES)}; regenerate the file"
            )
        n = self._file["events/n_particles"][:]
        self.offsets = np.concatenate([[0], np.cumsum(n)]).astype(np.int64)
        g = self._file["events/n_gen"][:]
        self.gen_offsets = np.concatenate([[0], np.cumsum(g)]).astype(np.int64)
        self.nopu_offsets = None
        if NOPU_COUNTS in self._file:
            k = self._file[NOPU_COUNTS][:]
            self.nopu_offsets = np.concatenate([[0], np.cumsum(k)]).astype(np.int64)

    @property
    def h5(self) -> h5py.File:
        """The open h5py file, for readers that need a dataset directly."""
        return self._file

    @property
    def n_events(self) -> int:
        return len(self.offsets) - 1

    @property
    def n_particles(self) -> int:
        return int(self.offsets[-1])

    @property
    def attrs(self) -> dict[str, Any]:
        return dict(self._file.attrs)

    @property
    def truth_available(self) -> bool:
        """False when ``/particles/truth_fraction`` holds no truth (-1, e.g. imported DistillNet
        files, attribute ``truth_available = false``); readers must not use it then."""
        return bool(self._file.attrs.get("truth_available", True))

    @property
    def has_nopu(self) -> bool:
        """True when the file carries each event reconstructed without pileup (``/nopu``)."""
        return self.nopu_offsets is not None

    @property
    def has_soft_labels(self) -> bool:
        return SOFT_LABEL in self._file

    def particles(self, name: str, start: int = 0, stop: int | None = None) -> npt.NDArray[Any]:
        """Rows ``start:stop`` of ``/particles/<name>`` (all particles of all events)."""
        key = f"particles/{name}"
        if key not in self._file:
            hint = " (run `qdistill teacher label` first)" if key == SOFT_LABEL else ""
            raise QdistillError(f"{self.path}: has no dataset /{key}{hint}")
        return self._file[key][start:stop]

    def event(self, i: int) -> Event:
        """Event ``i`` (0-based)."""
        if not 0 <= i < self.n_events:
            raise IndexError(f"event {i} out of range 0..{self.n_events - 1}")
        return next(self.iter_events(i, i + 1))

    def iter_events(
        self, start: int = 0, stop: int | None = None, block: int = 64
    ) -> Iterator[Event]:
        """Yield events ``start:stop``, reading ``block`` events from disk at a time."""
        stop = self.n_events if stop is None else min(stop, self.n_events)
        f = self._file
        n_pileup = f["events/n_pileup"]
        pv_z = f["events/pv_z_mm"]
        for b0 in range(start, stop, block):
            b1 = min(b0 + block, stop)
            p0, p1 = int(self.offsets[b0]), int(self.offsets[b1])
            g0, g1 = int(self.gen_offsets[b0]), int(self.gen_offsets[b1])
            feats = f["particles/features"][p0:p1]
            p4 = f["particles/p4"][p0:p1]
            truth = f["particles/truth_fraction"][p0:p1]
            labels = f[SOFT_LABEL][p0:p1] if self.has_soft_labels else None
            gp4 = f["gen/p4"][g0:g1]
            gpdg = f["gen/pdg_id"][g0:g1]
            npu = n_pileup[b0:b1]
            pvz = pv_z[b0:b1]
            nopu_offsets = self.nopu_offsets
            if nopu_offsets is not None:
                nopu = f[NOPU_P4][int(nopu_offsets[b0]) : int(nopu_offsets[b1])]
            for k, i in enumerate(range(b0, b1)):
                a, b = int(self.offsets[i]) - p0, int(self.offsets[i + 1]) - p0
                c, d = int(self.gen_offsets[i]) - g0, int(self.gen_offsets[i + 1]) - g0
                nopu_p4 = None
                if nopu_offsets is not None:
                    n0 = int(nopu_offsets[b0])
                    nopu_p4 = nopu[int(nopu_offsets[i]) - n0 : int(nopu_offsets[i + 1]) - n0]
                yield Event(
                    features=feats[a:b],
                    p4=p4[a:b],
                    truth_fraction=truth[a:b],
                    gen_p4=gp4[c:d],
                    gen_pdg_id=gpdg[c:d],
                    n_pileup=int(npu[k]),
                    pv_z_mm=float(pvz[k]),
                    soft_label=None if labels is None else labels[a:b],
                    nopu_p4=nopu_p4,
                )

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> EventFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_soft_labels(path: str | os.PathLike[str], soft_labels: npt.ArrayLike) -> None:
    """Store one soft label per candidate as ``/particles/soft_label``, atomically.

    The file is copied, the labels written into the copy, and the copy renamed over the
    original, so an interrupted run leaves the original file as it was.
    """
    import shutil

    from qdistill.atomic import atomic_path

    path = Path(path)
    labels = np.asarray(soft_labels, dtype=np.float32)
    with EventFile(path) as events:
        expected = events.n_particles
    if labels.shape != (expected,):
        raise QdistillError(
            f"{path}: {labels.shape[0] if labels.ndim else 0} soft labels for {expected} candidates"
        )
    if not np.isfinite(labels).all():
        raise QdistillError(f"{path}: soft labels contain NaN or infinity")
    with atomic_path(path) as tmp:
        shutil.copyfile(path, tmp)
        with h5py.File(tmp, "r+") as f:
            if SOFT_LABEL in f:
                del f[SOFT_LABEL]
            f.create_dataset(
                SOFT_LABEL,
                data=labels,
                maxshape=(None,),
                chunks=(min(_CHUNK_ROWS, max(1, len(labels))),),
                compression="gzip",
                compression_opts=4,
                shuffle=True,
            )
