"""``qdistill data generate``: hard process + pileup + detector + PUPPI, streamed to an event file.

Determinism: every random number derives from the master seed through ``numpy.random.SeedSequence``
with a spawn key naming its use — ``(POOL, k)`` for minimum-bias collision ``k`` of the pileup
pool, ``(EVENT, i)`` for event ``i`` (its Pythia seed and its numpy generator for pileup overlay,
detector and PUPPI) and ``(INIT,)`` for Pythia's initialisation. Work is cut into fixed tasks that
do not depend on the number of workers, and the parent writes results in event order, so a seed
gives the same file whatever ``--workers``.

Pileup: a Poisson number (mean ``pileup``) of minimum-bias collisions drawn from a pool of
generated collisions (:func:`pool_size_for`, at most :data:`POOL_SIZE_MAX`); each use gets a
random φ rotation, a random z reflection and its own vertex z ~ Gaussian(σ = 53 mm,
|z| ≤ 250 mm), like the primary vertex.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from qdistill import features
from qdistill.atomic import atomic_path
from qdistill.data import detector, generator
from qdistill.data.layout import Event, EventWriter
from qdistill.data.puppi import (
    PuppiParameters,
    associate_to_pv,
    associate_to_pv_truth,
    puppi_weights,
)
from qdistill.errors import QdistillError
from qdistill.progress import progress_bar

VERTEX_Z_SIGMA_MM: Final[float] = 53.0
VERTEX_Z_MAX_MM: Final[float] = 250.0
POOL_SIZE_MAX: Final[int] = 2000
POOL_REUSE: Final[int] = 16
EVENTS_PER_TASK: Final[int] = 2
POOL_EVENTS_PER_TASK: Final[int] = 50
WRITE_BATCH_EVENTS: Final[int] = 32

_POOL, _EVENT, _INIT = 0, 1, 2  # SeedSequence spawn-key streams


@dataclass(frozen=True)
class RunConfig:
    """What a run generates; everything a worker needs besides the pileup pool."""

    process: str
    n_events: int
    pileup: float
    seed: int
    pool_size: int
    puppi: PuppiParameters = dataclasses.field(default_factory=PuppiParameters)


@dataclass(frozen=True)
class PileupPool:
    """Minimum-bias collisions stored flat: collision ``k`` is rows ``offsets[k]:offsets[k+1]``."""

    particles: generator.GenParticles
    offsets: npt.NDArray[np.int64]

    @property
    def n_collisions(self) -> int:
        return len(self.offsets) - 1

    @staticmethod
    def from_collisions(collisions: list[generator.GenParticles]) -> PileupPool:
        lengths = [len(c) for c in collisions]
        cat = generator.GenParticles(
            *(np.concatenate([getattr(c, f.name) for c in collisions])
              for f in dataclasses.fields(generator.GenParticles))
        )  # fmt: skip
        return PileupPool(cat, np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64))

    def save(self, path: Path) -> None:
        arrays = {
            f.name: getattr(self.particles, f.name)
            for f in dataclasses.fields(generator.GenParticles)
        }
        np.savez(path, offsets=self.offsets, **arrays)

    @staticmethod
    def load(path: Path) -> PileupPool:
        with np.load(path) as data:
            parts = generator.GenParticles(
                *(data[f.name] for f in dataclasses.fields(generator.GenParticles))
            )
            return PileupPool(parts, data["offsets"])

    def overlay(
        self,
        pick: npt.NDArray[np.int64],
        rotation: npt.NDArray[np.float64],
        flip: npt.NDArray[np.bool_],
        dz_vertex_mm: npt.NDArray[np.float64],
    ) -> detector.TrueParticles:
        """Collisions ``pick``, rotated in φ, z-reflected where ``flip``, at vertex offsets dz."""
        starts, lengths = self.offsets[pick], np.diff(self.offsets)[pick]
        total = int(lengths.sum())
        collision = np.repeat(np.arange(len(pick)), lengths)
        first_row = np.cumsum(lengths) - lengths
        rows = np.repeat(starts - first_row, lengths) + np.arange(total)
        p = self.particles
        p4 = p.p4[rows].copy()
        c, s = np.cos(rotation)[collision], np.sin(rotation)[collision]
        p4[:, 0], p4[:, 1] = c * p4[:, 0] - s * p4[:, 1], s * p4[:, 0] + c * p4[:, 1]
        sign = np.where(flip, -1.0, 1.0)[collision]
        p4[:, 2] *= sign
        return detector.TrueParticles(
            pdg_id=p.pdg_id[rows],
            charge=p.charge[rows],
            p4=p4,
            d0_mm=p.d0_mm[rows],
            dz_mm=dz_vertex_mm[collision] + sign * p.z0_mm[rows],
            from_pv=np.zeros(total, dtype=bool),
        )


def pool_size_for(n_events: int, pileup: float) -> int:
    """Number of pool collisions for a run: each reused ~:data:`POOL_REUSE` times over the run,
    at least twice the mean pileup (few repeats inside one event), at most :data:`POOL_SIZE_MAX`.
    """
    if pileup <= 0:
        return 0
    wanted = max(math.ceil(2 * pileup), math.ceil(pileup * n_events / POOL_REUSE))
    return int(min(POOL_SIZE_MAX, wanted))


def _pythia_seed(seq: np.random.SeedSequence) -> int:
    return int(seq.generate_state(1, np.uint32)[0]) % generator.PYTHIA_SEED_MAX + 1


def vertex_z_mm(rng: np.random.Generator, n: int) -> npt.NDArray[np.float64]:
    """``n`` vertex z positions: Gaussian σ = 53 mm truncated to |z| ≤ 250 mm (resampled)."""
    z = rng.normal(0.0, VERTEX_Z_SIGMA_MM, n)
    while (bad := np.abs(z) > VERTEX_Z_MAX_MM).any():
        z[bad] = rng.normal(0.0, VERTEX_Z_SIGMA_MM, int(bad.sum()))
    return z


# ---- worker side: one state per process ---------------------------------------------------------

_STATE: dict[str, Any] = {}


def _use_config(config: RunConfig) -> None:
    """Make ``config`` this process's run (a Dask worker may serve several runs in turn)."""
    if _STATE.get("config") != config:
        _STATE.clear()
        _STATE["config"] = config


def _pythia(kind: str) -> object:
    """The process's hard-process or minimum-bias Pythia, initialised on first use."""
    if kind not in _STATE:
        config: RunConfig = _STATE["config"]
        settings = generator.PROCESSES[config.process] if kind == "hard" else generator.MIN_BIAS
        seed = _pythia_seed(np.random.SeedSequence(config.seed, spawn_key=(_INIT,)))
        _STATE[kind] = generator.make_pythia(settings, seed)
    return _STATE[kind]


def _pool_task(indices: range, config: RunConfig) -> list[generator.GenParticles]:
    _use_config(config)
    pythia = _pythia("min_bias")
    return [
        generator.next_event(
            pythia, _pythia_seed(np.random.SeedSequence(config.seed, spawn_key=(_POOL, k)))
        )
        for k in indices
    ]


def _event_task(task: tuple[range, str], config: RunConfig) -> list[Event]:
    _use_config(config)
    indices, pool_path = task
    if pool_path and _STATE.get("pool_path") != pool_path:
        _STATE["pool"] = PileupPool.load(Path(pool_path))
        _STATE["pool_path"] = pool_path
    return [
        simulate_event(i, _STATE["config"], _pythia("hard"), _STATE.get("pool")) for i in indices
    ]


def track_association(
    cands: detector.Candidates,
    params: PuppiParameters,
    pileup_vertex_dz_mm: npt.NDArray[np.float64],
) -> npt.NDArray[np.bool_]:
    """Which candidates PUPPI takes as primary-vertex tracks (read only where charged), by
    ``params.vertex_association``; ``pileup_vertex_dz_mm``: the reconstructed pileup vertices."""
    if params.vertex_association == "delphes":
        return associate_to_pv_truth(cands.true_dz_mm, cands.truth_fraction > 0.5, params)
    dz = cands.features[:, features.DZ]
    return associate_to_pv(dz, cands.dz_sigma_mm, params, pileup_vertex_dz_mm)


def simulate_event(
    index: int, config: RunConfig, hard_pythia: object, pool: PileupPool | None
) -> Event:
    """Event ``index`` of the run: a hard collision, its pileup, detector response and PUPPI."""
    seq_pythia, seq_numpy = np.random.SeedSequence(config.seed, spawn_key=(_EVENT, index)).spawn(2)
    hard = generator.next_event(hard_pythia, _pythia_seed(seq_pythia))
    rng = np.random.default_rng(seq_numpy)
    pv_z = float(vertex_z_mm(rng, 1)[0])
    n_pu = int(rng.poisson(config.pileup)) if pool is not None else 0
    pick = rng.integers(0, pool.n_collisions, n_pu) if pool is not None else np.zeros(0, int)
    rotation = rng.uniform(-np.pi, np.pi, n_pu)
    flip = rng.random(n_pu) < 0.5
    dz_vertex = vertex_z_mm(rng, n_pu) - pv_z
    primary = detector.TrueParticles(
        pdg_id=hard.pdg_id,
        charge=hard.charge,
        p4=hard.p4,
        d0_mm=hard.d0_mm,
        dz_mm=hard.z0_mm,
        from_pv=np.ones(len(hard), dtype=bool),
    )
    if n_pu and pool is not None:
        pileup = pool.overlay(pick, rotation, flip, dz_vertex)
        crossing = detector.TrueParticles(
            *(np.concatenate([getattr(primary, f.name), getattr(pileup, f.name)])
              for f in dataclasses.fields(detector.TrueParticles))
        )  # fmt: skip
    else:
        crossing = primary
    cands = detector.reconstruct(crossing, rng)
    reconstructed = rng.random(n_pu) < config.puppi.vertex_reco_fraction
    feats = cands.features
    charged = feats[:, features.CHARGE] != 0
    pid = features.pid_codes_from_one_hot(feats[:, features.PID_SLICE])
    feats[:, features.PUPPI_WEIGHT] = puppi_weights(
        feats[:, features.ETA],
        feats[:, features.PHI],
        features.pt_gev(feats),
        charged,
        track_association(cands, config.puppi, dz_vertex[reconstructed]),
        n_vertices=n_pu + 1,
        params=config.puppi,
        leptons=np.isin(np.abs(pid), (11, 13)),
    )
    return Event(
        features=feats,
        p4=cands.p4,
        truth_fraction=cands.truth_fraction,
        gen_p4=hard.p4.astype(np.float32),
        gen_pdg_id=hard.pdg_id.astype(np.int32),
        n_pileup=n_pu,
        pv_z_mm=pv_z,
    )


# ---- parent side ---------------------------------------------------------------------------------


Runner = Callable[[Callable[[Any, RunConfig], Any], Iterable[Any]], Iterator[Any]]


@contextmanager
def _executor(config: RunConfig, workers: int) -> Iterator[Runner]:
    """A function mapping a task function over tasks, results in task order: in this process,
    or on a Dask LocalCluster of ``workers`` single-threaded processes."""
    if workers == 1:
        try:
            yield lambda fn, tasks: (fn(task, config) for task in tasks)
        finally:
            _STATE.clear()
        return
    from qdistill.cluster import close_client, local_client

    client = local_client(workers)

    def run(fn: Callable[[Any, RunConfig], Any], tasks: Iterable[Any]) -> Iterator[Any]:
        futures = client.map(fn, list(tasks), config=config, pure=False)
        for future in futures:  # in order: the file does not depend on who finished first
            yield future.result()
            future.release()

    try:
        yield run
    finally:
        close_client(client)


def _chunks(n: int, size: int) -> list[range]:
    return [range(a, min(a + size, n)) for a in range(0, n, size)]


def validate(process: str, n_events: int, pileup: float, seed: int, workers: int) -> None:
    """Raise QdistillError naming the first bad argument of :func:`generate_events`."""
    generator.check_process(process)
    if n_events < 1:
        raise QdistillError(f"--events must be at least 1 (got {n_events})")
    if not (pileup >= 0 and math.isfinite(pileup)):
        raise QdistillError(f"--pileup must be a mean number of collisions ≥ 0 (got {pileup})")
    if seed < 0:
        raise QdistillError(f"--seed must be ≥ 0 (got {seed})")
    if workers < 1:
        raise QdistillError(f"--workers must be at least 1 (got {workers})")


def generate_events(
    process: str,
    n_events: int,
    pileup: float,
    seed: int,
    output: str | os.PathLike[str],
    workers: int = 1,
    progress: bool = True,
    puppi: PuppiParameters | None = None,
) -> Path:
    """Generate ``n_events`` events of ``process`` ("wjets" or "ttbar") at mean ``pileup`` into
    the event file ``output`` (atomically; see docs/data-format.md). Returns the output path.

    The file is the same for a given seed whatever ``workers``. Memory stays bounded: events are
    written in batches of :data:`WRITE_BATCH_EVENTS`.
    """
    validate(process, n_events, pileup, seed, workers)
    output = Path(output)
    config = RunConfig(
        process=process,
        n_events=n_events,
        pileup=float(pileup),
        seed=seed,
        pool_size=pool_size_for(n_events, pileup),
        puppi=puppi or PuppiParameters(),
    )
    with (
        progress_bar(enabled=progress, with_loss=False, unit="collisions / events") as bar,
        tempfile.TemporaryDirectory(prefix="qdistill-pool-") as scratch,
        atomic_path(output) as tmp,
        _executor(config, workers) as run,
    ):
        pool_path = _write_pileup_pool(config, run, bar, Path(scratch)) if config.pool_size else ""
        task = bar.add_task(f"{process} events", total=n_events)
        with EventWriter(tmp, attrs=_file_attributes(config)) as writer:
            buffer: list[Event] = []
            tasks = [(r, pool_path) for r in _chunks(n_events, EVENTS_PER_TASK)]
            for events in run(_event_task, tasks):
                buffer.extend(events)
                bar.advance(task, len(events))
                if len(buffer) >= WRITE_BATCH_EVENTS:
                    writer.write(buffer)
                    buffer.clear()
            writer.write(buffer)
    return output


def _file_attributes(config: RunConfig) -> dict[str, Any]:
    """The event file's attributes: what was generated, and how (docs/data-format.md)."""
    return {
        "process": config.process,
        "n_events_requested": config.n_events,
        "pileup_mean": config.pileup,
        "seed": config.seed,
        "sqrt_s_gev": generator.SQRT_S_GEV,
        "generator": "Pythia 8 (pythia8mc)",
        "hard_process_settings": json.dumps(generator.PROCESSES[config.process]),
        "min_bias_settings": json.dumps(generator.MIN_BIAS),
        "pileup_pool_size": config.pool_size,
        "detector": "qdistill Delphes-CMS-Phase-II-like (qdistill.data.detector)",
        "puppi_parameters": json.dumps(dataclasses.asdict(config.puppi)),
        "truth_available": True,
        "gen_available": True,
    }


def _write_pileup_pool(config: RunConfig, run: Any, bar: Any, scratch: Path) -> str:
    """Generate the minimum-bias collisions of the pileup pool; the path of the saved pool."""
    task = bar.add_task("pileup pool", total=config.pool_size)
    collisions: list[generator.GenParticles] = []
    for done in run(_pool_task, _chunks(config.pool_size, POOL_EVENTS_PER_TASK)):
        collisions.extend(done)
        bar.advance(task, len(done))
    pool_path = scratch / "pool.npz"
    PileupPool.from_collisions(collisions).save(pool_path)
    return str(pool_path)
