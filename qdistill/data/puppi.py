"""PUPPI, pileup per particle identification (Bertolini, Harris, Low, Tran, JHEP 10 (2014) 059).

For each particle i, α_i = log Σ_j (pT_j / ΔR_ij)² over neighbours j with R_min < ΔR_ij < R0:
charged particles associated with the primary vertex in the tracker regions, all particles beyond.
The median and RMS of α over charged pileup particles of the event set the scale (per region; for
the region beyond the tracker, α over all particles of the charged pileup of the outermost
tracker region):
χ²_i = Θ(α_i − median)(α_i − median)² / RMS², and the weight is the χ² CDF with one degree of
freedom. Charged particles get 1 (primary vertex) or 0 (pileup); neutral weights below
``min_weight`` become 0, as do neutrals whose weighted pT is below a cut rising with the number of
vertices. Region parameters follow Delphes' RunPUPPI in the CMS Phase-II card (DESIGN.md); the
cone follows the paper. Vectorised with a periodic-φ KD-tree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree
from scipy.stats import chi2

F64 = npt.NDArray[np.float64]
_TWO_PI: Final[float] = 2 * np.pi
_ETA_SHIFT: Final[float] = 20.0  # η + shift > 0 for the KD-tree box
_ETA_BOX: Final[float] = 1000.0  # far wider than any η range: η never wraps


@dataclass(frozen=True)
class PuppiParameters:
    """PUPPI settings; per-region tuples follow ``region_eta_edges`` (|η| lower edges).

    Defaults: cone R0 = 0.3 (paper), R_min = 0.01; regions [0, 1.5), [1.5, 4.0), [4.0, ∞) with
    the Phase-II card's RMS pT minimum, neutral pT minimum and slope with the number of vertices;
    weights below 0.05 set to 0. A track is associated with the primary vertex when
    |dz| < max(``pv_dz_significance`` · σ(dz), ``pv_dz_min_mm``); the floor stands for the
    primary-vertex z resolution and keeps B- and D-decay tracks (z offsets of ~0.1 mm) with
    their vertex, like Delphes' ZVertexResolution of 0.1 mm.
    """

    cone_r0: float = 0.3
    cone_r_min: float = 0.01
    region_eta_edges: tuple[float, ...] = (0.0, 1.5, 4.0)
    use_charged: tuple[bool, ...] = (True, True, False)
    rms_pt_min_gev: tuple[float, ...] = (0.1, 0.5, 0.5)
    neutral_pt_min_gev: tuple[float, ...] = (0.2, 0.2, 0.5)
    neutral_pt_slope_gev: tuple[float, ...] = (0.006, 0.013, 0.067)
    min_weight: float = 0.05
    pv_dz_significance: float = 3.0
    pv_dz_min_mm: float = 0.1

    def __post_init__(self) -> None:
        n = len(self.region_eta_edges)
        for name in ("use_charged", "rms_pt_min_gev", "neutral_pt_min_gev", "neutral_pt_slope_gev"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"PuppiParameters.{name} needs one value per region ({n})")
        if not 0 < self.cone_r_min < self.cone_r0:
            raise ValueError("PuppiParameters needs 0 < cone_r_min < cone_r0")


def associate_to_pv(
    dz_mm: F64, dz_sigma_mm: F64, params: PuppiParameters = PuppiParameters()
) -> npt.NDArray[np.bool_]:
    """True for tracks compatible with the primary vertex: |dz| < max(n·σ(dz), floor), (n,)."""
    window = np.maximum(params.pv_dz_significance * np.asarray(dz_sigma_mm), params.pv_dz_min_mm)
    return np.abs(dz_mm) < window


def _points(eta: F64, phi: F64) -> F64:
    p = np.mod(phi, _TWO_PI)
    p = np.where(p >= _TWO_PI, 0.0, p)
    return np.column_stack([eta + _ETA_SHIFT, p])


def alpha(
    eta: F64,
    phi: F64,
    neighbour: npt.NDArray[np.bool_],
    pt: F64,
    params: PuppiParameters,
    query: npt.NDArray[np.bool_] | None = None,
) -> F64:
    """α_i = log Σ_j (pT_j/ΔR_ij)² over ``neighbour`` particles j in the cone; -inf when empty.

    Computed for the particles in ``query`` (all by default); the others get -inf.
    """
    n = len(eta)
    out = np.full(n, -np.inf)
    nb = np.flatnonzero(neighbour)
    qi = np.arange(n) if query is None else np.flatnonzero(query)
    if len(qi) == 0 or len(nb) == 0:
        return out
    box = (_ETA_BOX, _TWO_PI)
    pts = _points(eta, phi)
    tree_q = cKDTree(pts[qi], boxsize=box)
    tree_nb = cKDTree(pts[nb], boxsize=box)
    pairs = tree_q.sparse_distance_matrix(tree_nb, params.cone_r0, output_type="ndarray")
    i, j, dr = pairs["i"], pairs["j"], pairs["v"]
    ok = dr > params.cone_r_min
    s = np.bincount(i[ok], weights=(pt[nb][j[ok]] / dr[ok]) ** 2, minlength=len(qi))
    out[qi] = np.log(s, out=np.full(len(qi), -np.inf), where=s > 0)
    return out


def puppi_weights(
    eta: F64,
    phi: F64,
    pt: F64,
    charged: npt.NDArray[np.bool_],
    charged_from_pv: npt.NDArray[np.bool_],
    n_vertices: int,
    params: PuppiParameters = PuppiParameters(),
) -> F64:
    """PUPPI weight in [0, 1] of each particle of one event, shapes (n,).

    ``charged_from_pv`` (only read where ``charged``) is the vertex association of each track;
    ``n_vertices`` is the number of collisions (primary + pileup) for the neutral pT cut.
    """
    eta, phi, pt = (np.asarray(a, dtype=np.float64) for a in (eta, phi, pt))
    charged = np.asarray(charged, dtype=bool)
    pv = charged & np.asarray(charged_from_pv, dtype=bool)
    pu = charged & ~pv
    abs_eta = np.abs(eta)
    region = np.searchsorted(params.region_eta_edges, abs_eta, side="right") - 1
    tracker_regions = [r for r, c in enumerate(params.use_charged) if c]
    # Beyond the tracker the reference is charged pileup of the outermost tracker region,
    # with α over all particles.
    outer = region == max(tracker_regions, default=-1)
    forward = ~np.isin(region, tracker_regions)
    alpha_charged = alpha(eta, phi, pv, pt, params)
    alpha_all = alpha(eta, phi, np.ones(len(eta), dtype=bool), pt, params, forward | (pu & outer))
    weights = np.zeros(len(eta))
    for r, use_charged in enumerate(params.use_charged):
        in_region = region == r
        a = alpha_charged if use_charged else alpha_all
        ref_region = in_region if use_charged else outer
        ref = a[pu & ref_region & (pt > params.rms_pt_min_gev[r]) & np.isfinite(a)]
        if len(ref) == 0:
            w = np.where(np.isfinite(a), 1.0, 0.0)
        else:
            median = np.median(ref)
            rms = max(float(np.sqrt(np.mean((ref - median) ** 2))), 1e-6)
            with np.errstate(invalid="ignore"):
                x2 = np.where(a > median, (a - median) ** 2 / rms**2, 0.0)
            w = chi2.cdf(x2, 1)
        w = np.where(w < params.min_weight, 0.0, w)
        cut = params.neutral_pt_min_gev[r] + params.neutral_pt_slope_gev[r] * n_vertices
        w = np.where(w * pt < cut, 0.0, w)
        weights = np.where(in_region, w, weights)
    return np.where(charged, pv.astype(np.float64), weights)
