"""`qdistill data import-delphes`: real Delphes output (coffea's test sample) and a small file
in the same branch layout with Phase-II-like pileup truth and vertices, written with uproot."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
import pytest
import uproot
from conftest import REPO
from typer.testing import CliRunner

from qdistill import features
from qdistill.cli import app
from qdistill.data.delphes import UNIQUE_ID_MASK, _resolve, import_delphes
from qdistill.data.info import data_info
from qdistill.data.layout import EventFile
from qdistill.errors import QdistillError

SAMPLES = REPO / "tests" / "fixtures" / "delphes"
SHA256 = {
    "delphes.root": "af2ea9ad3982751f6fec7b39b6be8a35dbae9a4244cfb56fbd35ae5b9d5bd7ea",
    "bad_delphes.root": "885dc7bd20ae8f56685296d9bb9435c01ee6f1c7e767487d29116eb29f32126a",
}
runner = CliRunner()


def _sample(name: str) -> Path:
    path = SAMPLES / name
    assert path.is_file(), f"{path} is missing: run `make test` or scripts/fetch_delphes_sample.py"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == SHA256[name], f"{path} changed"
    return path


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, Any]:
    out = tmp_path_factory.mktemp("delphes") / "delphes.h5"
    result = import_delphes([_sample("delphes.root")], out, step_size=10)  # 3 steps of 25 events
    branches = uproot.open(_sample("delphes.root"))["Delphes"].arrays(
        [
            "EFlowTrack.PT",
            "EFlowTrack.Eta",
            "EFlowTrack.DZ",
            "EFlowTrack.Charge",
            "EFlowTrack.PID",
            "EFlowTrack.Particle",
            "EFlowTrack_size",
            "EFlowPhoton_size",
            "EFlowPhoton.E",
            "EFlowNeutralHadron_size",
            "Particle.Status",
            "Particle.PID",
            "Particle.fUniqueID",
        ]
    )
    return out, result, branches


def test_real_delphes_candidates_match_the_size_branches(real: tuple[Path, Any, Any]) -> None:
    out, result, raw = real
    valid = (raw["EFlowTrack.PT"] > 0) & (abs(raw["EFlowTrack.Eta"]) < 100)
    expected = (
        ak.to_numpy(ak.sum(valid, axis=1))
        + ak.to_numpy(raw["EFlowPhoton_size"])
        + ak.to_numpy(raw["EFlowNeutralHadron_size"])
    )
    with EventFile(out) as events:
        assert events.n_events == result.events == 25
        assert np.array_equal(np.diff(events.offsets), expected)
        assert events.truth_available and events.attrs["truth_source"] == "Particle links"
        gen_counts = [len(events.event(k).gen_pdg_id) for k in range(25)]
    assert gen_counts == ak.to_list(ak.sum(raw["Particle.Status"] == 1, axis=1))
    # Delphes writes 14 tracks with PT = 0, η = 999.9 in these 25 events: dropped and counted
    assert result.dropped_invalid == {"EFlowTrack": 14, "EFlowPhoton": 0, "EFlowNeutralHadron": 0}
    assert int(ak.sum(~valid)) == 14


def test_real_delphes_feature_values(real: tuple[Path, Any, Any]) -> None:
    out, _, raw = real
    with EventFile(out) as events:
        first = events.event(0)
    keep = np.asarray((raw["EFlowTrack.PT"][0] > 0) & (abs(raw["EFlowTrack.Eta"][0]) < 100))
    n_tracks = int(keep.sum())
    pt = np.asarray(raw["EFlowTrack.PT"][0])[keep]
    f = first.features
    assert np.allclose(f[:n_tracks, features.LOG_PT], np.log(pt), rtol=1e-6)
    assert np.allclose(f[:n_tracks, features.ETA], np.asarray(raw["EFlowTrack.Eta"][0])[keep])
    assert np.allclose(f[:n_tracks, features.DZ], np.asarray(raw["EFlowTrack.DZ"][0])[keep])
    assert np.array_equal(f[:n_tracks, features.CHARGE], np.asarray(raw["EFlowTrack.Charge"][0]))
    photon_e = np.asarray(raw["EFlowPhoton.E"][0])
    photons = f[n_tracks : n_tracks + len(photon_e)]
    assert np.allclose(photons[:, features.LOG_E], np.log(photon_e), rtol=1e-6)
    assert (photons[:, features.INDEX["pid_photon"]] == 1).all()
    # no pileup in this sample: every candidate is from the hard collision; PUPPI computed
    assert (first.truth_fraction == 1.0).all() and first.n_pileup == 0
    assert ((f[:, features.PUPPI_WEIGHT] >= 0) & (f[:, features.PUPPI_WEIGHT] <= 1)).all()


def test_track_links_are_the_low_24_bits_of_the_particle_unique_id(
    real: tuple[Path, Any, Any],
) -> None:
    _, _, raw = real
    for k in (0, 7, 24):
        uid = np.asarray(raw["Particle.fUniqueID"][k], np.int64) & UNIQUE_ID_MASK
        refs = np.asarray(raw["EFlowTrack.Particle"][k]["ref"], np.int64)
        rows = _resolve(uid, refs, "test")
        # each track's generator particle has the track's PDG id
        assert np.array_equal(
            np.asarray(raw["Particle.PID"][k])[rows], np.asarray(raw["EFlowTrack.PID"][k])
        )
    with pytest.raises(QdistillError, match="1 references to Particle entries that are not"):
        _resolve(uid, np.array([uid.max() + 1]), "test")


def test_bad_and_foreign_files_fail_with_one_line(tmp_path: Path) -> None:
    out = tmp_path / "x.h5"
    for source, message in (
        (_sample("bad_delphes.root"), "no tree 'Delphes' (keys in the file: none)"),
        (REPO / "README.md", "not a ROOT file uproot can read"),
        (tmp_path / "absent.root", "no such file"),
    ):
        result = runner.invoke(app, ["data", "import-delphes", str(source), "-o", str(out)])
        assert result.exit_code == 1, result.output
        assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr
    result = runner.invoke(
        app, ["data", "import-delphes", str(_sample("delphes.root")), "--tree", "T", "-o", str(out)]
    )
    assert result.exit_code == 1 and "keys in the file: Delphes, ProcessID0" in result.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []


def _phase2_file(path: Path, *, puppi: bool = False, photons: bool = True) -> None:
    """Two events in Delphes' branch layout with IsPU on every candidate and a Vertex branch."""

    def coll(**leaves: list[list[float]]) -> ak.Array:
        return ak.zip({k: ak.Array(v) for k, v in leaves.items()})

    tracks = {
        "PT": [[10.0, 3.0, 25.0, 0.0], [4.0]],
        "Eta": [[0.1, 0.15, -1.0, 999.9], [2.0]],
        "Phi": [[0.2, 0.25, 1.0, 0.0], [-3.0]],
        "Charge": [[1, -1, -1, 1], [1]],
        "PID": [[211, -211, 11, 211], [-13]],
        "P": [[10.05, 3.03, 38.6, 0.0], [15.05]],
        "Mass": [[0.13957, 0.13957, 0.000511, 0.13957], [0.10566]],
        "D0": [[0.01, -0.2, 0.0, 0.0], [0.03]],
        "DZ": [[0.02, 12.0, -0.01, 0.0], [0.05]],
        "IsPU": [[0, 1, 0, 0], [0]],
    }
    towers = {
        "ET": [[5.0, 1.0], []],
        "E": [[5.1, 1.2], []],
        "Eta": [[0.12, 0.6], []],
        "Phi": [[0.22, -1.0], []],
        "IsPU": [[0, 1], []],
    }
    hadrons = {k: [[v[0][0]], [v[0][1]]] for k, v in towers.items()}
    if puppi:
        tracks["PuppiW"] = [[1.0, 0.0, 1.0, 0.0], [1.0]]
        towers["PuppiW"] = [[0.75, 0.125], []]
        hadrons["PuppiW"] = [[0.5], [0.25]]
    gen = {
        "PID": [[11, 211, 22], [-13]],
        "Status": [[1, 1, 2], [1]],
        "IsPU": [[0, 1, 0], [0]],
        "Px": [[25.0, 3.0, 1.0], [4.0]],
        "Py": [[0.0, 0.0, 0.0], [0.0]],
        "Pz": [[-29.0, 0.5, 0.0], [14.5]],
        "E": [[38.6, 3.1, 1.0], [15.05]],
        "PT": [[25.0, 3.0, 1.0], [4.0]],
        "fUniqueID": [[16777221, 16777222, 16777223], [16777221]],
    }
    data = {
        "EFlowTrack": coll(**tracks),
        "EFlowNeutralHadron": coll(**hadrons),
        "Particle": coll(**gen),
        "Vertex": coll(Z=[[1.5, -20.0, 33.0], [0.5]]),
    }
    if photons:
        data["EFlowPhoton"] = coll(**towers)
    with uproot.recreate(path) as f:
        f.mktree(
            "Delphes",
            {k: v.type.content for k, v in data.items()},
            counter_name=lambda name: f"{name}_size",
            field_name=lambda outer, inner: f"{outer}.{inner}",
        )
        f["Delphes"].extend(data)


def test_pileup_truth_vertices_and_computed_puppi(tmp_path: Path) -> None:
    source, out = tmp_path / "phase2.root", tmp_path / "phase2.h5"
    _phase2_file(source)
    result = import_delphes([source], out)
    assert result.truth_source == "IsPU" and result.vertices_available
    assert result.dropped_invalid["EFlowTrack"] == 1
    assert result.missing == [
        "PUPPI weights: computed by qdistill's PUPPI at import (the file's candidates carry no "
        "weight)"
    ]
    with EventFile(out) as events:
        first, second = events.event(0), events.event(1)
    assert (first.n_pileup, first.pv_z_mm) == (2, 1.5) and (second.n_pileup, second.pv_z_mm) == (
        0,
        0.5,
    )
    # 3 valid tracks, 2 photons, 1 neutral hadron; truth = 1 - IsPU
    assert first.truth_fraction.tolist() == [1, 0, 1, 1, 0, 1]
    f = first.features
    assert f[:, features.CHARGE].tolist() == [1, -1, -1, 0, 0, 0]
    assert features.pid_codes_from_one_hot(f[:, features.PID_SLICE]).tolist() == [
        211,
        -211,
        11,
        2,
        2,
        1,
    ]
    assert features.pid_codes_from_one_hot(second.features[:, features.PID_SLICE]).tolist() == [
        -13,  # μ+ (charge +1), then the event's neutral hadron
        1,
    ]
    # charged: the vertex association (truth here); the pileup track gets weight 0
    assert f[:3, features.PUPPI_WEIGHT].tolist() == [1.0, 0.0, 1.0]
    assert f[:, features.DZ].tolist()[:3] == pytest.approx([0.02, 12.0, -0.01])
    # generator particles: status 1 of the hard collision only (the pileup pion is left out)
    assert first.gen_pdg_id.tolist() == [11] and second.gen_pdg_id.tolist() == [-13]
    info = data_info(out)
    assert info["source_layout"] == "delphes" and info["pv_fraction"] < 1.0


def test_puppi_weights_from_a_named_leaf_and_missing_branches(tmp_path: Path) -> None:
    source = tmp_path / "phase2.root"
    _phase2_file(source, puppi=True)
    out = tmp_path / "p.h5"
    result = runner.invoke(
        app, ["data", "import-delphes", str(source), "-o", str(out), "--puppi-leaf", "PuppiW"]
    )
    assert result.exit_code == 0, result.output
    with EventFile(out) as events:
        weights = events.event(0).features[:, features.PUPPI_WEIGHT]
    assert weights.tolist() == [1.0, 0.0, 1.0, 0.75, 0.125, 0.5]
    no_photons = tmp_path / "nophotons.root"
    _phase2_file(no_photons, photons=False)
    with pytest.raises(
        QdistillError, match=r"lacks the branches EFlowPhoton_size, EFlowPhoton\.ET"
    ):
        import_delphes([no_photons], tmp_path / "q.h5")
    with pytest.raises(QdistillError, match="differ in which branches"):
        import_delphes([source, _sample("delphes.root")], tmp_path / "q.h5")
    assert not (tmp_path / "q.h5").exists()


def test_particle_flow_candidates_where_a_card_writes_only_those(tmp_path: Path) -> None:
    source, out = tmp_path / "pf.root", tmp_path / "pf.h5"
    pf = ak.zip(
        {
            "PT": ak.Array([[10.0, 3.0, 5.0, 2.0, 0.0]]),
            "Eta": ak.Array([[0.1, 0.2, 0.3, -2.0, 999.9]]),
            "Phi": ak.Array([[0.0, 1.0, 2.0, -1.0, 0.0]]),
            "E": ak.Array([[10.1, 3.1, 5.2, 7.6, 0.0]]),
            "Charge": ak.Array([[1, -1, 0, 0, 1]]),
            "PID": ak.Array([[211, 13, 22, 130, 211]]),
            "D0": ak.Array([[0.01, 0.02, 0.5, 0.5, 0.0]]),
            "DZ": ak.Array([[0.1, -3.0, 0.5, 0.5, 0.0]]),
            "IsPU": ak.Array([[0, 1, 0, 1, 0]]),
        }
    )
    with uproot.recreate(source) as f:
        f.mktree(
            "Delphes",
            {"ParticleFlowCandidate": pf.type.content},
            counter_name=lambda name: f"{name}_size",
            field_name=lambda outer, inner: f"{outer}.{inner}",
        )
        f["Delphes"].extend({"ParticleFlowCandidate": pf})
    result = import_delphes([source], out)
    assert result.dropped_invalid == {"ParticleFlowCandidate": 1}
    assert result.truth_source == "IsPU" and not result.gen_available
    with EventFile(out) as events:
        event = events.event(0)
    codes = features.pid_codes_from_one_hot(event.features[:, features.PID_SLICE])
    assert codes.tolist() == [211, 13, 2, 1]  # μ− (charge −1), a photon, a neutral hadron (K0L)
    assert event.features[:, features.DZ].tolist() == pytest.approx([0.1, -3.0, 0.0, 0.0])
    assert event.truth_fraction.tolist() == [1, 0, 1, 0]
    assert any(m.startswith("generator particles") for m in result.missing)
