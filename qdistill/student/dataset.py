"""Stream (features, [soft label, truth]) batches from an event file into a tf.data pipeline.

Nothing is loaded whole: each epoch reads the particle range in blocks aligned to the HDF5 chunks,
in a seeded random block order, pools ``window_blocks`` blocks in memory, shuffles the pooled
particles, preprocesses them and yields large batches (the remainder of a window carries over
into the next, so every batch but an epoch's last is full). tf.data prefetches the next batch
while Keras trains on the current one. Memory: about ``window_blocks × block_rows × 76`` bytes.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import h5py
import numpy as np
import numpy.typing as npt

from qdistill.data.layout import SOFT_LABEL, EventFile
from qdistill.errors import QdistillError
from qdistill.features import N_FEATURES
from qdistill.student.preprocessing import Preprocessing

#: Rows read per block: a multiple of the event files' 16,384-row chunks.
DEFAULT_BLOCK_ROWS: Final[int] = 16 * 16384
DEFAULT_WINDOW_BLOCKS: Final[int] = 4
#: Batches handed to tf.data at a time (then split by ``Dataset.rebatch``).
GROUP_BATCHES: Final[int] = 16


@dataclass(frozen=True)
class ParticleRange:
    """Particles ``start:stop`` of an event file (event-aligned), with their event count."""

    path: Path
    start: int
    stop: int
    n_events: int

    @property
    def n_particles(self) -> int:
        return self.stop - self.start


def split_events(
    path: str | os.PathLike[str],
    holdout_fraction: float,
    max_particles: int | None = None,
) -> tuple[ParticleRange, ParticleRange | None]:
    """Split a labelled file at an event boundary: the first events train, the last are held out.

    ``max_particles`` caps the training particles (whole events). Raises QdistillError if the file
    has no soft labels (with the command that makes them) or too few events.
    """
    path = Path(path)
    with EventFile(path) as f:
        require_soft_labels(f)
        offsets = f.offsets
        n_events = f.n_events
    if not 0.0 <= holdout_fraction < 1.0:
        raise QdistillError(f"holdout fraction {holdout_fraction} must be in [0, 1)")
    n_hold = round(n_events * holdout_fraction)
    if n_events - n_hold < 1 or (holdout_fraction > 0 and n_hold < 1):
        raise QdistillError(
            f"{path}: {n_events} events are too few to hold out {holdout_fraction:.0%}"
        )
    n_train_events = n_events - n_hold
    if max_particles is not None:
        fits = int(np.searchsorted(offsets, max_particles, side="right")) - 1
        n_train_events = max(1, min(n_train_events, fits))
    train = ParticleRange(path, 0, int(offsets[n_train_events]), n_train_events)
    hold = (
        ParticleRange(path, int(offsets[n_events - n_hold]), int(offsets[n_events]), n_hold)
        if n_hold
        else None
    )
    if train.n_particles == 0:
        raise QdistillError(f"{path}: the training events hold no particles")
    return train, hold


def whole_file(path: str | os.PathLike[str]) -> ParticleRange:
    """All particles of a labelled event file."""
    path = Path(path)
    with EventFile(path) as f:
        require_soft_labels(f)
        return ParticleRange(path, 0, f.n_particles, f.n_events)


def require_soft_labels(f: EventFile) -> None:
    """QdistillError unless ``f`` carries the teacher's soft labels."""
    if not f.has_soft_labels:
        raise QdistillError(
            f"{f.path}: has no teacher soft labels (/{SOFT_LABEL}); "
            f"run `qdistill teacher label TEACHER_DIR --data {f.path}` first"
        )


_FIELDS: Final[dict[str, str]] = {
    "features": "particles/features",
    "soft_label": SOFT_LABEL,
    "truth": "particles/truth_fraction",
}


def read_range(
    r: ParticleRange,
    start: int = 0,
    stop: int | None = None,
    fields: tuple[str, ...] = ("features", "soft_label", "truth"),
) -> dict[str, npt.NDArray[np.float32]]:
    """Rows ``start:stop`` of the range (relative) of the chosen ``fields``: raw ``features``
    (n, 16), the teacher's ``soft_label`` (n,), the ``truth`` fraction (n,)."""
    stop = r.n_particles if stop is None else min(stop, r.n_particles)
    a, b = r.start + start, r.start + stop
    with h5py.File(r.path, "r") as h5:
        return {name: h5[_FIELDS[name]][a:b] for name in fields}


class BatchStream:
    """A re-iterable stream of shuffled, preprocessed batches of one particle range.

    Each iteration is one epoch with its own seeded order (seed, epoch number).
    """

    def __init__(
        self,
        r: ParticleRange,
        preprocessing: Preprocessing,
        batch_size: int,
        seed: int,
        block_rows: int = DEFAULT_BLOCK_ROWS,
        window_blocks: int = DEFAULT_WINDOW_BLOCKS,
    ) -> None:
        if batch_size < 1:
            raise QdistillError(f"--batch-size {batch_size} must be ≥ 1")
        self.range = r
        self.preprocessing = preprocessing
        self.batch_size = batch_size
        self.seed = seed
        self.block_rows = block_rows
        self.window_blocks = window_blocks
        self.epoch = 0

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(self.range.n_particles / self.batch_size)

    def groups(self) -> Iterator[tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]]:
        """One epoch as groups of up to :data:`GROUP_BATCHES` whole batches (the last may be
        shorter); handing tf.data few large arrays keeps the Python overhead per batch low."""
        rng = np.random.default_rng([self.seed, self.epoch])
        self.epoch += 1
        r = self.range
        group = GROUP_BATCHES * self.batch_size
        starts = np.arange(0, r.n_particles, self.block_rows)
        rng.shuffle(starts)
        carry_x = np.empty((0, N_FEATURES), np.float32)
        carry_y = np.empty((0, 2), np.float32)
        with h5py.File(r.path, "r") as h5:
            feats, labels, truth = (
                h5["particles/features"],
                h5[SOFT_LABEL],
                h5["particles/truth_fraction"],
            )
            for w0 in range(0, len(starts), self.window_blocks):
                xs, ys = [carry_x], [carry_y]
                for s in starts[w0 : w0 + self.window_blocks]:
                    a = r.start + int(s)
                    b = min(a + self.block_rows, r.stop)
                    xs.append(self.preprocessing(feats[a:b]))
                    ys.append(np.stack([labels[a:b], truth[a:b]], axis=1).astype(np.float32))
                x = np.concatenate(xs)
                y = np.concatenate(ys)
                order = rng.permutation(len(x))
                x, y = x[order], y[order]
                n_full = (len(x) // self.batch_size) * self.batch_size
                for g0 in range(0, n_full, group):
                    g1 = min(g0 + group, n_full)
                    yield x[g0:g1], y[g0:g1]
                carry_x, carry_y = x[n_full:], y[n_full:]
        if len(carry_x):
            yield carry_x, carry_y

    def __iter__(self) -> Iterator[tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]]:
        """One epoch as batches of ``batch_size`` (the last may be shorter)."""
        for x, y in self.groups():
            for b0 in range(0, len(x), self.batch_size):
                yield x[b0 : b0 + self.batch_size], y[b0 : b0 + self.batch_size]

    def dataset(self) -> Any:
        """The stream as a prefetching ``tf.data.Dataset`` of (x (b, 16), y (b, 2)) batches."""
        from qdistill.keras_backend import import_tensorflow

        tf = import_tensorflow()
        signature = (
            tf.TensorSpec(shape=(None, N_FEATURES), dtype=tf.float32),
            tf.TensorSpec(shape=(None, 2), dtype=tf.float32),
        )
        return tf.data.Dataset.from_generator(self.__iter__, output_signature=signature).prefetch(2)
