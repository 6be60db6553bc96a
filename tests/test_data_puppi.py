"""PUPPI on a hand-made event."""

from __future__ import annotations

import numpy as np
import pytest

from qdistill.data.puppi import (
    PuppiParameters,
    _median_rms,
    alpha,
    associate_to_pv,
    associate_to_pv_truth,
    neutral_pt_cut_gev,
    puppi_weights,
)


def _event() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    n_pu = 400
    # Pileup charged particles spread over the barrel, soft.
    pu_eta = rng.uniform(-1.4, 1.4, n_pu)
    pu_phi = rng.uniform(-np.pi, np.pi, n_pu)
    pu_pt = rng.exponential(0.7, n_pu) + 0.3
    # A hard primary-vertex jet at (η, φ) = (0.2, π - 0.02): three 20 GeV tracks, across φ = ±π.
    pv_eta = np.array([0.18, 0.22, 0.20])
    pv_phi = np.array([np.pi - 0.05, -np.pi + 0.03, np.pi - 0.01])
    pv_pt = np.array([20.0, 20.0, 20.0])
    # Neutral 1 in the jet (across the φ boundary); neutral 2 far from any PV track, in a
    # cluster of pileup tracks.
    pile_eta = np.array([-1.0, -1.02, -0.98])
    pile_phi = np.array([0.0, 0.02, -0.02])
    pile_pt = np.array([3.0, 3.0, 3.0])
    eta = np.concatenate([pu_eta, pile_eta, pv_eta, [0.2, -1.0]])
    phi = np.concatenate([pu_phi, pile_phi, pv_phi, [-np.pi + 0.01, 0.01]])
    pt = np.concatenate([pu_pt, pile_pt, pv_pt, [10.0, 10.0]])
    charged = np.concatenate([np.ones(n_pu + 6, bool), [False, False]])
    from_pv = np.concatenate([np.zeros(n_pu + 3, bool), np.ones(3, bool), [False, False]])
    return {"eta": eta, "phi": phi, "pt": pt, "charged": charged, "from_pv": from_pv}


def test_puppi_weights_on_hand_made_event() -> None:
    ev = _event()
    w = puppi_weights(ev["eta"], ev["phi"], ev["pt"], ev["charged"], ev["from_pv"], n_vertices=50)
    assert w.shape == ev["pt"].shape
    assert np.all(w[ev["charged"] & ev["from_pv"]] == 1.0)
    assert np.all(w[ev["charged"] & ~ev["from_pv"]] == 0.0)
    assert w[-2] > 0.95  # neutral inside the hard PV jet
    assert w[-1] == 0.0  # neutral next to pileup tracks only
    assert np.all((w >= 0) & (w <= 1))


def test_alpha_uses_the_cone_and_periodic_phi() -> None:
    params = PuppiParameters()
    eta = np.array([0.0, 0.0, 0.0, 0.0])
    phi = np.array([np.pi - 0.05, -np.pi + 0.05, 0.0, np.pi - 0.05])
    pt = np.array([1.0, 2.0, 5.0, 3.0])
    neighbour = np.array([False, True, True, False])
    a = alpha(eta, phi, neighbour, pt, params)
    # Particle 0 sees particle 1 at ΔR = 0.1 across φ = ±π, not particle 2 (ΔR ≈ 3.1) and not
    # particle 3 (ΔR = 0 < R_min, and not a neighbour).
    assert a[0] == pytest.approx(np.log((2.0 / 0.1) ** 2), rel=1e-6)
    assert a[2] == -np.inf  # no neighbour in its cone (itself excluded by R_min)


def test_neutral_pt_cut_rises_with_vertices() -> None:
    ev = _event()
    w_low = puppi_weights(ev["eta"], ev["phi"], ev["pt"], ev["charged"], ev["from_pv"], 10)
    # NPV = 0.7 · 2500 = 1750 reconstructed vertices: 0.2 + 0.006 · 1750 = 10.7 GeV > the jet
    # neutral's 10 GeV: cut away.
    w_high = puppi_weights(ev["eta"], ev["phi"], ev["pt"], ev["charged"], ev["from_pv"], 2500)
    assert w_low[-2] > 0.95 and w_high[-2] == 0.0


def test_vertex_association_and_parameter_checks() -> None:
    dz = np.array([0.05, 0.2, -0.2, 0.09, -0.11])
    sigma = np.array([0.02, 0.05, 0.1, 0.001, 0.001])
    # 3σ windows, with a 0.1 mm floor.
    assert associate_to_pv(dz, sigma).tolist() == [True, False, True, True, False]
    # Closest reconstructed vertex in z, within 3 mm: a pileup vertex at +0.3 mm takes the
    # 0.2 mm track; the −0.11 mm one is closer to the primary vertex than to it.
    assert associate_to_pv(dz, sigma, pileup_vertex_dz_mm=np.array([0.3, 8.0])).tolist() == [
        True, False, True, True, True
    ]  # fmt: skip
    # A B-decay track 0.6 mm away: kept unless a pileup vertex is nearer; never beyond 3 mm.
    far = np.array([0.6, 0.6, 3.5])
    tiny = np.full(3, 0.01)
    assert associate_to_pv(far, tiny, pileup_vertex_dz_mm=np.array([])).tolist() == [
        True, True, False
    ]  # fmt: skip
    assert associate_to_pv(far[:1], tiny[:1], pileup_vertex_dz_mm=np.array([1.0])).tolist() == [
        False
    ]
    with pytest.raises(ValueError, match="one value per region"):
        PuppiParameters(rms_pt_min_gev=(0.1,))


def test_primary_vertex_leptons_do_not_lift_a_neutral() -> None:
    ev = _event()
    # Mark the three primary-vertex tracks of the jet as leptons: the jet neutral then has no
    # neighbours left (Delphes feeds PUPPI the tracks without leptons) and gets weight 0.
    leptons = np.zeros(len(ev["pt"]), dtype=bool)
    leptons[ev["charged"] & ev["from_pv"]] = True
    args = (ev["eta"], ev["phi"], ev["pt"], ev["charged"], ev["from_pv"], 50)
    assert puppi_weights(*args)[-2] > 0.95
    w = puppi_weights(*args, leptons=leptons)
    assert w[-2] == 0.0
    assert np.all(w[leptons] == 1.0)  # the leptons themselves keep their vertex association
    kept = puppi_weights(*args, params=PuppiParameters(exclude_leptons=False), leptons=leptons)
    assert kept[-2] > 0.95


def test_delphes_association_uses_truth_and_the_z_resolution() -> None:
    true_dz = np.array([0.05, 0.05, 0.15, -0.15, 2.0, 0.6])
    from_pv = np.array([True, False, False, False, True, True])
    # pileup within 0.1 mm stays primary (Delphes cannot tell); pileup beyond is pileup; every
    # track of the primary collision is primary, a B decay 0.6 mm away too
    assert associate_to_pv_truth(true_dz, from_pv).tolist() == [
        True, True, False, False, True, True
    ]  # fmt: skip
    wide = PuppiParameters(pv_z_resolution_mm=0.2)
    assert associate_to_pv_truth(true_dz, from_pv, wide).tolist()[2:4] == [True, True]
    assert PuppiParameters().vertex_association == "delphes"
    with pytest.raises(ValueError, match="vertex_association 'x'"):
        PuppiParameters(vertex_association="x")


def test_median_leaves_out_empty_cones_and_negative_alpha_as_delphes() -> None:
    # sorted with empty cones as 0: [-3, -2, 0, 0, 1, 2, 4, 8]; last 0 at index 3, so the
    # median is element 3 + int(5 / 2) = 5, i.e. 2 (np.median of the finite values: 1.5)
    ref = np.array([4.0, -np.inf, 1.0, -3.0, 8.0, -np.inf, 2.0, -2.0])
    median, rms = _median_rms(ref, np.zeros(0), low_pu_correction=False)
    assert median == 2.0
    # RMS over the non-empty values (the negative ones included), about that median
    finite = ref[np.isfinite(ref)]
    assert rms == pytest.approx(np.sqrt(np.mean((finite - 2.0) ** 2)))
    # with no empty cone, negative α count: sorted [-3, -2, 1, 2, 4, 8] -> element 3, 2.0
    assert _median_rms(finite, np.zeros(0), False)[0] == 2.0
    assert _median_rms(np.array([-3.0, 1.0, 5.0]), np.zeros(0), False)[0] == 1.0
    assert _median_rms(np.full(3, -np.inf), np.zeros(0), False) is None


def test_neutral_pt_cut_per_region_and_vertices() -> None:
    # NPV = ⌊0.7 · 141⌋ = 98: barrel 0.2 + 0.006·98, endcap 0.2 + 0.013·98, forward 0.5 + 0.067·98
    cut = neutral_pt_cut_gev(np.array([0.3, -2.0, 4.5]), np.array([141, 141, 141]))
    np.testing.assert_allclose(cut, [0.788, 1.474, 7.066])
