"""Collider kinematics shared by every stage: φ wrapping, pT/η/φ, ΔR and an (η, φ) k-d tree.

Angles are in radians, momenta in GeV. φ is periodic, so every distance here takes Δφ the short
way round: φ = 3.1 and φ = -3.1 are 0.083 rad apart.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
TWO_PI: Final[float] = 2.0 * np.pi


def wrap_phi(phi: npt.ArrayLike) -> F64:
    """Angles or angle differences (rad) folded into [-π, π), any shape."""
    return np.mod(np.asarray(phi, dtype=np.float64) + np.pi, TWO_PI) - np.pi


def pt_eta_phi(p4: npt.ArrayLike) -> tuple[F64, F64, F64]:
    """pT (GeV), pseudorapidity and φ ∈ [-π, π) of (n, 4) four-momenta (px, py, pz, E).

    η is ±inf for a particle along the beam (pT = 0).
    """
    p = np.asarray(p4, dtype=np.float64)
    px, py, pz = p[:, 0], p[:, 1], p[:, 2]
    pt = np.hypot(px, py)
    with np.errstate(divide="ignore", invalid="ignore"):
        eta = np.where(pt > 0, np.arcsinh(pz / np.where(pt > 0, pt, 1.0)), np.sign(pz) * np.inf)
    return pt, eta, wrap_phi(np.arctan2(py, px))


def delta_r(
    eta1: npt.ArrayLike, phi1: npt.ArrayLike, eta2: npt.ArrayLike, phi2: npt.ArrayLike
) -> F64:
    """ΔR = √(Δη² + Δφ²) between every pair, shape (len(eta1), len(eta2))."""
    deta = np.subtract.outer(np.asarray(eta1, float), np.asarray(eta2, float))
    dphi = wrap_phi(np.subtract.outer(np.asarray(phi1, float), np.asarray(phi2, float)))
    return np.hypot(deta, dphi)


def eta_phi_tree(eta: npt.ArrayLike, phi: npt.ArrayLike, *, eta_min: float, eta_box: float) -> Any:
    """A k-d tree over (η - ``eta_min``, φ) with a toroidal φ axis, for ΔR neighbour searches.

    SciPy's periodic tree wraps every axis, so η gets a box of width ``eta_box``: it must exceed
    twice the η range of every tree queried together, so that no wrapped η distance is ever
    shorter than a real one. Trees built with the same ``eta_min`` and ``eta_box`` can be
    compared (``sparse_distance_matrix``). ``eta``, ``phi`` (rad): shape (n,).
    """
    from scipy.spatial import cKDTree  # imported here: SciPy's spatial module loads slowly

    eta0 = np.asarray(eta, dtype=np.float64) - eta_min
    phi0 = np.mod(np.asarray(phi, dtype=np.float64) + np.pi, TWO_PI)
    phi0[phi0 >= TWO_PI] = 0.0  # mod can round up to exactly 2π
    return cKDTree(np.column_stack([eta0, phi0]), boxsize=[eta_box, TWO_PI])
