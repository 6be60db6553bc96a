"""DistillNet import on a hand-written file, and the data commands' errors through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest
from typer.testing import CliRunner

from qdistill import features
from qdistill.cli import app
from qdistill.data.distillnet import NO_TRUTH, import_distillnet
from qdistill.data.info import data_info
from qdistill.data.layout import Event, EventFile, EventWriter

runner = CliRunner()


def _write_distillnet(path: Path, nan: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """3 events padded to 4 particles; event 1 has 2 real particles, event 2 none."""
    x = np.zeros((16, 3, 4), dtype=np.float32)
    # rows: px, py, pz, E, d0, dz, puppi, charge, 8 PID one-hot
    real = {(0, 0), (0, 1), (0, 2), (1, 0), (1, 1)}
    rng = np.random.default_rng(5)
    for e, p in real:
        px, py, pz = rng.normal(0, 5, 3)
        x[0:3, e, p] = px, py, pz
        x[3, e, p] = np.sqrt(px * px + py * py + pz * pz)
        x[4, e, p], x[5, e, p] = 0.01 * (p + 1), -0.2 * (p + 1)
        x[6, e, p] = 0.25 * p
        pid = [211, 2, -11][p]
        x[7, e, p] = {211: 1, 2: 0, -11: 1}[pid]
        x[8:16, e, p] = features.pid_one_hot([pid])[0]
    teacher = np.zeros((6, 3, 4), dtype=np.float32)
    teacher[4] = rng.uniform(size=(3, 4))
    if nan:
        x[0, 1, 1] = np.nan
    with h5py.File(path, "w") as f:
        f["distill_inputs_default"] = x
        f["data_abc"] = teacher
    return x, teacher


def test_import_distillnet(tmp_path: Path) -> None:
    src, out = tmp_path / "distill.h5", tmp_path / "ours.h5"
    x, teacher = _write_distillnet(src)
    import_distillnet(src, out, progress=False)
    with EventFile(out) as f:
        assert np.diff(f.offsets).tolist() == [3, 2, 0]
        assert not f.truth_available and f.has_soft_labels
        feats = f.particles("features")
        labels = f.particles("soft_label")
        truth = f.particles("truth_fraction")
        p4 = f.particles("p4")
        assert f.h5["gen/p4"].shape == (0, 4)
    np.testing.assert_allclose(labels, np.concatenate([teacher[4, 0, :3], teacher[4, 1, :2]]))
    assert np.all(truth == NO_TRUTH)
    px, py, pz, e = x[0, 0, 1], x[1, 0, 1], x[2, 0, 1], x[3, 0, 1]
    pt = np.hypot(px, py)
    row = feats[1]
    assert row[features.ETA] == pytest.approx(np.arcsinh(pz / pt), rel=1e-5)
    assert row[features.PHI] == pytest.approx(np.arctan2(py, px), rel=1e-5)
    assert row[features.LOG_PT] == pytest.approx(np.log(pt), rel=1e-5)
    assert row[features.LOG_E] == pytest.approx(np.log(e), rel=1e-5)
    assert row[features.PUPPI_WEIGHT] == pytest.approx(0.25)
    assert row[features.D0] == pytest.approx(0.02) and row[features.DZ] == pytest.approx(-0.4)
    np.testing.assert_array_equal(
        features.pid_codes_from_one_hot(feats[:, features.PID_SLICE]), [211, 2, -11, 211, 2]
    )
    np.testing.assert_allclose(p4[1], [px, py, pz, e], rtol=1e-6)
    info = data_info(out)
    assert info["truth_available"] is False
    assert info["pv_fraction"] is None and info["puppi_auc_neutral"] is None
    assert info["has_soft_labels"] is True and info["particles"] == 5


def _error_line(result) -> str:  # type: ignore[no-untyped-def]
    assert result.exit_code != 0, result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("qdistill: error: "), lines[0]
    return lines[0]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--process", "zjets"], "unknown process 'zjets'"),
        (["--pileup", "-1"], "--pileup"),
        (["--events", "0"], "--events"),
        (["--workers", "0"], "--workers"),
        (["--seed", "-3"], "--seed"),
    ],
)
def test_generate_rejects_bad_arguments(tmp_path: Path, args: list[str], needle: str) -> None:
    out = tmp_path / "x.h5"
    result = runner.invoke(app, ["data", "generate", "-o", str(out), "--events", "1", *args])
    assert needle in _error_line(result)
    assert not out.exists()


def test_info_errors(tmp_path: Path) -> None:
    assert "no such file" in _error_line(
        runner.invoke(app, ["data", "info", str(tmp_path / "no.h5")])
    )
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["x"] = np.zeros(3)
    assert "not a qdistill event file" in _error_line(
        runner.invoke(app, ["data", "info", str(other)])
    )
    bad = tmp_path / "nan.h5"
    feats = np.zeros((2, 16), np.float32)
    feats[1, 3] = np.nan
    with EventWriter(bad) as w:
        w.write([Event(feats, np.ones((2, 4), np.float32), np.ones(2, np.float32),
                       np.zeros((0, 4), np.float32), np.zeros(0, np.int32))])  # fmt: skip
    assert "NaN" in _error_line(runner.invoke(app, ["data", "info", str(bad)]))


def test_import_errors(tmp_path: Path) -> None:
    out = tmp_path / "o.h5"
    missing = runner.invoke(
        app, ["data", "import-distillnet", str(tmp_path / "no.h5"), "-o", str(out)]
    )
    assert "no such file" in _error_line(missing)
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["x"] = np.zeros(3)
    wrong = runner.invoke(app, ["data", "import-distillnet", str(other), "-o", str(out)])
    assert "not a DistillNet dataset" in _error_line(wrong)
    nan_src = tmp_path / "nan.h5"
    _write_distillnet(nan_src, nan=True)
    nan = runner.invoke(app, ["data", "import-distillnet", str(nan_src), "-o", str(out), "--quiet"])
    assert "NaN" in _error_line(nan)
    assert (
        not out.exists()
        and [p.name for p in tmp_path.iterdir() if p.name.startswith(".o.h5")] == []
    )


def test_info_json_and_import_cli(tmp_path: Path) -> None:
    src, out = tmp_path / "distill.h5", tmp_path / "ours.h5"
    _write_distillnet(src)
    result = runner.invoke(app, ["data", "import-distillnet", str(src), "-o", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["data", "info", str(out), "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["events"] == 3 and info["features"] == list(features.FEATURE_NAMES)


def _p4(pt: float, eta: float, phi: float) -> np.ndarray:
    """Massless px, py, pz, E (GeV)."""
    return np.array([pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta), pt * np.cosh(eta)])


def _write_public_layout(path: Path) -> dict[str, np.ndarray]:
    """3 events in the public layout with data_gen, data_puppi and data_nopu, zero-padded.

    Each event: a hard photon of 40 GeV at (η 0.3, φ 0.5) matched by a 38 GeV generator
    particle, two soft pions elsewhere; event 1's second pion has a data_puppi weight that
    differs from its input row 6.
    """
    events, slots = 3, 6
    x = np.zeros((16, events, slots), np.float32)
    teacher = np.zeros((5, events, slots), np.float32)
    puppi = np.zeros((5, events, slots), np.float32)
    gen = np.zeros((4, events, 5), np.float32)
    nopu = np.zeros((4, events, 7), np.float32)
    for e in range(events):
        cands = [(40.0 + e, 0.3, 0.5, 1), (3.0, -2.0, 2.5, 211), (2.0 + e, 3.5, -2.0, -211)]
        for p, (pt, eta, phi, pid) in enumerate(cands):
            x[0:4, e, p] = _p4(pt, eta, phi)
            x[6, e, p] = [0.9, 0.4, 0.1][p]
            x[7, e, p] = 0 if pid == 1 else np.sign(pid)
            x[8:16, e, p] = features.pid_one_hot([pid])[0]
            teacher[4, e, p] = [0.95, 0.7, 0.2][p]
        for p, (pt, eta, phi) in enumerate([(38.0, 0.32, 0.52), (5.0, -1.0, -2.5)]):
            gen[:, e, p] = _p4(pt, eta, phi)
        for p, (pt, eta, phi) in enumerate([(37.0, 0.3, 0.5), (2.5, -2.0, 2.5), (1.0, 2.7, 0.0)]):
            nopu[:, e, p] = _p4(pt, eta, phi)
    puppi[:4], puppi[4] = x[:4], x[6]
    puppi[4, 1, 2] = 0.3
    with h5py.File(path, "w") as f:
        f["distill_inputs_default"] = x
        f["data_abc"] = teacher
        f["data_puppi"] = puppi
        f["data_gen"] = gen
        f["data_nopu"] = nopu
    return {"x": x, "teacher": teacher, "puppi": puppi, "gen": gen, "nopu": nopu}


def test_public_layout_keeps_gen_puppi_nopu_and_is_evaluated(tmp_path: Path) -> None:
    from qdistill.physics.evaluate import evaluate

    src, out = tmp_path / "public.h5", tmp_path / "ours.h5"
    raw = _write_public_layout(src)
    import_distillnet(src, out, progress=False)
    with EventFile(out) as f:
        assert f.has_nopu and not f.truth_available
        assert np.diff(f.gen_offsets).tolist() == [2, 2, 2]
        assert np.diff(f.nopu_offsets).tolist() == [3, 3, 3]
        event = f.event(2)
        np.testing.assert_allclose(event.gen_p4, raw["gen"][:, 2, :2].T, rtol=1e-6)
        np.testing.assert_allclose(event.nopu_p4, raw["nopu"][:, 2, :3].T, rtol=1e-6)
        assert event.gen_pdg_id.tolist() == [0, 0]
        attrs = f.attrs
    assert attrs["puppi_weight_mismatches"] == 1 and attrs["gen_available"]
    assert list(attrs["missing"]) == ["per-candidate truth: the layout has none; truth_fraction -1"]

    summary = evaluate(out, tmp_path / "eval", n_bootstrap=4)
    assert summary["weightings"] == ["puppi", "teacher"]
    assert "truth" in summary["skipped"] and summary["primary_reference"] == "nopu"
    assert summary["gen_jets"] == 3
    assert "weights.png" not in summary["plots"] and "pt_ratio_eta_phi.png" in summary["plots"]
    # by hand, the reference code's way: MET |sum w pT|, generator MET |sum pT| of data_gen
    x, gen, nopu = (raw[k].astype(np.float64) for k in ("x", "gen", "nopu"))
    nopu_pt = np.hypot(nopu[0], nopu[1])
    nopu_central = nopu_pt[np.abs(np.arcsinh(nopu[2] / np.maximum(nopu_pt, 1e-12))) < 1.5].sum()
    for name, w in (("puppi", x[6]), ("teacher", raw["teacher"][4].astype(np.float64))):
        met = np.hypot((w * x[0]).sum(axis=1), (w * x[1]).sum(axis=1))
        met_gen = np.hypot(gen[0].sum(axis=1), gen[1].sum(axis=1))
        assert summary["met_response_median"][name] == pytest.approx(
            np.median((met - met_gen) / met_gen), rel=1e-5
        )
        # one jet pair an event: the weighted photon against the 38 GeV generator particle
        jet_e = w[0, 0] * x[3, :, 0]
        gen_e = gen[3, :, 0]
        assert summary["jet_response_median"][name] == pytest.approx(
            np.median((jet_e - gen_e) / gen_e), rel=1e-5
        )
        # |eta| < 1.5: the photon over the 37 GeV no-pileup deposit, 3 events
        central = summary["by_eta_region"][0]["weighted_over_primary_pt"][name]
        assert nopu_central == pytest.approx(3 * 37.0, rel=1e-6)
        assert central == pytest.approx(w[0, 0] * (40 + 41 + 42) / nopu_central, rel=1e-5)
        forward = summary["by_eta_region"][3]["weighted_over_primary_pt"][name]  # 3 < |eta| < 4
        assert forward is None  # no no-pileup pT there
