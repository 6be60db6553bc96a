"""Pythia 8 (``pythia8mc``) set-up for the hard processes and minimum bias, and particle extraction.

Every Pythia instance is initialised once with a fixed seed and then re-seeded before each event
(``pythia.rndm.init``), so an event depends only on its own seed, not on which process made it
or on what that process made before: this is what makes the output independent of ``--workers``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from qdistill.errors import QdistillError

SQRT_S_GEV: Final[float] = 14000.0

#: Pythia settings of each hard process: W(→ℓν)+jet and dileptonic tt̄ (ℓ = e, μ, τ).
PROCESSES: Final[dict[str, tuple[str, ...]]] = {
    "wjets": (
        "WeakBosonAndParton:qqbar2Wg = on",
        "WeakBosonAndParton:qg2Wq = on",
        "PhaseSpace:pTHatMin = 20.",
        "24:onMode = off",
        "24:onIfAny = 11 13 15",
    ),
    "ttbar": (
        "Top:gg2ttbar = on",
        "Top:qqbar2ttbar = on",
        "24:onMode = off",
        "24:onIfAny = 11 13 15",
    ),
}

#: Minimum-bias (pileup) collisions. Non-diffractive rather than inelastic: the diffractive MPI
#: initialisation takes ~5 s a process, and diffractive collisions add few central particles.
MIN_BIAS: Final[tuple[str, ...]] = ("SoftQCD:nonDiffractive = on",)

#: Settings shared by every instance: 14 TeV, silent, and the usual CMS choice of decaying only
#: particles with cτ < 10 mm (so K0S, Λ, π±, K± reach the detector).
COMMON: Final[tuple[str, ...]] = (
    f"Beams:eCM = {SQRT_S_GEV}",
    "Print:quiet = on",
    "Print:errors = off",
    "Next:numberCount = 0",
    "ParticleDecays:limitTau0 = on",
    "ParticleDecays:tau0Max = 10.",
    "Random:setSeed = on",
)

#: Pythia accepts seeds 1 … 900,000,000.
PYTHIA_SEED_MAX: Final[int] = 900_000_000
_MAX_TRIES: Final[int] = 20


def check_process(process: str) -> None:
    """Raise QdistillError unless ``process`` names a known hard process."""
    if process not in PROCESSES:
        raise QdistillError(
            f"unknown process {process!r}; choose one of {', '.join(sorted(PROCESSES))}"
        )


@dataclass(frozen=True)
class GenParticles:
    """Final-state particles of one collision, in its own frame (vertex at the origin).

    Shapes (n,): ``pdg_id``, ``charge`` (e); ``p4`` (n, 4) px, py, pz, E in GeV;
    ``d0_mm`` transverse and ``z0_mm`` longitudinal impact parameter of the straight line from the
    production point (non-zero for decay products of B, D hadrons and τ), mm.
    """

    pdg_id: npt.NDArray[np.int32]
    charge: npt.NDArray[np.float64]
    p4: npt.NDArray[np.float64]
    d0_mm: npt.NDArray[np.float64]
    z0_mm: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.pdg_id)


def make_pythia(settings: tuple[str, ...], seed: int) -> object:
    """An initialised, silent ``pythia8mc.Pythia`` with ``settings`` and the init seed ``seed``."""
    import pythia8mc

    pythia = pythia8mc.Pythia("", False)
    for line in (*COMMON, f"Random:seed = {seed}", *settings):
        if not pythia.readString(line):
            raise QdistillError(f"Pythia rejected the setting {line!r}")
    if not pythia.init():
        raise QdistillError(f"Pythia failed to initialise with {settings}")
    return pythia


def next_event(pythia: object, seed: int) -> GenParticles:
    """Re-seed ``pythia`` with ``seed`` (1 … 9e8), generate one event, return its final state."""
    pythia.rndm.init(seed)  # type: ignore[attr-defined]
    for _ in range(_MAX_TRIES):
        if pythia.next():  # type: ignore[attr-defined]
            return final_state(pythia)
    raise QdistillError(f"Pythia failed {_MAX_TRIES} times in a row to generate an event")


def final_state(pythia: object) -> GenParticles:
    """Final-state particles of the current ``pythia.event``, neutrinos included."""
    rows = [
        (q.id(), q.charge(), q.px(), q.py(), q.pz(), q.e(), q.xProd(), q.yProd(), q.zProd())
        for q in pythia.event  # type: ignore[attr-defined]
        if q.isFinal()
    ]
    arr = np.array(rows, dtype=np.float64).reshape(-1, 9)
    px, py, pz = arr[:, 2], arr[:, 3], arr[:, 4]
    x, y, z = arr[:, 6], arr[:, 7], arr[:, 8]
    pt2 = np.maximum(px * px + py * py, 1e-12)
    # Closest approach to the beam line of the straight line through the production point.
    d0 = (x * py - y * px) / np.sqrt(pt2)
    z0 = z - (x * px + y * py) / pt2 * pz
    return GenParticles(
        pdg_id=arr[:, 0].astype(np.int32),
        charge=arr[:, 1].copy(),
        p4=arr[:, 2:6].copy(),
        d0_mm=d0,
        z0_mm=z0,
    )
