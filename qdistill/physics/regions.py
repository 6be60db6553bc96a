"""|η| regions of the per-region figures of ``qdistill evaluate`` (``by_eta_region``).

The edges separate the barrel tracker (|η| < 1.5), the rest of the Phase-I tracker acceptance
(< 2.5), the endcap calorimeter without Phase-I tracking (< 3), the Phase-II tracker extension
with the forward calorimeter's start (< 4) and the forward calorimeter alone (< 5). PUPPI's own
regions (qdistill.data.puppi) are coarser: [0, 1.5), [1.5, 4), [4, ∞).
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

#: Lower and upper |η| edge of each region.
ETA_REGIONS: Final[tuple[tuple[float, float], ...]] = (
    (0.0, 1.5),
    (1.5, 2.5),
    (2.5, 3.0),
    (3.0, 4.0),
    (4.0, 5.0),
)
#: Candidates with |η| below this make the tracker-only missing pT (``met_resolution_tracker``).
TRACKER_MET_ETA_MAX: Final[float] = 2.5


def region_index(eta: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """The region of each η (n,): 0 … len(ETA_REGIONS) − 1, or -1 beyond the last edge."""
    abs_eta = np.abs(np.asarray(eta, dtype=np.float64))
    edges = np.array([lo for lo, _ in ETA_REGIONS] + [ETA_REGIONS[-1][1]])
    index = np.searchsorted(edges, abs_eta, side="right") - 1
    return np.where(index < len(ETA_REGIONS), index, -1).astype(np.int64)


def region_label(k: int) -> str:
    lo, hi = ETA_REGIONS[k]
    return f"{lo:g} < |η| < {hi:g}"
