"""Small synthetic events with known answers, for the physics tests and quick checks.

Each event is a hard collision (three collimated sprays of hadrons, a muon, and two neutrinos that
balance the visible transverse momentum exactly) plus soft, uniformly spread pileup. The
candidates are the visible hard-collision particles themselves (truth fraction 1, no detector
smearing) and the pileup particles (truth fraction 0), so that truth weights reproduce the
generator jets and the generator missing pT exactly. A PUPPI-like weight keeps 30 % of the neutral
pileup at full weight; the synthetic soft label keeps 10 %. Not physics: use
``qdistill data generate`` for real samples.
"""

from __future__ import annotations

import os

import numpy as np
import numpy.typing as npt

from qdistill.atomic import atomic_path
from qdistill.data.layout import Event, EventWriter
from qdistill.features import (
    CHARGE,
    DZ,
    ETA,
    LOG_E,
    LOG_PT,
    N_FEATURES,
    PHI,
    PID_SLICE,
    PUPPI_WEIGHT,
    pid_one_hot,
)
from qdistill.kinematics import pt_eta_phi
from qdistill.physics.met import invisible_mask

#: Generator PDG id → (PID code of the one-hot, charge) for the species used here.
_SPECIES: dict[int, tuple[int, int]] = {211: (211, 1), -211: (-211, -1), 22: (2, 0), 130: (1, 0)}
_MUON_PLUS = -13


def four_momenta(
    pt: npt.ArrayLike, eta: npt.ArrayLike, phi: npt.ArrayLike, mass: float = 0.0
) -> npt.NDArray[np.float64]:
    """(n, 4) px, py, pz, E in GeV from pT (GeV), η, φ and one mass (GeV)."""
    pt, eta, phi = (np.asarray(a, dtype=np.float64) for a in (pt, eta, phi))
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    e = np.sqrt(px**2 + py**2 + pz**2 + mass**2)
    return np.stack([px, py, pz, e], axis=1)


def hard_collision(
    rng: np.random.Generator,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int32]]:
    """Final-state particles of a synthetic hard collision: p4 (m, 4) GeV and PDG ids (m,)."""
    parts, pdg = [], []
    for axis_eta, axis_phi, jet_pt in ((0.5, 0.3, 90.0), (-1.2, 2.6, 60.0), (2.0, -1.5, 35.0)):
        n = 12
        share = rng.dirichlet(np.ones(n)) * jet_pt
        eta = axis_eta + rng.normal(0, 0.08, n)
        phi = axis_phi + rng.normal(0, 0.08, n)
        parts.append(four_momenta(share, eta, phi, mass=0.1396))
        pdg += [int(c) for c in rng.choice([211, -211, 22, 130], n)]
    parts.append(four_momenta([45.0], [0.1], [-2.8]))
    pdg.append(_MUON_PLUS)
    missing = -np.concatenate(parts)[:, :2].sum(axis=0)
    kick = rng.normal(0, 10.0, 2)
    nu = np.zeros((2, 4))
    nu[:, :2] = [0.6 * missing + kick, 0.4 * missing - kick]
    nu[:, 2] = rng.normal(0, 40.0, 2)
    nu[:, 3] = np.linalg.norm(nu[:, :3], axis=1)
    parts.append(nu)
    pdg += [14, -12]
    return np.concatenate(parts), np.array(pdg, dtype=np.int32)


def _features(
    p4: npt.NDArray[np.float64], pid: npt.NDArray[np.int64], charge: npt.NDArray[np.int64]
) -> npt.NDArray[np.float32]:
    pt, eta, phi = pt_eta_phi(p4)
    f = np.zeros((len(p4), N_FEATURES), dtype=np.float32)
    f[:, ETA] = eta
    f[:, PHI] = phi
    f[:, LOG_PT] = np.log(pt)
    f[:, LOG_E] = np.log(p4[:, 3])
    f[:, CHARGE] = charge
    f[:, PID_SLICE] = pid_one_hot(pid)
    return f


def synthetic_event(rng: np.random.Generator, n_pileup_particles: int = 300) -> Event:
    """One synthetic event with soft labels (see the module docstring)."""
    gen_p4, gen_pdg = hard_collision(rng)
    visible = ~invisible_mask(gen_pdg)
    pv_pdg = gen_pdg[visible]
    pv_pid = np.array([_SPECIES.get(int(c), (c, -1))[0] for c in pv_pdg])
    pv_charge = np.array([_SPECIES.get(int(c), (c, 1))[1] for c in pv_pdg])
    n = n_pileup_particles
    pu_pdg = rng.choice([211, -211, 22, 130], n)
    pu_pid = np.array([_SPECIES[int(c)][0] for c in pu_pdg])
    pu_charge = np.array([_SPECIES[int(c)][1] for c in pu_pdg])
    pu_p4 = four_momenta(
        rng.exponential(1.5, n) + 0.5, rng.uniform(-3, 3, n), rng.uniform(-3, 3, n)
    )
    p4 = np.concatenate([gen_p4[visible], pu_p4])
    pid = np.concatenate([pv_pid, pu_pid])
    charge = np.concatenate([pv_charge, pu_charge])
    n_pv = int(visible.sum())
    features = _features(p4, pid, charge)
    charged_pu = pu_charge != 0
    features[n_pv:, DZ] = np.where(charged_pu, rng.normal(0.0, 50.0, n), 0.0)
    features[:n_pv, DZ] = np.where(pv_charge != 0, rng.normal(0.0, 0.1, n_pv), 0.0)
    kept_pu = ~charged_pu & (rng.random(n) < 0.3)
    features[:, PUPPI_WEIGHT] = np.r_[np.ones(n_pv), kept_pu.astype(float)]
    label_pu = ~charged_pu & (rng.random(n) < 0.1)
    soft = np.r_[np.full(n_pv, 0.95), np.where(label_pu, 0.9, 0.02)]
    return Event(
        features=features,
        p4=p4.astype(np.float32),
        truth_fraction=np.r_[np.ones(n_pv), np.zeros(n)].astype(np.float32),
        gen_p4=gen_p4.astype(np.float32),
        gen_pdg_id=gen_pdg,
        n_pileup=140,
        soft_label=soft.astype(np.float32),
    )


def write_synthetic_file(
    path: str | os.PathLike[str], n_events: int, seed: int, soft_labels: bool = True
) -> None:
    """Write ``n_events`` synthetic events to the event file ``path`` (atomically)."""
    rng = np.random.default_rng(seed)
    events = [synthetic_event(rng) for _ in range(n_events)]
    if not soft_labels:
        for e in events:
            e.soft_label = None
    with atomic_path(path) as tmp, EventWriter(tmp, attrs={"process": "synthetic"}) as writer:
        writer.write(events)
