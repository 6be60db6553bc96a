"""Missing transverse momentum: reconstructed from weighted candidates, and at generator level.

Reconstructed: p⃗T,miss = −Σᵢ wᵢ p⃗T,ᵢ over the candidates of one event, each candidate's
momentum scaled by its per-particle weight (PUPPI, teacher, student or truth fraction).

Generator level, as the reference DistillNet code (calc_met.py ``Metcalc_gen``): |Σ p⃗T| of the
visible (non-neutrino) final-state particles of the hard collision (no pileup, no detector).
With every final-state particle stored this equals the neutrinos' |Σ p⃗T|
(:func:`neutrino_met`); on a record cut in η (the public files' ``data_gen``) it is what the
detector could see.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from qdistill.data.detector import NEUTRINOS
from qdistill.errors import QdistillError


def check_weights(weights: npt.ArrayLike, n_particles: int, name: str) -> npt.NDArray[np.float64]:
    """Return ``weights`` as float64 of shape (n_particles,), or raise one clear QdistillError.

    ``name`` (e.g. ``"distillnet"``) is the weighting named in the message.
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n_particles,):
        raise QdistillError(
            f"weighting {name!r} has shape {w.shape} but the event has {n_particles} candidates; "
            "give one weight per candidate, in the order of the event file"
        )
    if not np.isfinite(w).all():
        raise QdistillError(f"weighting {name!r} contains NaN or infinite weights")
    return w


def met_vector(
    p4: npt.ArrayLike, weights: npt.ArrayLike, name: str = "weights"
) -> npt.NDArray[np.float64]:
    """Missing transverse momentum vector (px, py) in GeV of weighted candidates.

    ``p4``: (n, 4) with px, py, pz, E in GeV; ``weights``: (n,). Returns shape (2,).
    """
    p = np.asarray(p4, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 4:
        raise QdistillError(f"candidate four-momenta must have shape (n, 4), got {p.shape}")
    w = check_weights(weights, len(p), name)
    return -(w[:, None] * p[:, :2]).sum(axis=0)


def met(p4: npt.ArrayLike, weights: npt.ArrayLike, name: str = "weights") -> float:
    """|p⃗T,miss| in GeV of weighted candidates (see :func:`met_vector`)."""
    return float(np.hypot(*met_vector(p4, weights, name)))


def invisible_mask(gen_pdg_id: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """True for the generator particles that are invisible (|PDG id| 12, 14, 16), shape (m,)."""
    return np.isin(np.abs(np.asarray(gen_pdg_id)), NEUTRINOS)


#: Events whose generator missing pT is below this have no missing-pT response: 1 MeV, far above
#: the rounding of a sum of visible momenta that balance (an event without neutrinos).
GEN_MET_MIN_GEV: Final[float] = 1e-3


def _gen_checked(
    gen_p4: npt.ArrayLike, gen_pdg_id: npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    p = np.asarray(gen_p4, dtype=np.float64)
    nu = invisible_mask(gen_pdg_id)
    if nu.shape != (len(p),):
        raise QdistillError(
            f"{len(p)} generator four-momenta but {nu.shape[0]} PDG ids; the event is malformed"
        )
    return p, nu


def gen_met(gen_p4: npt.ArrayLike, gen_pdg_id: npt.ArrayLike) -> float:
    """Generator-level missing pT in GeV: |Σ p⃗T| of the visible final-state particles.

    ``gen_p4``: (m, 4) px, py, pz, E in GeV of the final-state particles of the hard collision;
    ``gen_pdg_id``: (m,). An event without generator particles has 0.
    """
    p, nu = _gen_checked(gen_p4, gen_pdg_id)
    return float(np.hypot(*p[~nu, :2].sum(axis=0)))


def neutrino_met(gen_p4: npt.ArrayLike, gen_pdg_id: npt.ArrayLike) -> float:
    """|Σ p⃗T| of the hard collision's neutrinos in GeV (0 without neutrinos)."""
    p, nu = _gen_checked(gen_p4, gen_pdg_id)
    return float(np.hypot(*p[nu, :2].sum(axis=0)))
