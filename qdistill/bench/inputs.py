"""Input particles for latency measurements: real ones from an event file, or synthetic ones.

Latency of the per-particle students does not depend on the values, only on the batch shape
(N, 16); the teacher's graph building depends a little on where particles sit in (η, φ), so
synthetic particles are spread over the detector like pileup.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from qdistill.data.layout import EventFile
from qdistill.errors import QdistillError


def synthetic_features(n_particles: int, seed: int) -> npt.NDArray[np.float32]:
    """``n_particles`` synthetic candidates with the 16 features, shape (n, 16), float32.

    They are the features of :func:`qdistill.student.synthetic.synthetic_event`: plausible
    ranges, spread flat over |η| < 4 and φ.
    """
    from qdistill.student.synthetic import synthetic_event

    event, _ = synthetic_event(n_particles, np.random.default_rng(seed))
    return np.ascontiguousarray(event.features, dtype=np.float32)


class ParticleSource:
    """Batches of particles (for the students) and events of a given size (for the teacher).

    With ``data`` (a qdistill event file) particles are the file's own candidates; otherwise they
    are :func:`synthetic_features` drawn with ``seed``. :meth:`describe` says which, for bench.json.
    """

    def __init__(
        self, data: str | os.PathLike[str] | None, max_particles: int, seed: int = 0
    ) -> None:
        self.data = None if data is None else Path(data)
        self.seed = seed
        self.notes: list[str] = []
        if self.data is None:
            self._pool = synthetic_features(max_particles, seed)
            self._offsets = None
            return
        with EventFile(self.data) as events:
            if events.n_particles == 0:
                raise QdistillError(f"{self.data}: has no particles; give a file with events")
            take = min(events.n_particles, max_particles)
            # whole events only, so that teacher events are real ones
            n_events = int(np.searchsorted(events.offsets, take, side="left"))
            n_events = max(1, min(n_events, events.n_events))
            stop = int(events.offsets[n_events])
            self._pool = events.particles("features", 0, stop).astype(np.float32)
            self._offsets = events.offsets[: n_events + 1].copy()
        if len(self._pool) < max_particles:
            self.notes.append(
                f"{self.data} holds {len(self._pool)} particles in the events read; larger "
                "batches repeat them"
            )

    def particles(self, n: int) -> npt.NDArray[np.float32]:
        """A C-contiguous batch of ``n`` particles, shape (n, 16)."""
        if n <= len(self._pool):
            return np.ascontiguousarray(self._pool[:n])
        reps = -(-n // len(self._pool))
        return np.ascontiguousarray(np.tile(self._pool, (reps, 1))[:n])

    def event(self, n: int) -> npt.NDArray[np.float32]:
        """One event of exactly ``n`` particles, shape (n, 16).

        From a file: the smallest real event with at least ``n`` candidates, cut to ``n``; if
        every event is smaller, consecutive events merged (noted in :attr:`notes`).
        """
        if self._offsets is None:
            return synthetic_features(n, self.seed + n)
        sizes = np.diff(self._offsets)
        big_enough = np.flatnonzero(sizes >= n)
        if big_enough.size:
            i = int(big_enough[np.argmin(sizes[big_enough])])
            start = int(self._offsets[i])
            return np.ascontiguousarray(self._pool[start : start + n])
        note = (
            f"teacher events of {n} particles merge consecutive events of {self.data} "
            f"(its largest event read has {int(sizes.max())})"
        )
        if note not in self.notes:
            self.notes.append(note)
        return self.particles(n)

    def describe(self) -> dict[str, Any]:
        """What the inputs are, for bench.json."""
        if self.data is None:
            return {"kind": "synthetic", "seed": self.seed, "notes": self.notes}
        return {
            "kind": "file",
            "path": str(self.data),
            "events_read": len(self._offsets) - 1 if self._offsets is not None else 0,
            "particles_read": len(self._pool),
            "notes": self.notes,
        }
