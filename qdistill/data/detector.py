"""Detector response and particle flow, in the spirit of the Delphes CMS Phase-II card.

Numbers come from the card (DESIGN.md, "Reference detector"): tracking efficiency and dz
resolution, ECAL/HCAL tower granularity, energy resolutions and thresholds, energy sharing.
Simplifications, documented in docs/data-format.md:

- particle flow as Delphes' SimpleCalorimeter: every particle deposits (tracked ones too); a
  tower gives a neutral candidate of its excess over its tracks' energy when that excess is
  significant against the tracks' and the tower's resolutions, else its tracks are rescaled to
  the combined measurement; tracks point at their tower along their momentum (no bending);
- d0 is smeared with the card's dz resolution; the transverse momentum with a modest
  σ(pT)/pT = a ⊕ b·pT (not from the card, which tabulates it per η bin);
- electrons and muons that are tracked are identified as such (perfect lepton ID).

Everything is vectorised over particles (``np.bincount`` on tower indices).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from qdistill import features
from qdistill.kinematics import pt_eta_phi, wrap_phi

F64 = npt.NDArray[np.float64]

TRACKER_ETA_MAX: Final[float] = 4.0
CALO_ETA_MAX: Final[float] = 5.0
TRACK_PT_MIN_GEV: Final[float] = 0.2
# Solenoid and calorimeter surface of the card's ParticlePropagator: a charged particle whose helix
# diameter is smaller than the distance to the calorimeter surface curls up and never reaches it.
BZ_TESLA: Final[float] = 3.8
CALO_RADIUS_M: Final[float] = 1.29
CALO_HALF_LENGTH_M: Final[float] = 3.0

NEUTRINOS: Final[tuple[int, ...]] = (12, 14, 16)
ECAL_ONLY: Final[tuple[int, ...]] = (11, 22, 111)  # e, γ, π0
SHARED_ECAL_FRACTION: Final[dict[int, float]] = {310: 0.3, 3122: 0.3}  # K0S, Λ: 30 % ECAL
NO_CALO: Final[tuple[int, ...]] = (*NEUTRINOS, 13)  # neutrinos and (minimum-ionising) muons

_PID: Final[dict[str, int]] = dict(features.PID_CLASSES)
PHOTON_PID: Final[int] = _PID["photon"]
NEUTRAL_HADRON_PID: Final[int] = _PID["neutral_hadron"]

# σ(pT)/pT = a ⊕ b·pT per |η| region (upper edges), a modest stand-in for the card's tables.
_MOMENTUM_RES_ETA: Final[tuple[float, ...]] = (1.5, 2.5, TRACKER_ETA_MAX)
_MOMENTUM_RES_A: Final[tuple[float, ...]] = (0.006, 0.012, 0.03)
_MOMENTUM_RES_B_PER_GEV: Final[tuple[float, ...]] = (1.5e-4, 3e-4, 1e-3)

ECAL_THRESHOLD_GEV: Final[float] = 0.5
HCAL_THRESHOLD_GEV: Final[float] = 1.0
TOWER_SIGNIFICANCE_MIN: Final[float] = 1.0


@dataclass(frozen=True)
class TrueParticles:
    """Generator particles of a whole bunch crossing (hard collision + pileup), in the lab.

    Shapes (n,): ``pdg_id``, ``charge`` (e), ``d0_mm`` (true transverse impact parameter),
    ``dz_mm`` (true z of closest approach minus the primary-vertex z), ``from_pv`` (bool);
    ``p4`` (n, 4) px, py, pz, E in GeV.
    """

    pdg_id: npt.NDArray[np.int32]
    charge: F64
    p4: F64
    d0_mm: F64
    dz_mm: F64
    from_pv: npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Candidates:
    """Reconstructed particle-flow candidates, charged first then photons then neutral hadrons.

    ``features`` (n, 16) float32 in :data:`qdistill.features.FEATURE_NAMES` order with the PUPPI
    weight still 0; ``p4`` (n, 4) float32 GeV; ``truth_fraction`` (n,) float32, the energy share
    from the primary collision; ``dz_sigma_mm`` (n,) float64, the dz resolution of each track,
    and ``true_dz_mm`` (n,) float64 its true z relative to the primary vertex, before smearing
    (both 0 for neutral candidates).
    """

    features: npt.NDArray[np.float32]
    p4: npt.NDArray[np.float32]
    truth_fraction: npt.NDArray[np.float32]
    dz_sigma_mm: F64
    true_dz_mm: F64


def tracking_efficiency(abs_pdg: npt.NDArray[np.int32], pt: F64, abs_eta: F64) -> F64:
    """Probability that a charged particle is tracked (card: muons, and all others as hadrons)."""
    lo = (pt > TRACK_PT_MIN_GEV) & (pt <= 1.0)
    hi = pt > 1.0
    region = np.select([abs_eta <= 1.2, abs_eta <= 2.5, abs_eta <= TRACKER_ETA_MAX], [0, 1, 2], 3)
    slope = np.array([0.96, 0.85, 0.80, 0.0])[region]
    plateau = np.array([0.97, 0.87, 0.82, 0.0])[region]
    hadron = np.where(lo, slope * pt, 0.0) + np.where(hi, plateau, 0.0)
    muon = np.select([abs_eta <= 2.8, abs_eta <= TRACKER_ETA_MAX], [1.0, 0.95], 0.0) * (
        pt > TRACK_PT_MIN_GEV
    )
    return np.where(abs_pdg == 13, muon, hadron)


def dz_resolution_mm(pt: F64, abs_eta: F64) -> F64:
    """Track z resolution of the card in mm.

    (1 − 0.8 log10 pT, or 0.2 from 10 GeV on) · 10^(0.5|η| + 1.5) µm.
    """
    scale = np.where(pt < 10.0, 1.0 - 0.8 * np.log10(np.maximum(pt, 1e-3)), 0.2)
    return scale * 10.0 ** (0.5 * abs_eta + 1.5) * 1e-3


def momentum_resolution(pt: F64, abs_eta: F64) -> F64:
    """Relative transverse-momentum resolution σ(pT)/pT of a track."""
    region = np.minimum(np.searchsorted(_MOMENTUM_RES_ETA, abs_eta), len(_MOMENTUM_RES_ETA) - 1)
    a = np.asarray(_MOMENTUM_RES_A)[region]
    b = np.asarray(_MOMENTUM_RES_B_PER_GEV)[region]
    return np.hypot(a, b * pt)


def ecal_resolution_gev(energy: F64, abs_eta: F64) -> F64:
    """ECAL σ(E) in GeV (card); in 1.5 < |η| < 3 the card's range is interpolated in |η|."""
    e = np.maximum(energy, 0.0)
    t = np.clip((abs_eta - 1.5) / 1.5, 0.0, 1.0)
    endcap_c, endcap_s = 0.006 + 0.002 * t, 0.20 + 0.04 * t
    barrel = np.sqrt((0.009 * e) ** 2 + 0.12**2 * e + 0.45**2)
    endcap = np.sqrt((endcap_c * e) ** 2 + endcap_s**2 * e)
    forward = np.sqrt((0.08 * e) ** 2 + 1.98**2 * e)
    return np.select([abs_eta <= 1.5, abs_eta <= 3.0], [barrel, endcap], forward)


def hcal_resolution_gev(energy: F64, abs_eta: F64) -> F64:
    """HCAL σ(E) in GeV (card)."""
    e = np.maximum(energy, 0.0)
    central = np.sqrt((0.05 * e) ** 2 + 1.00**2 * e)
    forward = np.sqrt((0.11 * e) ** 2 + 2.80**2 * e)
    return np.where(abs_eta <= 3.0, central, forward)


class CaloGeometry:
    """Towers on rings of η (edges ``eta_edges``), ring ``k`` divided into ``n_phi[k]`` φ bins.

    Tower index = ``first[k] + iφ``; φ bins start at -π.
    """

    def __init__(self, eta_edges: npt.ArrayLike, n_phi: npt.ArrayLike) -> None:
        self.eta_edges = np.asarray(eta_edges, dtype=np.float64)
        self.n_phi = np.asarray(n_phi, dtype=np.int64)
        assert len(self.eta_edges) == len(self.n_phi) + 1
        assert np.all(np.diff(self.eta_edges) > 0)
        self.first = np.concatenate([[0], np.cumsum(self.n_phi)[:-1]])
        self.n_towers = int(self.n_phi.sum())
        self._ring = np.repeat(np.arange(len(self.n_phi)), self.n_phi)

    def locate(self, eta: F64, phi: F64) -> npt.NDArray[np.int64]:
        """Tower index of each direction; -1 outside the η coverage."""
        ring = np.searchsorted(self.eta_edges, eta, side="right") - 1
        inside = (ring >= 0) & (ring < len(self.n_phi))
        ring = np.clip(ring, 0, len(self.n_phi) - 1)
        n_phi = self.n_phi[ring]
        iphi = np.floor((wrap_phi(phi) + np.pi) / (2 * np.pi) * n_phi).astype(np.int64) % n_phi
        return np.where(inside, self.first[ring] + iphi, -1)

    def bounds(self, tower: npt.NDArray[np.int64]) -> tuple[F64, F64, F64, F64]:
        """η low/high and φ low/high edges of each tower."""
        ring = self._ring[tower]
        iphi = tower - self.first[ring]
        width = 2 * np.pi / self.n_phi[ring]
        phi_lo = -np.pi + iphi * width
        return self.eta_edges[ring], self.eta_edges[ring + 1], phi_lo, phi_lo + width


def _symmetric(central: F64, forward: F64) -> F64:
    """η edges from positive ``central`` (starting at 0) and ``forward`` edges, mirrored."""
    positive = np.concatenate([central, forward[1:]])
    return np.concatenate([-positive[::-1], positive[1:]])


def _forward_edges() -> F64:
    return np.concatenate([[2.958], 3.125 + 0.175 * np.arange(10), [5.0]])


def _ecal_geometry() -> CaloGeometry:
    central = 0.0174 * np.arange(171)  # up to 2.958
    edges = _symmetric(central, _forward_edges())
    n_fwd = len(_forward_edges()) - 1
    n_phi = np.concatenate([np.full(n_fwd, 36), np.full(2 * 170, 360), np.full(n_fwd, 36)])
    return CaloGeometry(edges, n_phi)


def _hcal_geometry() -> CaloGeometry:
    barrel = 0.087 * np.arange(20)  # up to 1.653
    endcap = np.linspace(barrel[-1], 2.958, 20)
    central = np.concatenate([barrel, endcap[1:]])
    edges = _symmetric(central, _forward_edges())
    n_fwd = len(_forward_edges()) - 1
    half = np.concatenate([np.full(19, 72), np.full(19, 90)])  # 5° barrel, 4° endcap
    n_phi = np.concatenate([np.full(n_fwd, 36), half[::-1], half, np.full(n_fwd, 36)])
    return CaloGeometry(edges, n_phi)


ECAL: Final[CaloGeometry] = _ecal_geometry()
HCAL: Final[CaloGeometry] = _hcal_geometry()


def reaches_calorimeter(pt: F64, abs_eta: F64, charge: F64) -> npt.NDArray[np.bool_]:
    """Whether a particle reaches the calorimeter: neutral ones always, charged ones when their
    helix diameter 2·pT/(0.3·Bz) exceeds the transverse distance to the surface they point at."""
    helix_diameter_m = 2.0 * pt / (0.3 * BZ_TESLA)
    with np.errstate(divide="ignore"):
        to_endcap_m = CALO_HALF_LENGTH_M / np.sinh(np.maximum(abs_eta, 1e-9))
    return (charge == 0) | (helix_diameter_m >= np.minimum(CALO_RADIUS_M, to_endcap_m))


def ecal_fraction(abs_pdg: npt.NDArray[np.int32]) -> F64:
    """Share of a calorimeter-visible particle's energy that goes to ECAL (the rest to HCAL)."""
    frac = np.where(np.isin(abs_pdg, ECAL_ONLY), 1.0, 0.0)
    for pdg, share in SHARED_ECAL_FRACTION.items():
        frac = np.where(abs_pdg == pdg, share, frac)
    return frac


def _pid_codes_for_tracks(pdg_id: npt.NDArray[np.int32], charge: F64) -> npt.NDArray[np.int64]:
    abs_pdg = np.abs(pdg_id)
    lepton = (abs_pdg == 11) | (abs_pdg == 13)
    hadron = np.where(charge > 0, _PID["hadron_plus"], _PID["hadron_minus"])
    return np.where(lepton, pdg_id, hadron).astype(np.int64)


def _features(
    pt: F64,
    eta: F64,
    phi: F64,
    energy: F64,
    charge: F64,
    pid: npt.NDArray[np.int64],
    d0: F64,
    dz: F64,
) -> npt.NDArray[np.float32]:
    out = np.zeros((len(pt), features.N_FEATURES), dtype=np.float32)
    out[:, features.ETA] = eta
    out[:, features.PHI] = phi
    out[:, features.LOG_PT] = np.log(pt)
    out[:, features.LOG_E] = np.log(energy)
    out[:, features.CHARGE] = charge
    out[:, features.PID_SLICE] = features.pid_one_hot(pid)
    out[:, features.D0] = d0
    out[:, features.DZ] = dz
    return out


@dataclass(frozen=True)
class _MeasuredTracks:
    """Tracks before particle flow: rows of the true particles, momenta and impact parameters."""

    rows: npt.NDArray[np.int64]
    p3: F64  # (m, 3) GeV, smeared
    mass2: F64
    resolution: F64  # σ(pT)/pT
    sigma_z: F64
    d0: F64
    dz: F64

    @property
    def energy(self) -> F64:
        return np.sqrt(np.sum(self.p3**2, axis=1) + self.mass2)


def _measure_tracks(
    parts: TrueParticles,
    pt: F64,
    eta: F64,
    tracked: npt.NDArray[np.bool_],
    rng: np.random.Generator,
) -> _MeasuredTracks:
    idx = np.flatnonzero(tracked)
    p4 = parts.p4[idx]
    abs_eta = np.abs(eta[idx])
    resolution = momentum_resolution(pt[idx], abs_eta)
    scale = np.maximum(1.0 + resolution * rng.standard_normal(len(idx)), 0.1)
    sigma_z = dz_resolution_mm(pt[idx], abs_eta)
    d0 = parts.d0_mm[idx] + sigma_z * rng.standard_normal(len(idx))
    dz = parts.dz_mm[idx] + sigma_z * rng.standard_normal(len(idx))
    mass2 = np.maximum(p4[:, 3] ** 2 - np.sum(p4[:, :3] ** 2, axis=1), 0.0)
    return _MeasuredTracks(idx, p4[:, :3] * scale[:, None], mass2, resolution, sigma_z, d0, dz)


def _track_candidates(
    parts: TrueParticles, eta: F64, phi: F64, tracks: _MeasuredTracks, rescale: F64
) -> Candidates:
    """Charged candidates; ``rescale`` (m,) multiplies each track's pT at fixed η, φ and mass."""
    idx = tracks.rows
    p3 = tracks.p3 * rescale[:, None]
    energy = np.sqrt(np.sum(p3**2, axis=1) + tracks.mass2)
    charge = parts.charge[idx]
    pid = _pid_codes_for_tracks(parts.pdg_id[idx], charge)
    pt = np.hypot(p3[:, 0], p3[:, 1])
    feats = _features(pt, eta[idx], phi[idx], energy, charge, pid, tracks.d0, tracks.dz)
    return Candidates(
        features=feats,
        p4=np.column_stack([p3, energy]).astype(np.float32),
        truth_fraction=parts.from_pv[idx].astype(np.float32),
        dz_sigma_mm=tracks.sigma_z,
        true_dz_mm=parts.dz_mm[idx],
    )


def _towers(
    geometry: CaloGeometry,
    energy: F64,
    parts: TrueParticles,
    tracked: npt.NDArray[np.bool_],
    eta: F64,
    phi: F64,
    tracks: tuple[_MeasuredTracks, F64],
    resolution: Callable[[F64, F64], F64],
    threshold_gev: float,
    pid_code: int,
    rng: np.random.Generator,
) -> tuple[Candidates, F64]:
    """One calorimeter, as Delphes' SimpleCalorimeter: deposits ``energy`` (n,) of every particle
    (tracked ones included) merge into towers, which are smeared and thresholded; a tower makes a
    neutral candidate of E_tower − Σ E_tracks when that excess passes the threshold and exceeds
    ``TOWER_SIGNIFICANCE_MIN`` times sqrt(σ_tracks² + σ_tower²); otherwise its tracks' pT is
    rescaled to the combined track-calorimeter estimate. ``tracks``: the measured tracks and
    their current pT rescaling (m,); returns the neutral candidates and the new rescaling."""
    measured, rescale = tracks
    tower = geometry.locate(eta, phi)
    keep = (tower >= 0) & (energy > 0)
    occupied, inverse = np.unique(tower[keep], return_inverse=True)
    if len(occupied) == 0:
        empty = np.zeros(0)
        cands = _neutral_candidates((empty,) * 4, np.zeros(0, bool), empty, empty, pid_code, rng)
        return cands, rescale
    deposit, from_pv = energy[keep], parts.from_pv[keep]
    untracked = ~tracked[keep]
    e_true = np.bincount(inverse, weights=deposit, minlength=len(occupied))
    e_pv = np.bincount(inverse, weights=deposit * from_pv, minlength=len(occupied))
    e_neutral = np.bincount(inverse, weights=deposit * untracked, minlength=len(occupied))
    e_neutral_pv = np.bincount(
        inverse, weights=deposit * untracked * from_pv, minlength=len(occupied)
    )
    eta_lo, eta_hi, phi_lo, phi_hi = geometry.bounds(occupied)
    abs_eta_centre = np.abs(0.5 * (eta_lo + eta_hi))
    sigma = resolution(e_true, abs_eta_centre)
    # Log-normal smearing with mean e_true and width sigma keeps energies positive (as Delphes).
    s2 = np.log1p((sigma / e_true) ** 2)
    e_meas = e_true * np.exp(np.sqrt(s2) * rng.standard_normal(len(e_true)) - 0.5 * s2)
    sigma_meas = resolution(e_meas, abs_eta_centre)
    passed = (e_meas > threshold_gev) & (e_meas >= TOWER_SIGNIFICANCE_MIN * sigma_meas)
    e_tower = np.where(passed, e_meas, 0.0)
    t_in, t_tower, e_trk, var_trk = _tracks_in_towers(
        occupied, tower, energy, parts, tracked, (measured, rescale), resolution, abs_eta_centre
    )
    neutral = np.maximum(e_tower - e_trk, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        significance = neutral / np.sqrt(var_trk + sigma_meas**2)
    made = (neutral > threshold_gev) & (significance > TOWER_SIGNIFICANCE_MIN)
    # no significant excess: the tracks take the inverse-variance mean of both measurements
    combine = ~made & (e_trk > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        w_trk = np.where(var_trk > 0, 1.0 / var_trk, 0.0)
        w_calo = np.where(sigma_meas > 0, 1.0 / sigma_meas**2, 0.0)
        best = (w_trk * e_trk + w_calo * e_tower) / (w_trk + w_calo)
        factor = np.where(combine, best / e_trk, 1.0)
    rescale = rescale * np.where(t_in, factor[t_tower], 1.0)
    # truth: the primary share of the untracked deposits (of all deposits, for an excess made
    # of track fluctuations alone)
    share = np.where(e_neutral > 1e-9, e_neutral_pv / np.maximum(e_neutral, 1e-12), e_pv / e_true)
    bounds = (eta_lo, eta_hi, phi_lo, phi_hi)
    cands = _neutral_candidates(bounds, made, neutral, share, pid_code, rng)
    return cands, rescale


def _tracks_in_towers(
    occupied: npt.NDArray[np.int64],
    tower: npt.NDArray[np.int64],
    energy: F64,
    parts: TrueParticles,
    tracked: npt.NDArray[np.bool_],
    tracks: tuple[_MeasuredTracks, F64],
    resolution: Callable[[F64, F64], F64],
    abs_eta_centre: F64,
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int64], F64, F64]:
    """Which tracks deposit in an occupied tower (m,), that tower's position (m,), and per
    tower the tracks' energy Σ f·E and variance Σ (σ_track·E_guess)² (SimpleCalorimeter)."""
    measured, rescale = tracks
    # the share of each tracked particle's energy deposited here (the card's fractions)
    fraction = np.where(tracked & (tower >= 0), energy / np.maximum(parts.p4[:, 3], 1e-12), 0.0)
    t_fraction = fraction[measured.rows]
    t_pos = np.searchsorted(occupied, tower[measured.rows])
    t_tower = np.minimum(t_pos, len(occupied) - 1)
    t_in = (
        (t_fraction > 1e-9) & (t_pos < len(occupied)) & (occupied[t_tower] == tower[measured.rows])
    )
    t_energy_full = np.sqrt(np.sum((measured.p3 * rescale[:, None]) ** 2, axis=1) + measured.mass2)
    t_energy = t_energy_full * t_fraction
    calo_sigma = resolution(t_energy_full, abs_eta_centre[t_tower])
    guess = np.where(calo_sigma / t_energy_full < measured.resolution, t_energy, t_energy_full)
    at = t_pos[t_in]
    e_trk = np.bincount(at, weights=t_energy[t_in], minlength=len(occupied))
    var_trk = np.bincount(
        at, weights=(measured.resolution * guess)[t_in] ** 2, minlength=len(occupied)
    )
    return t_in, t_tower, e_trk, var_trk


def _neutral_candidates(
    bounds: tuple[F64, F64, F64, F64],
    made: npt.NDArray[np.bool_],
    neutral: F64,
    share: F64,
    pid_code: int,
    rng: np.random.Generator,
) -> Candidates:
    """Neutral candidates of the towers ``made`` with energy ``neutral`` and truth ``share``;
    the direction uniform inside the tower (Delphes' SmearTowerCenter)."""
    eta_lo, eta_hi, phi_lo, phi_hi = bounds
    u = rng.random((len(eta_lo), 2))
    t_eta = (eta_lo + u[:, 0] * (eta_hi - eta_lo))[made]
    t_phi = wrap_phi(phi_lo + u[:, 1] * (phi_hi - phi_lo))[made]
    e_cand = neutral[made]
    n = len(e_cand)
    pt = e_cand / np.cosh(t_eta)
    zeros = np.zeros(n)
    feats = _features(pt, t_eta, t_phi, e_cand, zeros, np.full(n, pid_code), zeros, zeros)
    p4 = np.column_stack(
        [pt * np.cos(t_phi), pt * np.sin(t_phi), pt * np.sinh(t_eta), e_cand]
    ).astype(np.float32)
    return Candidates(
        features=feats,
        p4=p4,
        truth_fraction=share[made].astype(np.float32),
        dz_sigma_mm=zeros,
        true_dz_mm=zeros,
    )


def concatenate(parts: list[Candidates]) -> Candidates:
    """Candidates of several lists, in order."""
    return Candidates(
        features=np.concatenate([c.features for c in parts]),
        p4=np.concatenate([c.p4 for c in parts]),
        truth_fraction=np.concatenate([c.truth_fraction for c in parts]),
        dz_sigma_mm=np.concatenate([c.dz_sigma_mm for c in parts]),
        true_dz_mm=np.concatenate([c.true_dz_mm for c in parts]),
    )


def reconstruct(parts: TrueParticles, rng: np.random.Generator) -> Candidates:
    """Simulate tracking and calorimetry for a bunch crossing and run particle flow.

    Tracks become charged candidates; every particle that reaches the calorimeters deposits in
    them, tracked or not; the neutral excess of ECAL towers becomes photons and of HCAL towers
    neutral hadrons (ECAL first, then HCAL with the tracks ECAL rescaled, as the card chains
    them). Random numbers are drawn from ``rng`` only, in a fixed order.
    """
    pt, eta, phi = pt_eta_phi(parts.p4)
    abs_eta = np.abs(eta)
    abs_pdg = np.abs(parts.pdg_id)
    charged = parts.charge != 0
    efficiency = tracking_efficiency(abs_pdg, pt, abs_eta)
    tracked = charged & (rng.random(len(pt)) < efficiency)
    measured = _measure_tracks(parts, pt, eta, tracked, rng)

    visible = (
        ~np.isin(abs_pdg, NO_CALO)
        & (abs_eta < CALO_ETA_MAX)
        & reaches_calorimeter(pt, abs_eta, parts.charge)
    )
    f_ecal = ecal_fraction(abs_pdg) * visible
    f_hcal = (1.0 - ecal_fraction(abs_pdg)) * visible
    energy = parts.p4[:, 3]
    rescale = np.ones(len(measured.rows))
    photons, rescale = _towers(
        ECAL, energy * f_ecal, parts, tracked, eta, phi, (measured, rescale), ecal_resolution_gev,
        ECAL_THRESHOLD_GEV, PHOTON_PID, rng,
    )  # fmt: skip
    neutral_hadrons, rescale = _towers(
        HCAL, energy * f_hcal, parts, tracked, eta, phi, (measured, rescale), hcal_resolution_gev,
        HCAL_THRESHOLD_GEV, NEUTRAL_HADRON_PID, rng,
    )  # fmt: skip
    tracks = _track_candidates(parts, eta, phi, measured, rescale)
    return concatenate([tracks, photons, neutral_hadrons])
