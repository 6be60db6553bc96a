"""Small synthetic labelled event files for tests and the training benchmark.

The features follow the 16-feature layout with plausible ranges; the truth fraction and the
"teacher" soft label are smooth, learnable functions of the features (pileup: large |dz|, low
PUPPI weight, low pT), so a student can learn them in an epoch. Not physics: use
``qdistill data generate`` and ``qdistill teacher label`` for real samples.
"""

from __future__ import annotations

import os

import numpy as np

from qdistill.atomic import atomic_path
from qdistill.data.layout import Event, EventWriter, write_soft_labels
from qdistill.features import (
    CHARGE,
    D0,
    DZ,
    ETA,
    LOG_E,
    LOG_PT,
    N_FEATURES,
    PHI,
    PID_CODES,
    PID_SLICE,
    PUPPI_WEIGHT,
    pid_one_hot,
)


def synthetic_event(n: int, rng: np.random.Generator) -> tuple[Event, np.ndarray]:
    """One event of ``n`` candidates and its synthetic soft labels, shape (n,)."""
    x = np.zeros((n, N_FEATURES), np.float32)
    from_pv = rng.uniform(size=n) < 0.15
    eta = rng.uniform(-4, 4, n)
    log_pt = rng.normal(0.0, 0.8, n) + 0.8 * from_pv
    codes = rng.choice(np.asarray(PID_CODES), size=n)
    charge = np.select([np.isin(codes, (-211, -11, 13)), np.isin(codes, (211, 11, -13))], [-1, 1])
    charged = charge != 0
    dz = np.where(charged, np.where(from_pv, rng.normal(0, 0.1, n), rng.normal(0, 50, n)), 0.0)
    puppi = np.clip(0.75 * from_pv + 0.25 * rng.uniform(size=n), 0, 1)
    puppi[puppi < 0.05] = 0.0
    x[:, ETA] = eta
    x[:, PHI] = rng.uniform(-np.pi, np.pi, n)
    x[:, LOG_PT] = log_pt
    x[:, LOG_E] = log_pt + np.log(np.cosh(eta))
    x[:, CHARGE] = charge
    x[:, PUPPI_WEIGHT] = puppi
    x[:, PID_SLICE] = pid_one_hot(codes)
    x[:, D0] = np.where(charged, rng.normal(0, 0.05, n), 0.0)
    x[:, DZ] = dz
    truth = np.where(from_pv, rng.uniform(0.9, 1.0, n), rng.uniform(0.0, 0.05, n))
    logit = 6.0 * (puppi - 0.4) + 0.8 * log_pt - 0.05 * np.abs(dz)
    soft = 1.0 / (1.0 + np.exp(-logit))
    pt = np.exp(log_pt)
    p4 = np.stack(
        [pt * np.cos(x[:, PHI]), pt * np.sin(x[:, PHI]), pt * np.sinh(eta), pt * np.cosh(eta)], 1
    )
    event = Event(
        features=x,
        p4=p4.astype(np.float32),
        truth_fraction=truth.astype(np.float32),
        gen_p4=p4[from_pv].astype(np.float32),
        gen_pdg_id=codes[from_pv].astype(np.int32),
        n_pileup=140,
    )
    return event, soft.astype(np.float32)


def write_synthetic_file(
    path: str | os.PathLike[str],
    n_events: int,
    particles_per_event: int,
    seed: int,
    soft_labels: bool = True,
) -> None:
    """Write an event file of ``n_events`` synthetic events, with soft labels unless told not."""
    rng = np.random.default_rng(seed)
    labels = []
    with atomic_path(path) as tmp, EventWriter(tmp, attrs={"process": "synthetic"}) as writer:
        for _ in range(n_events):
            event, soft = synthetic_event(particles_per_event, rng)
            writer.write([event])
            labels.append(soft)
    if soft_labels:
        write_soft_labels(path, np.concatenate(labels))
