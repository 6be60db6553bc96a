"""PUPPI, pileup per particle identification (Bertolini, Harris, Low, Tran, JHEP 10 (2014) 059).

For each particle i, α_i = log Σ_j (pT_j / ΔR_ij)² over neighbours j with R_min < ΔR_ij < R0:
charged particles associated with the primary vertex in the tracker regions, all particles beyond.
Charged leptons are left out of the neighbours and of the reference, as Delphes feeds PUPPI the
tracks without leptons (LeptonFilterNoLep in the Phase-II card). The median and RMS of α set the
scale per region: over charged pileup particles in the tracker regions, over all particles of the
region beyond the tracker (Delphes' PuppiAlgo with UseCharged false). Particles with an empty cone
(α = -inf here; Delphes stores 0) get weight 0; as in Delphes, the median is the sorted value
halfway above the last empty cone, so empty cones and negative α stay out of it, and the RMS
leaves out the empty cones only. As with the card's ApplyLowPUCorr, the RMS is taken on the left
of the median only and median and RMS are then lowered by sqrt(q · RMS), q the χ² (1 dof)
quantile of the share of primary-vertex charged particles below the median
(PuppiAlgo::computeMedRMS).
χ²_i = Θ(α_i − median)(α_i − median)² / RMS², and the weight is the χ² CDF with one degree of
freedom. Charged particles get 1 (primary vertex) or 0 (pileup); neutral weights below
``min_weight`` become 0, as do neutrals whose weighted pT is below a cut rising with the number of
reconstructed vertices, NPV (Delphes' RunPUPPI takes 0.7 × the number of collisions, a 70 %
vertex reconstruction efficiency; CMSSW counts good reconstructed vertices). Region parameters
and the cone R0 = 0.2 follow Delphes' RunPUPPI in the CMS Phase-II card (DESIGN.md); the paper
used R0 = 0.3. Vectorised with a periodic-φ KD-tree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from qdistill.kinematics import eta_phi_tree

F64 = npt.NDArray[np.float64]
_ETA_MIN: Final[float] = -20.0  # below any η, the origin of the KD-tree's η axis
_ETA_BOX: Final[float] = 1000.0  # far wider than any η range: η never wraps
#: Vertex-association rules of :class:`PuppiParameters`.
VERTEX_ASSOCIATIONS: Final[tuple[str, ...]] = ("delphes", "cms")


@dataclass(frozen=True)
class PuppiParameters:
    """PUPPI settings; per-region tuples follow ``region_eta_edges`` (|η| lower edges).

    Defaults: cone R0 = 0.2 (Phase-II card; the paper used 0.3), R_min = 0.01; regions
    [0, 1.5), [1.5, 4.0), [4.0, ∞) with the Phase-II card's RMS pT minimum, neutral pT minimum and
    slope with the number of reconstructed vertices, NPV = ``vertex_reco_fraction`` × collisions
    (Delphes: 0.7); the left-sided RMS and median correction of ApplyLowPUCorr
    (``low_pu_correction``); charged leptons left out of α (``exclude_leptons``); weights below
    0.05 set to 0.

    Vertex association (``vertex_association``): ``"delphes"`` (default), as Delphes'
    TrackPileUpSubtractor with the Phase-II 140PU card: a track is pileup only if it truly comes
    from a pileup collision and its true z lies more than ``pv_z_resolution_mm`` (ZVertexResolution,
    0.1 mm) from the primary vertex; every track of the primary collision is primary. ``"cms"``:
    from the measured dz, |dz| < max(``pv_dz_significance`` · σ(dz), ``pv_dz_min_mm``), or the
    primary vertex is the closest reconstructed vertex in z and |dz| < ``pv_dz_max_mm`` (PUPPI's
    DeltaZCut of 0.3 cm; it keeps the tracks of B- and D-hadron decays, whose z offsets, median
    0.6 mm in tt̄, the first rule rejects). The "cms" rule labels more pileup tracks primary
    (docs/physics.md has the shares per |η| region).
    """

    cone_r0: float = 0.2
    cone_r_min: float = 0.01
    region_eta_edges: tuple[float, ...] = (0.0, 1.5, 4.0)
    use_charged: tuple[bool, ...] = (True, True, False)
    rms_pt_min_gev: tuple[float, ...] = (0.1, 0.5, 0.5)
    neutral_pt_min_gev: tuple[float, ...] = (0.2, 0.2, 0.5)
    neutral_pt_slope_gev: tuple[float, ...] = (0.006, 0.013, 0.067)
    min_weight: float = 0.05
    vertex_reco_fraction: float = 0.7
    low_pu_correction: bool = True
    exclude_leptons: bool = True
    pv_dz_significance: float = 3.0
    pv_dz_min_mm: float = 0.1
    pv_dz_max_mm: float = 3.0
    vertex_association: str = "delphes"
    pv_z_resolution_mm: float = 0.1

    def __post_init__(self) -> None:
        if self.vertex_association not in VERTEX_ASSOCIATIONS:
            raise ValueError(
                f"PuppiParameters.vertex_association {self.vertex_association!r}: choose one of "
                f"{list(VERTEX_ASSOCIATIONS)}"
            )
        n = len(self.region_eta_edges)
        for name in ("use_charged", "rms_pt_min_gev", "neutral_pt_min_gev", "neutral_pt_slope_gev"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"PuppiParameters.{name} needs one value per region ({n})")
        if not 0 < self.cone_r_min < self.cone_r0:
            raise ValueError("PuppiParameters needs 0 < cone_r_min < cone_r0")


def associate_to_pv_truth(
    true_dz_mm: F64, from_pv: npt.NDArray[np.bool_], params: PuppiParameters = PuppiParameters()
) -> npt.NDArray[np.bool_]:
    """Delphes' association, (n,): primary unless the track truly comes from pileup
    (``from_pv`` False) and its true z (``true_dz_mm``, relative to the primary vertex) lies
    beyond ``params.pv_z_resolution_mm``."""
    far = np.abs(np.asarray(true_dz_mm, dtype=np.float64)) > params.pv_z_resolution_mm
    return np.asarray(from_pv, dtype=bool) | ~far


def associate_to_pv(
    dz_mm: F64,
    dz_sigma_mm: F64,
    params: PuppiParameters = PuppiParameters(),
    pileup_vertex_dz_mm: F64 | None = None,
) -> npt.NDArray[np.bool_]:
    """The "cms" association, True for tracks taken as primary, (n,): see
    :class:`PuppiParameters`.

    ``dz_mm`` and ``dz_sigma_mm`` (n,) per track; ``pileup_vertex_dz_mm`` (m,) the z of the
    reconstructed pileup vertices relative to the primary vertex (None: the compatibility window
    alone decides).
    """
    dz = np.asarray(dz_mm, dtype=np.float64)
    window = np.maximum(params.pv_dz_significance * np.asarray(dz_sigma_mm), params.pv_dz_min_mm)
    compatible = np.abs(dz) < window
    if pileup_vertex_dz_mm is None:
        return compatible
    others = np.sort(np.asarray(pileup_vertex_dz_mm, dtype=np.float64))
    if len(others) == 0:
        nearest_other = np.full(len(dz), np.inf)
    else:
        # Distance to the nearest pileup vertex: its neighbours in the sorted list.
        right = np.clip(np.searchsorted(others, dz), 0, len(others) - 1)
        left = np.clip(right - 1, 0, len(others) - 1)
        nearest_other = np.minimum(np.abs(dz - others[left]), np.abs(dz - others[right]))
    closest = (np.abs(dz) < params.pv_dz_max_mm) & (np.abs(dz) <= nearest_other)
    return compatible | closest


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
    tree_q = eta_phi_tree(eta[qi], phi[qi], eta_min=_ETA_MIN, eta_box=_ETA_BOX)
    tree_nb = eta_phi_tree(eta[nb], phi[nb], eta_min=_ETA_MIN, eta_box=_ETA_BOX)
    pairs = tree_q.sparse_distance_matrix(tree_nb, params.cone_r0, output_type="ndarray")
    i, j, dr = pairs["i"], pairs["j"], pairs["v"]
    ok = dr > params.cone_r_min
    s = np.bincount(i[ok], weights=(pt[nb][j[ok]] / dr[ok]) ** 2, minlength=len(qi))
    out[qi] = np.log(s, out=np.full(len(qi), -np.inf), where=s > 0)
    return out


def _median_rms(ref: F64, pv_ref: F64, low_pu_correction: bool) -> tuple[float, float] | None:
    """Median and RMS of the reference α, as Delphes' PuppiAlgo::computeMedRMS computes them.

    ``ref`` holds the reference α, ``pv_ref`` the α of the primary-vertex charged particles of
    the region (for the low-pileup correction); empty cones are -inf here and 0 in Delphes. The
    median is an element of the sorted values, taken above the last 0: negative α (a cone sum
    below 1 GeV²) and empty cones stay out of it whenever an empty cone exists. The RMS is over
    the non-empty values (left of the median only, with the correction). None when every
    reference cone is empty.
    """
    values = np.sort(np.where(np.isfinite(ref), ref, 0.0))
    n = len(values)
    if n == 0 or not np.any(np.isfinite(ref)):
        return None
    zeros = np.flatnonzero(values == 0.0)
    last_zero = int(zeros[-1]) if len(zeros) else 0
    median = float(values[last_zero + int((n - last_zero) * 0.5)])
    dev = values[values != 0.0] - median
    if low_pu_correction:
        dev = dev[dev <= 0]  # left-sided RMS
    rms = float(np.sqrt(np.mean(dev**2))) if len(dev) else 0.0
    if rms == 0.0:
        rms = 1e-5
    if low_pu_correction:
        n_pv = int(np.sum(np.where(np.isfinite(pv_ref), pv_ref, 0.0) <= median))
        share = n_pv / (n_pv + 0.5 * n)
        if share > 0:
            # As in the reference code: sqrt(quantile · RMS), not sqrt(quantile) · RMS.
            shift = float(np.sqrt(_chi2().ppf(share, 1) * rms))
            median -= shift
            rms -= shift
    return median, max(rms, 1e-6)


def puppi_weights(
    eta: F64,
    phi: F64,
    pt: F64,
    charged: npt.NDArray[np.bool_],
    charged_from_pv: npt.NDArray[np.bool_],
    n_vertices: int,
    params: PuppiParameters = PuppiParameters(),
    leptons: npt.NDArray[np.bool_] | None = None,
) -> F64:
    """PUPPI weight in [0, 1] of each particle of one event, shapes (n,).

    ``charged_from_pv`` (only read where ``charged``) is the vertex association of each track;
    ``n_vertices`` is the number of collisions (primary + pileup); the neutral pT cut uses
    NPV = floor(``params.vertex_reco_fraction`` · ``n_vertices``). ``leptons`` (optional, (n,))
    marks charged electrons and muons, left out of α and of the reference when
    ``params.exclude_leptons``; their weight is still the vertex association.
    """
    eta, phi, pt = (np.asarray(a, dtype=np.float64) for a in (eta, phi, pt))
    charged = np.asarray(charged, dtype=bool)
    pv = charged & np.asarray(charged_from_pv, dtype=bool)
    pu = charged & ~pv
    usable = np.ones(len(eta), dtype=bool)
    if leptons is not None and params.exclude_leptons:
        usable = ~(charged & np.asarray(leptons, dtype=bool))
    abs_eta = np.abs(eta)
    region = np.searchsorted(params.region_eta_edges, abs_eta, side="right") - 1
    tracker = np.isin(region, [r for r, c in enumerate(params.use_charged) if c])
    alpha_charged = alpha(eta, phi, pv & usable, pt, params, tracker)
    alpha_all = alpha(eta, phi, usable, pt, params, ~tracker)
    npv = int(np.floor(params.vertex_reco_fraction * n_vertices + 1e-9))
    weights = np.zeros(len(eta))
    for r, use_charged in enumerate(params.use_charged):
        in_region = region == r
        a = alpha_charged if use_charged else alpha_all
        enough_pt = pt >= params.rms_pt_min_gev[r]
        ref_mask = in_region & enough_pt & usable & (pu if use_charged else True)
        pv_ref = a[in_region & enough_pt & usable & pv] if use_charged else np.zeros(0)
        scale = _median_rms(a[ref_mask], pv_ref, params.low_pu_correction)
        if scale is None:
            w = np.where(np.isfinite(a), 1.0, 0.0)
        else:
            median, rms = scale
            with np.errstate(invalid="ignore"):
                x2 = np.where(a > median, (a - median) ** 2 / rms**2, 0.0)
            w = _chi2().cdf(x2, 1)
        w = np.where(w < params.min_weight, 0.0, w)
        cut = params.neutral_pt_min_gev[r] + params.neutral_pt_slope_gev[r] * npv
        w = np.where(w * pt < cut, 0.0, w)  # neutral_pt_cut_gev, for one event
        weights = np.where(in_region, w, weights)
    return np.where(charged, pv.astype(np.float64), weights)


def neutral_pt_cut_gev(
    eta: F64, n_vertices: npt.ArrayLike, params: PuppiParameters = PuppiParameters()
) -> F64:
    """PUPPI's neutral cut in GeV of each candidate (n,): a neutral whose weighted pT is below it
    gets weight 0. ``n_vertices`` (n,) or scalar: collisions of its event (NPV = ⌊0.7·that⌋)."""
    abs_eta = np.abs(np.asarray(eta, dtype=np.float64))
    region = np.searchsorted(params.region_eta_edges, abs_eta, side="right") - 1
    npv = np.floor(params.vertex_reco_fraction * np.asarray(n_vertices) + 1e-9)
    low = np.asarray(params.neutral_pt_min_gev)[region]
    slope = np.asarray(params.neutral_pt_slope_gev)[region]
    return low + slope * npv


def _chi2() -> Any:
    """SciPy's χ² distribution, imported when first needed (scipy.stats loads slowly)."""
    from scipy.stats import chi2

    return chi2
