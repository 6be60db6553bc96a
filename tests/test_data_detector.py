"""Detector response on hand-made particles: towers, truth merging, tracking, φ wrap."""

from __future__ import annotations

import numpy as np
import pytest

from qdistill import features
from qdistill.data import detector
from qdistill.data.detector import ECAL, HCAL, TrueParticles, reconstruct


def _particles(rows: list[tuple[int, float, float, float, float, bool, float]]) -> TrueParticles:
    """rows: (pdg, charge, pt, eta, phi, from_pv, dz_mm) → massless-ish particles."""
    pdg, charge, pt, eta, phi, pv, dz = (np.array(c) for c in zip(*rows, strict=True))
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    mass = np.where(np.abs(pdg) == 211, 0.1396, np.where(np.abs(pdg) == 130, 0.4976, 0.0))
    energy = np.sqrt(px**2 + py**2 + pz**2 + mass**2)
    return TrueParticles(
        pdg_id=pdg.astype(np.int32),
        charge=charge.astype(np.float64),
        p4=np.column_stack([px, py, pz, energy]),
        d0_mm=np.zeros(len(pdg)),
        dz_mm=dz.astype(np.float64),
        from_pv=pv.astype(bool),
    )


def test_neutral_particle_energy_lands_in_one_tower() -> None:
    parts = _particles([(22, 0, 40.0, 0.3, 1.0, True, 0.0)])
    cands = reconstruct(parts, np.random.default_rng(1))
    assert len(cands.features) == 1
    f = cands.features[0]
    assert f[features.PID_SLICE].tolist() == features.pid_one_hot([2])[0].tolist()
    energy = 40.0 * np.cosh(0.3)
    assert cands.p4[0, 3] == pytest.approx(energy, rel=0.05)  # ECAL σ/E ≈ 1 % at 40 GeV
    assert cands.truth_fraction[0] == 1.0
    # The candidate sits inside the ECAL tower that contains the photon.
    tower = ECAL.locate(np.array([0.3]), np.array([1.0]))
    assert ECAL.locate(f[[features.ETA]].astype(float), f[[features.PHI]].astype(float)) == tower
    assert f[features.CHARGE] == 0 and f[features.D0] == 0 and f[features.DZ] == 0


def test_tower_merging_gives_energy_weighted_truth_fraction() -> None:
    # Two K_L in the same HCAL tower: 30 GeV from the primary vertex, 10 GeV from pileup.
    parts = _particles(
        [(130, 0, 30.0, 0.50, 0.50, True, 0.0), (130, 0, 10.0, 0.51, 0.51, False, 20.0)]
    )
    cands = reconstruct(parts, np.random.default_rng(2))
    assert len(cands.features) == 1
    e_pv = np.sqrt((30 * np.cosh(0.50)) ** 2 + 0.4976**2)
    e_pu = np.sqrt((10 * np.cosh(0.51)) ** 2 + 0.4976**2)
    assert cands.truth_fraction[0] == pytest.approx(e_pv / (e_pv + e_pu), rel=1e-5)
    assert cands.features[0, features.PID_SLICE].tolist() == features.pid_one_hot([1])[0].tolist()


def test_soft_track_is_dropped_and_curls_before_the_calorimeter() -> None:
    parts = _particles([(211, 1, 0.15, 0.2, 0.0, True, 0.0)])
    cands = reconstruct(parts, np.random.default_rng(3))
    assert len(cands.features) == 0


def test_track_features_dz_and_pid() -> None:
    # Muons are tracked with efficiency 1 up to |η| = 2.8.
    parts = _particles(
        [(13, -1, 5.0, 1.0, -2.0, False, 12.5), (-13, 1, 20.0, -0.5, 3.0, True, 0.0)]
    )
    cands = reconstruct(parts, np.random.default_rng(4))
    assert len(cands.features) == 2
    f = cands.features
    assert f[:, features.CHARGE].tolist() == [-1.0, 1.0]
    np.testing.assert_array_equal(
        features.pid_codes_from_one_hot(f[:, features.PID_SLICE]), [13, -13]
    )
    sigma = detector.dz_resolution_mm(np.array([5.0, 20.0]), np.array([1.0, 0.5]))
    assert abs(f[0, features.DZ] - 12.5) < 5 * sigma[0]
    assert abs(f[1, features.DZ]) < 5 * sigma[1]
    assert cands.truth_fraction.tolist() == [0.0, 1.0]
    assert cands.dz_sigma_mm == pytest.approx(sigma)


def test_card_formulas() -> None:
    # dz resolution at pT = 1 GeV, η = 0: 10^1.5 µm = 31.6 µm.
    assert detector.dz_resolution_mm(np.array([1.0]), np.array([0.0]))[0] == pytest.approx(
        0.03162, rel=1e-3
    )
    eff = detector.tracking_efficiency(
        np.array([211, 211, 211, 211, 13]),
        np.array([0.5, 5.0, 5.0, 0.1, 5.0]),
        np.array([0.0, 2.0, 4.5, 0.0, 3.0]),
    )
    np.testing.assert_allclose(eff, [0.48, 0.87, 0.0, 0.0, 0.95])
    # 40 GeV photon in the barrel: σ = √((0.009·40)² + 0.12²·40 + 0.45²).
    assert detector.ecal_resolution_gev(np.array([40.0]), np.array([0.2]))[0] == pytest.approx(
        np.sqrt(0.36**2 + 0.0144 * 40 + 0.2025)
    )


def test_phi_wraps_around() -> None:
    for geo in (ECAL, HCAL):
        eta = np.array([0.1, 0.1, 0.1, 4.2])
        a = geo.locate(eta, np.array([np.pi - 1e-4, -np.pi - 1e-4, np.pi + 0.01, -np.pi + 0.01]))
        b = geo.locate(eta, np.array([-np.pi - 1e-4, np.pi - 1e-4, -np.pi + 0.01, np.pi + 0.01]))
        assert a[0] == a[1] == b[0] == b[1]  # the last φ bin, however φ is written
        assert a[2] == b[2] and a[3] == b[3]
        lo_eta, hi_eta, lo_phi, hi_phi = geo.bounds(a[:1])
        assert lo_phi[0] < np.pi - 1e-4 < hi_phi[0] and lo_eta[0] < 0.1 < hi_eta[0]
    # Out of coverage.
    assert ECAL.locate(np.array([5.1]), np.array([0.0]))[0] == -1


def test_calorimeter_granularity_from_the_card() -> None:
    # Barrel: ECAL 0.0174 × 1°, HCAL 0.087 × 5°; forward: 10° in φ; coverage |η| < 5.
    lo, hi, plo, phi_hi = ECAL.bounds(ECAL.locate(np.array([0.5]), np.array([0.0])))
    assert hi[0] - lo[0] == pytest.approx(0.0174) and phi_hi[0] - plo[0] == pytest.approx(
        np.pi / 180
    )
    lo, hi, plo, phi_hi = HCAL.bounds(HCAL.locate(np.array([0.5]), np.array([0.0])))
    assert hi[0] - lo[0] == pytest.approx(0.087) and phi_hi[0] - plo[0] == pytest.approx(np.pi / 36)
    lo, hi, plo, phi_hi = HCAL.bounds(HCAL.locate(np.array([-4.8]), np.array([0.0])))
    assert (lo[0], hi[0]) == (-5.0, -4.7) and phi_hi[0] - plo[0] == pytest.approx(np.pi / 18)
    assert ECAL.eta_edges[0] == -5.0 and ECAL.eta_edges[-1] == 5.0


def _tracked_pion(pt: float = 20.0, eta: float = 0.4, phi: float = 0.8) -> TrueParticles:
    return _particles([(211, 1, pt, eta, phi, True, 0.0)])


def test_a_tracked_pion_alone_is_rescaled_unless_its_tower_fluctuates_up() -> None:
    # its HCAL deposit is the track's own energy: a neutral hadron appears only when the tower
    # fluctuates more than 1σ above the track (about 16 % of crossings, as in Delphes); otherwise
    # the track takes the inverse-variance mean of track and tower (SimpleCalorimeter)
    rescaled, fakes = [], 0
    for seed in range(100):
        cands = reconstruct(_tracked_pion(), np.random.default_rng(seed))
        charged = cands.features[:, features.CHARGE] != 0
        if not charged.any():  # not tracked (3 %): the tower alone, as a neutral hadron
            assert len(cands.features) == 1
            continue
        if len(cands.features) == 2:
            fakes += 1
            pt = np.exp(cands.features[charged, features.LOG_PT][0])
            assert pt == pytest.approx(20, rel=0.05)
        else:
            rescaled.append(float(np.exp(cands.features[0, features.LOG_PT])))
    assert 5 <= fakes <= 30
    # σ(pT)/pT of the track ≈ 0.7 %, of the HCAL tower at 21.7 GeV ≈ 22 %: the combination stays
    # within a few per cent of the track but moves with the tower in every crossing
    assert np.all(np.abs(np.array(rescaled) / 20.0 - 1) < 0.05)
    assert len(set(np.round(rescaled, 6))) == len(rescaled)


def test_a_neutral_beside_a_track_is_the_tower_excess() -> None:
    # a 20 GeV π+ and a 30 GeV K_L from pileup in one HCAL tower: the neutral candidate carries
    # E_tower − E_track, and its truth is the share of the untracked deposits (pileup: 0)
    parts = _particles(
        [(211, 1, 20.0, 0.40, 0.80, True, 0.0), (130, 0, 30.0, 0.41, 0.81, False, 15.0)]
    )
    excess = []
    for seed in range(30):
        cands = reconstruct(parts, np.random.default_rng(seed))
        neutral = cands.features[:, features.CHARGE] == 0
        if neutral.sum() == 1:
            assert cands.truth_fraction[neutral][0] == 0.0
            excess.append(float(cands.p4[neutral, 3][0]))
    e_kl = np.sqrt((30 * np.cosh(0.41)) ** 2 + 0.4976**2)
    assert len(excess) >= 25
    # the tower resolution of the whole 52 GeV (≈ 15 %), not of the K_L alone, smears it
    assert abs(np.mean(excess) / e_kl - 1) < 0.1 and np.std(excess) / e_kl > 0.1
