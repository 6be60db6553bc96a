"""The design-space scan: grid checks, the Pareto front, and a 2-point scan on a real Dask
LocalCluster that a rerun does not repeat."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qdistill import manifest
from qdistill.cli import app
from qdistill.errors import QdistillError
from qdistill.physics.synthetic import write_synthetic_file
from qdistill.physics.weightings import FIRMWARE_WEIGHTING
from qdistill.scan.grid import ScanGrid
from qdistill.scan.point import SUMMARY_FIGURES, PointSettings, read_result, result_path
from qdistill.scan.run import on_front, pareto_front, run_scan


def _grid(**changes: object) -> ScanGrid:
    values: dict[str, object] = {
        "weight_bits": (4, 6),
        "activation_bits": (6,),
        "input_bits": (10,),
        "sparsity": (0.5,),
        "hidden": ((8, 4),),
    }
    values.update(changes)
    return ScanGrid(**values)  # type: ignore[arg-type]


def test_grid_points_and_their_checks() -> None:
    points = _grid(activation_bits=(6, 8)).points()
    assert [p.name for p in points] == [
        "w4_a6_i10_s50_h8-4",
        "w4_a8_i10_s50_h8-4",
        "w6_a6_i10_s50_h8-4",
        "w6_a8_i10_s50_h8-4",
    ]
    with pytest.raises(QdistillError, match="--weight-bits: the grid needs at least one value"):
        _grid(weight_bits=()).points()
    with pytest.raises(QdistillError, match="--weight-bits 1 must be between 2 and 16"):
        _grid(weight_bits=(1, 4)).points()
    with pytest.raises(QdistillError, match="--activation-bits 17 must be between 2 and 16"):
        _grid(activation_bits=(17,)).points()
    with pytest.raises(QdistillError, match=r"--sparsity 1.0 must be in \[0, 1\)"):
        _grid(sparsity=(1.0,)).points()
    with pytest.raises(QdistillError, match="lists a value twice"):
        _grid(weight_bits=(4, 4)).points()


def test_pareto_front_keeps_only_undominated_points() -> None:
    rows = [
        {"luts_da4ml": 100.0, "jet_resolution": 0.10},
        {"luts_da4ml": 200.0, "jet_resolution": 0.08},
        {"luts_da4ml": 250.0, "jet_resolution": 0.09},  # dominated by the second
        {"luts_da4ml": 50.0, "jet_resolution": None},  # not evaluated: never on the front
        {"luts_da4ml": 400.0, "jet_resolution": 0.07},
    ]
    assert pareto_front(rows, "jet_resolution") == [0, 1, 4]
    # a point that loses the event (e.g. MET ≈ 0 always) is no figure of merit, however small
    rows[0]["unphysical"] = "median MET response -0.99 < -0.5"
    assert pareto_front(rows, "jet_resolution") == [1, 4]


def test_a_version_1_result_is_upgraded_from_its_physics_summary(tmp_path: Path) -> None:
    point = _grid().points()[0]
    path = result_path(tmp_path, point)
    (path.parent / "physics").mkdir(parents=True)
    figures = {"puppi": 0.1, FIRMWARE_WEIGHTING: 0.2}
    summary = {key: dict(figures) for key in SUMMARY_FIGURES}
    summary["met_response_median"] = {"puppi": 0.16, FIRMWARE_WEIGHTING: -0.99}
    summary.update(events=3, gen_jets=7, weightings=["puppi", FIRMWARE_WEIGHTING])
    (path.parent / "physics" / "summary.json").write_text(json.dumps(summary))
    old = manifest.tagged("scan_point", 1, {"point": point.to_json(), "physics": {}})
    path.write_text(json.dumps(old))
    result = read_result(path)
    assert result["format_version"] == 2 and result["point"]["name"] == point.name
    assert result["physics"]["met_response_median"] == -0.99
    assert result["physics"]["jet_matching_efficiency"] == 0.2
    assert result["physics"]["unphysical"] == "median MET response -0.99 < -0.5"
    assert json.loads(path.read_text())["format_version"] == 2  # rewritten once


def test_bad_input_fails_before_any_work(tmp_path: Path) -> None:
    runner = CliRunner()
    events = tmp_path / "events.h5"
    write_synthetic_file(events, n_events=2, seed=1)
    args = ["scan", "--data", str(events), "--validation-data", str(events)]
    for extra, message in (
        (["--input-bits", "20"], "--input-bits 20 must be between 6 and 16"),
        (["--sparsity", "0.5,x"], "--sparsity '0.5,x': give comma-separated numbers"),
        (["--weight-bits", ""], "--weight-bits: the grid needs at least one value"),
    ):
        result = runner.invoke(app, [*args, "-o", str(tmp_path / "scan"), *extra])
        assert result.exit_code == 1 and len(result.stderr.strip().splitlines()) == 1
        assert result.stderr.startswith(f"qdistill: error: {message}")
    unlabelled = tmp_path / "unlabelled.h5"
    write_synthetic_file(unlabelled, n_events=2, seed=2, soft_labels=False)
    result = runner.invoke(
        app, ["scan", "--data", str(unlabelled), "--validation-data", str(events), "-o", "x"]
    )
    assert result.exit_code == 1 and "qdistill teacher label" in result.stderr
    settings = PointSettings(data=events, validation_data=events)
    with pytest.raises(QdistillError, match=r"--scheduler tcp://127\.0\.0\.1:9: no Dask scheduler"):
        run_scan(_grid(), settings, tmp_path / "scan", scheduler="tcp://127.0.0.1:9")
    assert not (tmp_path / "scan").exists()


@pytest.mark.slow
def test_points_of_other_settings_are_not_mixed_into_a_scan(tmp_path: Path) -> None:
    events = tmp_path / "events.h5"
    write_synthetic_file(events, n_events=2, seed=1)
    grid = _grid(weight_bits=(4,))
    settings = PointSettings(data=events, validation_data=events)
    assert settings.high_target_weight == 3.0  # the reference code's weightedlossval
    path = result_path(tmp_path / "scan", grid.points()[0])
    path.parent.mkdir(parents=True)
    older = {**settings.to_json(), "high_target_weight": None, "threads": 2}  # trained with auto
    done = manifest.tagged("scan_point", 2, {"point": {}, "physics": {}, "settings": older})
    path.write_text(json.dumps(done))
    with pytest.raises(QdistillError, match=r"high_target_weight None there, 3\.0 now"):
        run_scan(grid, settings, tmp_path / "scan")


def test_two_point_scan_on_a_local_dask_cluster_and_its_rerun(tmp_path: Path) -> None:
    from qdistill.firmware.project import compiler_available

    if not compiler_available():
        pytest.skip("no g++ for hls4ml's C simulation")
    train, test = tmp_path / "train.h5", tmp_path / "test.h5"
    write_synthetic_file(train, n_events=8, seed=31)
    write_synthetic_file(test, n_events=4, seed=32)
    settings = PointSettings(
        data=train, validation_data=test, epochs=1, golden_particles=256, n_bootstrap=10
    )
    out = tmp_path / "scan"
    first = run_scan(_grid(), settings, out, workers=2)
    assert sorted(first.computed) == ["w4_a6_i10_s50_h8-4", "w6_a6_i10_s50_h8-4"]
    assert first.failed == {} and first.reused == []
    for point in _grid().points():
        result = json.loads(result_path(out, point).read_text())
        assert result["format"] == "qdistill.scan_point"
        firmware = result["firmware"]
        assert firmware["golden_exact_emulator_vs_csim"] == firmware["golden_particles"] == 256
        assert firmware["input_type"].startswith("ap_fixed<10,5")
        assert firmware["luts_da4ml"] > 0 and firmware["latency_cycles_da4ml"] >= 2
        assert result["physics"]["jet_resolution"] is not None
    rows = {r["point"]: r for r in first.rows}
    # narrower weights cost fewer LUTs in da4ml's estimate
    assert rows["w4_a6_i10_s50_h8-4"]["luts_da4ml"] < rows["w6_a6_i10_s50_h8-4"]["luts_da4ml"]
    scan = json.loads((out / "scan.json").read_text())
    assert scan["format"] == "qdistill.scan" and len(scan["points"]) == 2
    csv_lines = (out / "scan.csv").read_text().splitlines()
    assert csv_lines[0].startswith("point,weight_bits,activation_bits,input_bits,sparsity,hidden")
    assert len(csv_lines) == 3 and (out / "pareto.png").is_file()
    stamps = {p.name: result_path(out, p).stat().st_mtime_ns for p in _grid().points()}
    again = run_scan(_grid(), settings, out, workers=2)
    assert again.computed == [] and sorted(again.reused) == sorted(stamps)
    assert {p.name: result_path(out, p).stat().st_mtime_ns for p in _grid().points()} == stamps
    assert [r["luts_da4ml"] for r in again.rows] == [r["luts_da4ml"] for r in first.rows]
    # --yosys-pareto: RTL (Verilator against the golden outputs) and Yosys on the front only
    front = sorted(r["point"] for r in again.rows if on_front(r))
    synthesised = run_scan(_grid(), settings, out, workers=1, yosys_pareto=True)
    assert synthesised.computed == [] and sorted(synthesised.synthesised) == front
    for row in synthesised.rows:
        if row["point"] in front:
            assert row["rtl_golden_exact_verilator"] == row["rtl_golden_particles"] == 256
            assert row["luts_yosys"] > 0
        else:
            assert row["luts_yosys"] is None
    assert run_scan(_grid(), settings, out, yosys_pareto=True).synthesised == []


def test_yosys_pareto_without_yosys_fails_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import qdistill.synth.yosys as yosys

    def missing() -> None:
        raise QdistillError("Yosys was not found on PATH nor as a Python package")

    monkeypatch.setattr(yosys, "find_yosys", missing)
    events = tmp_path / "events.h5"
    write_synthetic_file(events, n_events=2, seed=1)
    settings = PointSettings(data=events, validation_data=events)
    with pytest.raises(QdistillError, match=r"^--yosys-pareto: Yosys was not found"):
        run_scan(_grid(), settings, tmp_path / "scan", yosys_pareto=True)
    assert not (tmp_path / "scan").exists()
