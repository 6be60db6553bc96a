"""Foundation: feature definitions, devices, atomic writes, the event-file layout, the CLI shell."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from qdistill import features
from qdistill.atomic import atomic_path
from qdistill.cli import app
from qdistill.data.layout import Event, EventFile, EventWriter, write_soft_labels
from qdistill.devices import clock_period_ns, get_device
from qdistill.errors import QdistillError


def test_sixteen_features_in_paper_order() -> None:
    assert features.N_FEATURES == 16
    assert features.FEATURE_NAMES[:6] == (
        "eta",
        "phi",
        "log_pt",
        "log_e",
        "charge",
        "puppi_weight",
    )
    assert features.FEATURE_NAMES[-2:] == ("d0", "dz")
    assert (features.PID_SLICE.start, features.PID_SLICE.stop) == (6, 14)


def test_pid_one_hot_roundtrip_and_unknown_code() -> None:
    codes = np.array([211, 2, 1, -11, 13])
    one_hot = features.pid_one_hot(codes)
    assert one_hot.shape == (5, 8)
    assert one_hot.sum(axis=1).tolist() == [1, 1, 1, 1, 1]
    assert one_hot[0, 7] == 1 and one_hot[1, 4] == 1
    np.testing.assert_array_equal(features.pid_codes_from_one_hot(one_hot), codes)
    with pytest.raises(ValueError, match="unknown PID code 22"):
        features.pid_one_hot([22])


def test_devices_and_clock() -> None:
    vu13p = get_device("xcvu13p-flga2577-2-e")
    assert vu13p.luts == 1_728_000 and vu13p.dsps == 12_288 and vu13p.bram_18k == 5_376
    assert clock_period_ns(240) == pytest.approx(4.1667, abs=1e-4)
    with pytest.raises(QdistillError, match="known parts"):
        get_device("xc7a35t")
    with pytest.raises(QdistillError, match="MHz"):
        clock_period_ns(0)


def test_atomic_path_leaves_nothing_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("interrupted")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []
    with atomic_path(target) as tmp:
        tmp.write_text("whole")
    assert target.read_text() == "whole"


def _event(n: int, m: int, seed: int) -> Event:
    rng = np.random.default_rng(seed)
    return Event(
        features=rng.normal(size=(n, 16)).astype(np.float32),
        p4=rng.normal(size=(n, 4)).astype(np.float32),
        truth_fraction=rng.uniform(size=n).astype(np.float32),
        gen_p4=rng.normal(size=(m, 4)).astype(np.float32),
        gen_pdg_id=rng.integers(-20, 20, size=m).astype(np.int32),
        n_pileup=n // 2,
        pv_z_mm=float(seed),
    )


def test_event_file_roundtrip_and_soft_labels(tmp_path: Path) -> None:
    events = [_event(5, 3, 0), _event(0, 1, 1), _event(7, 2, 2)]
    path = tmp_path / "ev.h5"
    with atomic_path(path) as tmp, EventWriter(tmp, attrs={"process": "ttbar"}) as writer:
        writer.write(events[:2])
        writer.write(events[2:])
    with EventFile(path) as f:
        assert f.n_events == 3 and f.n_particles == 12
        assert f.attrs["process"] == "ttbar"
        back = list(f.iter_events(block=2))
        assert not f.has_soft_labels
    for a, b in zip(events, back, strict=True):
        np.testing.assert_array_equal(a.features, b.features)
        np.testing.assert_array_equal(a.gen_pdg_id, b.gen_pdg_id)
        assert a.pv_z_mm == b.pv_z_mm and a.n_pileup == b.n_pileup
    labels = np.linspace(0, 1, 12, dtype=np.float32)
    write_soft_labels(path, labels)
    with EventFile(path) as f:
        np.testing.assert_array_equal(f.particles("soft_label"), labels)
        np.testing.assert_array_equal(f.event(2).soft_label, labels[5:])
    with pytest.raises(QdistillError, match="11 soft labels for 12"):
        write_soft_labels(path, labels[:11])


def test_event_file_rejects_missing_and_foreign_files(tmp_path: Path) -> None:
    with pytest.raises(QdistillError, match="no such file"):
        EventFile(tmp_path / "missing.h5")
    (tmp_path / "text.h5").write_text("not hdf5")
    with pytest.raises(QdistillError, match="not an HDF5 file"):
        EventFile(tmp_path / "text.h5")
    import h5py

    with h5py.File(tmp_path / "other.h5", "w") as f:
        f["x"] = [1, 2]
    with pytest.raises(QdistillError, match="not a qdistill event file"):
        EventFile(tmp_path / "other.h5")


def test_cli_help_lists_stages() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "data" in result.output and "teacher" in result.output


def test_pt_gev_undoes_the_natural_log_of_the_pt_column() -> None:
    rows = np.zeros((2, features.N_FEATURES), np.float32)
    rows[:, features.LOG_PT] = np.log([5.0, 0.25])
    assert np.allclose(features.pt_gev(rows), [5.0, 0.25])


def test_suite_reads_no_folder_outside_the_repository() -> None:
    repo = Path(__file__).resolve().parents[1]
    escapes = ("parents[2]", "parents[3]", "../")  # ways a path climbs out of the clone
    me = Path(__file__).resolve()
    offenders = [
        str(path.relative_to(repo))
        for path in [*repo.joinpath("tests").rglob("*.py"), *repo.joinpath(".ci").iterdir()]
        if path.is_file() and path != me and any(e in path.read_text() for e in escapes)
    ]
    assert offenders == []
    from conftest import REPORT_FIXTURES

    assert REPORT_FIXTURES.is_relative_to(repo) and (REPORT_FIXTURES / "MANIFEST.md").is_file()
