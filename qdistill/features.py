"""The one definition of the 16 per-particle input features (paper, table 1) and the PID classes.

Order is the paper's: η, φ, log pT, log E, charge, w_PUPPI, the PID one-hot (8 classes), d0, dz.
Every stage (data, teacher, students, firmware) indexes features through the names here.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

#: PID classes of the one-hot, in order, as (name, code). The codes follow the Delphes-based
#: PUPPI/ABCNet datasets the paper used: signed PDG ids for charged particles, 1 for neutral
#: hadrons and 2 for photons.
PID_CLASSES: Final[tuple[tuple[str, int], ...]] = (
    ("hadron_minus", -211),
    ("muon_plus", -13),
    ("electron_plus", -11),
    ("neutral_hadron", 1),
    ("photon", 2),
    ("electron_minus", 11),
    ("muon_minus", 13),
    ("hadron_plus", 211),
)
PID_CODES: Final[tuple[int, ...]] = tuple(code for _, code in PID_CLASSES)
N_PID_CLASSES: Final[int] = len(PID_CLASSES)

#: The 16 feature names in the paper's order, with units where they have one.
FEATURE_NAMES: Final[tuple[str, ...]] = (
    "eta",
    "phi",  # rad, in [-π, π)
    "log_pt",  # log(pT / GeV)
    "log_e",  # log(E / GeV)
    "charge",  # units of e
    "puppi_weight",
    *(f"pid_{name}" for name, _ in PID_CLASSES),
    "d0",  # mm, transverse impact parameter
    "dz",  # mm, longitudinal impact parameter from the primary vertex
)
N_FEATURES: Final[int] = len(FEATURE_NAMES)

#: Column index of each feature.
INDEX: Final[dict[str, int]] = {name: i for i, name in enumerate(FEATURE_NAMES)}
ETA: Final[int] = INDEX["eta"]
PHI: Final[int] = INDEX["phi"]
LOG_PT: Final[int] = INDEX["log_pt"]
LOG_E: Final[int] = INDEX["log_e"]
CHARGE: Final[int] = INDEX["charge"]
PUPPI_WEIGHT: Final[int] = INDEX["puppi_weight"]
PID_SLICE: Final[slice] = slice(INDEX[f"pid_{PID_CLASSES[0][0]}"], INDEX["d0"])
D0: Final[int] = INDEX["d0"]
DZ: Final[int] = INDEX["dz"]

assert N_FEATURES == 16 and PID_SLICE.stop - PID_SLICE.start == N_PID_CLASSES


def pid_one_hot(pid_codes: npt.ArrayLike) -> npt.NDArray[np.float32]:
    """One-hot encode PID codes (values of :data:`PID_CODES`), shape (n,) → (n, 8).

    Raises ValueError naming the first unknown code.
    """
    codes = np.asarray(pid_codes, dtype=np.int64)
    table = np.asarray(PID_CODES, dtype=np.int64)
    match = codes[:, None] == table[None, :]
    known = match.any(axis=1)
    if not known.all():
        bad = int(codes[~known][0])
        raise ValueError(f"unknown PID code {bad}; known codes are {list(PID_CODES)}")
    return match.astype(np.float32)


def pt_gev(features: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Transverse momentum in GeV of candidates ``features`` (n, 16): exp of the log-pT column."""
    return np.exp(np.asarray(features)[:, LOG_PT].astype(np.float64))


def pid_codes_from_one_hot(one_hot: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Inverse of :func:`pid_one_hot`: (n, 8) one-hot → (n,) PID codes."""
    arr = np.asarray(one_hot)
    return np.asarray(PID_CODES, dtype=np.int64)[np.argmax(arr, axis=1)]
