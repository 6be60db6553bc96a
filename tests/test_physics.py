"""Physics evaluation: MET, jets, response and resolution on hand-made numbers, and `evaluate` on a
small synthetic event file."""

from __future__ import annotations

import json
import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
from typer.testing import CliRunner

from qdistill import kinematics
from qdistill.atomic import atomic_path
from qdistill.cli import app
from qdistill.data.layout import Event, EventWriter
from qdistill.errors import QdistillError
from qdistill.physics import jets
from qdistill.physics.evaluate import evaluate
from qdistill.physics.met import check_weights, gen_met, met, met_vector, neutrino_met
from qdistill.physics.resolution import (
    Responses,
    bootstrap_resolutions,
    improvement,
    resolution,
    response,
)
from qdistill.physics.synthetic import (
    four_momenta,
    hard_collision,
    synthetic_event,
    write_synthetic_file,
)

# --- response and resolution -------------------------------------------------------------------


def test_response_and_resolution_hand_computed() -> None:
    np.testing.assert_allclose(
        response([110.0, 90.0, 150.0], [100.0, 100.0, 100.0]), [0.1, -0.1, 0.5]
    )
    # percentiles (linear) of 0..4: q25 = 1, q75 = 3
    assert resolution([4.0, 0.0, 3.0, 1.0, 2.0]) == pytest.approx(1.0)
    # 0, 0.1, ..., 0.8: q25 = 0.2, q75 = 0.6
    assert resolution(np.arange(9) / 10) == pytest.approx(0.2)
    assert math.isnan(resolution([]))
    assert improvement(0.09, 0.10) == pytest.approx(0.1)
    with pytest.raises(QdistillError, match="X_gen > 0"):
        response([1.0], [0.0])


def test_bootstrap_is_seeded_and_paired() -> None:
    rng = np.random.default_rng(1)
    n_events = 300
    values = rng.normal(0.0, 0.2, n_events)
    events = np.arange(n_events)
    responses = {
        "puppi": Responses(values, events),
        "better": Responses(values / 2, events),  # exactly half as wide, event by event
    }
    a = bootstrap_resolutions(responses, n_events, n_resamples=50, seed=7)
    b = bootstrap_resolutions(responses, n_events, n_resamples=50, seed=7)
    assert a == b
    assert a.resolution["better"] == pytest.approx(a.resolution["puppi"] / 2)
    assert a.improvement["better"] == pytest.approx(0.5)
    assert a.improvement["puppi"] == 0.0
    # paired resamples: the ratio of the two is the same in every resample
    assert a.improvement_uncertainty["better"] == pytest.approx(0.0, abs=1e-12)
    # resolution of a normal(0, 0.2) is 0.6745 * 0.2; its bootstrap spread is a few percent of it
    assert a.resolution["puppi"] == pytest.approx(0.6745 * 0.2, rel=0.15)
    assert 0.002 < a.uncertainty["puppi"] < 0.02


def test_bootstrap_resamples_events_not_jets() -> None:
    # two events with ten identical responses each: resampling events gives only 3 outcomes
    values = np.r_[np.zeros(10), np.ones(10)]
    r = bootstrap_resolutions(
        {"puppi": Responses(values, np.repeat([0, 1], 10))}, 2, n_resamples=200, seed=0
    )
    assert r.resolution["puppi"] == pytest.approx(0.5)
    assert r.count["puppi"] == 20
    assert r.uncertainty["puppi"] > 0.1  # half the resamples draw one event twice: resolution 0


# --- missing transverse momentum ---------------------------------------------------------------


def test_met_of_a_balanced_event_is_zero() -> None:
    p4 = four_momenta(
        np.array([40.0, 25.0, 15.0]), np.array([0.3, -1.0, 2.0]), np.array([0.0, 2.0, -2.0])
    )
    # the third balances the first two exactly
    p4[2, :2] = -(p4[0, :2] + p4[1, :2])
    assert met(p4, np.ones(3)) == pytest.approx(0.0, abs=1e-9)
    # weighting out the first particle leaves its momentum missing
    np.testing.assert_allclose(met_vector(p4, [0.0, 1.0, 1.0]), p4[0, :2], atol=1e-9)
    assert met(p4, [0.5, 1.0, 1.0]) == pytest.approx(20.0)


def test_gen_met_is_the_visible_sum_as_in_the_reference_code() -> None:
    gen = four_momenta(np.array([30.0, 40.0, 50.0]), np.zeros(3), np.array([0.0, math.pi / 2, 1.0]))
    # visible: the π (50 GeV at φ = 1) alone; the neutrinos: 30 and 40 at right angles
    assert gen_met(gen, [12, -14, 211]) == pytest.approx(50.0)
    assert neutrino_met(gen, [12, -14, 211]) == pytest.approx(50.0)
    visible = np.hypot(30 + 50 * math.cos(1.0), 40 + 50 * math.sin(1.0))
    assert gen_met(gen, [11, 22, 211]) == pytest.approx(visible)
    assert neutrino_met(gen, [11, 22, 211]) == 0.0
    # a balanced record (the neutrino carries what the visible particles lack): both agree
    balanced = np.vstack([gen, [[-57.0151153, -82.0735492, 0.0, 100.0]]])
    assert gen_met(balanced, [11, 22, 211, 14]) == pytest.approx(
        neutrino_met(balanced, [11, 22, 211, 14]), rel=1e-9
    )


def test_weights_of_the_wrong_length_are_refused() -> None:
    p4 = np.zeros((3, 4))
    with pytest.raises(
        QdistillError, match=r"weighting 'distillnet' has shape \(2,\).*3 candidates"
    ):
        met(p4, [1.0, 1.0], "distillnet")
    with pytest.raises(QdistillError, match="NaN"):
        check_weights([1.0, np.nan, 0.0], 3, "teacher")
    with pytest.raises(QdistillError, match="4 candidates"):
        jets.weighted_jets(np.zeros((4, 4)), np.ones(5), "puppi")


# --- jets ----------------------------------------------------------------------------------------


def test_jets_with_unit_weights_and_no_pileup_reproduce_generator_jets() -> None:
    gen_p4, gen_pdg = hard_collision(np.random.default_rng(3))
    visible = np.abs(gen_pdg) != 12
    visible &= np.abs(gen_pdg) != 14
    candidates = gen_p4[visible]
    reco = jets.weighted_jets(candidates, np.ones(len(candidates)))
    gen = jets.gen_jets(gen_p4, gen_pdg)
    assert len(gen) >= 3  # the three sprays (the muon is a jet of its own)
    np.testing.assert_allclose(reco.pt, gen.pt)
    np.testing.assert_allclose(reco.eta, gen.eta)
    _, i_gen = jets.match(reco, gen)
    assert sorted(i_gen.tolist()) == list(range(len(gen)))
    np.testing.assert_array_equal(jets.jet_response(reco, gen), np.zeros(len(gen)))
    # halving every weight halves every jet pT: response −0.5 (the jets stay above 15 GeV)
    half = jets.weighted_jets(candidates, np.full(len(candidates), 0.5), pt_min_gev=1.0)
    np.testing.assert_allclose(jets.jet_response(half, gen), -0.5)


def test_matching_is_one_to_one_by_increasing_delta_r() -> None:
    gen = jets.Jets(
        np.array([50.0, 30.0]), np.array([0.0, 1.0]), np.array([0.1, -3.1]), np.array([50.0, 46.0])
    )
    # reco 0 is 0.05 from gen 0; reco 1 is 0.1 from gen 0 and unmatched; reco 2 crosses ±π
    reco = jets.Jets(
        np.array([55.0, 45.0, 33.0]),
        np.array([0.0, 0.0, 1.0]),
        np.array([0.15, 0.0, 3.13]),
        np.array([55.0, 45.0, 50.6]),
    )
    i_reco, i_gen = jets.match(reco, gen)
    assert i_reco.tolist() == [0, 2] and i_gen.tolist() == [0, 1]
    np.testing.assert_allclose(jets.jet_response(reco, gen), [0.1, 0.1])
    # the reference code's matching: every pair within ΔR < 0.4, so reco 1 pairs with gen 0 too
    responses, gen_eta = jets.energy_responses_all_pairs(reco, gen)
    np.testing.assert_allclose(responses, [0.1, -0.1, 0.1])
    np.testing.assert_allclose(gen_eta, [0.0, 0.0, 1.0])
    assert kinematics.delta_r([0.0], [3.1], [0.0], [-3.1])[0, 0] == pytest.approx(2 * math.pi - 6.2)


# --- evaluate on a synthetic event file ---------------------------------------------------------


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("physics") / "synthetic.h5"
    write_synthetic_file(path, n_events=12, seed=0)
    return path


def test_evaluate_writes_summary_table_and_plots(synthetic: Path, tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    out = tmp_path / "eval"
    summary = evaluate(synthetic, out, n_bootstrap=20, progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (12, 12)
    on_disk = json.loads((out / "summary.json").read_text())
    assert on_disk == summary
    assert summary["events"] == 12 and summary["events_with_gen_met"] == 12
    assert summary["weightings"] == ["puppi", "teacher", "truth"]
    assert set(summary["skipped"]) == {"distillnet", "qdistillnet", "qdistillnet_firmware"}
    for key in ("met_resolution", "met_resolution_uncertainty", "jet_resolution", "accuracy"):
        assert set(summary[key]) == {"puppi", "teacher", "truth"}, key
    # truth weights remove the pileup exactly: jets are the generator jets, MET the neutrinos'
    assert summary["jet_resolution"]["truth"] == pytest.approx(0.0, abs=1e-6)
    assert summary["met_resolution"]["truth"] == pytest.approx(0.0, abs=1e-6)
    assert summary["jet_matching_efficiency"]["truth"] == 1.0
    # the soft labels keep less pileup than this PUPPI: better jets, positive improvement
    assert summary["jet_resolution"]["teacher"] < summary["jet_resolution"]["puppi"]
    assert summary["jet_improvement_over_puppi"]["teacher"] > 0
    assert summary["met_improvement_over_puppi"]["puppi"] == 0.0
    assert summary["accuracy"]["teacher"] == 1.0
    assert summary["accuracy_first_bin_ratio"]["teacher"] == 1.0
    assert set(summary["accuracy_last_bin_ratio"]) == {"puppi", "teacher", "truth"}
    assert summary["jet_pairs"]["truth"] >= summary["jets_matched"]["truth"]  # all pairs
    assert "dR < 0.4" in summary["definitions"]["jet_resolution"]
    assert 0 < summary["accuracy"]["puppi"] < 1
    table = (out / "summary.md").read_text()
    assert "| teacher |" in table and "distillnet: no --distillnet model given" in table
    assert not list(out.glob(".evaluate.*"))  # the staging directory is gone
    assert plt.get_fignums() == []  # figures are built without pyplot: nothing left open
    # per region the truth weighting gives back the primary pT exactly; PUPPI keeps pileup
    rows = summary["by_eta_region"]
    assert [(r["eta_min"], r["eta_max"]) for r in rows] == [
        (0.0, 1.5), (1.5, 2.5), (2.5, 3.0), (3.0, 4.0), (4.0, 5.0)
    ]  # fmt: skip
    filled = [r for r in rows if r["primary_pt_gev"] > 0]
    assert filled
    assert all(r["weighted_over_primary_pt"]["truth"] == pytest.approx(1) for r in filled)
    assert sum(r["jets_matched"]["truth"] for r in rows) == summary["jets_matched"]["truth"]
    # all primary pT lies within |η| < 2.5 here: the tracker-only MET of the truth weighting
    # is the full one; PUPPI's differs (pileup beyond 2.5 leaves it)
    tracker, full = summary["met_resolution_tracker"], summary["met_resolution"]
    assert rows[2]["primary_pt_gev"] == 0 and tracker["truth"] == pytest.approx(full["truth"])
    assert tracker["puppi"] != pytest.approx(full["puppi"], rel=0.01)
    assert "| 0–1.5 |" in table
    for stem in ("met_response", "jet_response", "weights", "pt_ratio_eta_phi", "by_eta_region"):
        for ext in ("png", "pdf"):
            assert (out / f"{stem}.{ext}").stat().st_size > 1000
            assert f"{stem}.{ext}" in summary["plots"]


def test_evaluate_refuses_a_weighting_of_the_wrong_length(synthetic: Path, tmp_path: Path) -> None:
    def short(events: list[Event]) -> list[np.ndarray]:
        return [np.ones(e.n_particles - 1) for e in events]

    out = tmp_path / "eval"
    with pytest.raises(QdistillError, match="weighting 'short' has shape"):
        evaluate(synthetic, out, extra_weightings={"short": short}, max_events=2, n_bootstrap=2)
    assert not (out / "summary.json").exists()


def test_evaluate_names_a_weighting_that_loses_the_event(synthetic: Path, tmp_path: Path) -> None:
    def almost_none(events: list[Event]) -> list[np.ndarray]:
        return [np.full(e.n_particles, 0.01) for e in events]

    summary = evaluate(
        synthetic, tmp_path / "eval", extra_weightings={"zero": almost_none}, n_bootstrap=5
    )
    assert summary["met_response_median"]["zero"] < -0.9  # MET ≈ 1 % of the visible imbalance
    assert list(summary["unphysical"]) == ["zero"]  # PUPPI, teacher and truth keep the event
    assert "median MET response -0.9" in summary["unphysical"]["zero"]
    assert any(w.startswith("zero loses the event") for w in summary["warnings"])
    assert "**Warning:** zero loses the event" in (tmp_path / "eval" / "summary.md").read_text()


def test_cli_evaluate_json_and_errors(synthetic: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["evaluate", "--data", str(synthetic), "-o", str(tmp_path / "e"), "--max-events", "3"]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["events"] == 3 and "teacher" in summary["jet_resolution"]
    bad = runner.invoke(app, ["evaluate", "--data", str(tmp_path / "none.h5"), "-o", str(tmp_path)])
    assert bad.exit_code == 1
    assert bad.stderr.strip().startswith("qdistill: error:") and "none.h5" in bad.stderr
    bad = runner.invoke(app, [*args, "--project", str(tmp_path)])
    assert bad.exit_code == 1 and "not a firmware project" in bad.stderr
    bad = runner.invoke(app, [*args, "--firmware-engine", "gpu"])
    assert bad.exit_code == 1 and "--firmware-engine 'gpu' is not one of emulator, csim" in (
        bad.stderr
    )


def test_evaluate_without_generator_particles_says_so(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    events = []
    for _ in range(3):
        e = synthetic_event(rng, n_pileup_particles=50)
        e.gen_p4, e.gen_pdg_id = np.zeros((0, 4), np.float32), np.zeros(0, np.int32)
        events.append(e)
    data = tmp_path / "nogen.h5"
    with atomic_path(data) as tmp, EventWriter(tmp) as w:
        w.write(events)
    summary = evaluate(data, tmp_path / "eval", n_bootstrap=5, make_plots=False)
    assert summary["met_resolution"] == {"puppi": None, "teacher": None, "truth": None}
    assert summary["jet_resolution"]["puppi"] is None
    assert len(summary["warnings"]) == 2 and "generator" in summary["warnings"][1]
    # strict JSON: no NaN
    json.loads((tmp_path / "eval" / "summary.json").read_text(), parse_constant=pytest.fail)
    assert summary["accuracy"]["puppi"] is not None
    assert summary["plots"] == [] and not list((tmp_path / "eval").glob("*.png"))
