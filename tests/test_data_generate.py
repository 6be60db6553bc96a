"""Event generation end to end on tiny runs: determinism, workers, layout, info."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from qdistill import features
from qdistill.data.generate import (
    PileupPool,
    generate_events,
    pool_size_for,
    vertex_z_mm,
)
from qdistill.data.generator import GenParticles
from qdistill.data.info import data_info
from qdistill.data.layout import EventFile
from qdistill.data.puppi import neutral_pt_cut_gev
from qdistill.metrics import roc_auc

SEED = 11


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gen") / "tiny.h5"
    generate_events("ttbar", 3, 8, SEED, out, workers=1, progress=False)
    return out


def _arrays(path: Path) -> dict[str, np.ndarray]:
    out = {}
    with h5py.File(path, "r") as f:
        f.visititems(
            lambda name, obj: (
                out.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None
            )
        )
    return out


def test_same_seed_same_file_whatever_the_workers(tiny: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.h5"
    two = tmp_path / "two.h5"
    generate_events("ttbar", 3, 8, SEED, again, workers=1, progress=False)
    generate_events("ttbar", 3, 8, SEED, two, workers=2, progress=False)
    a, b, c = _arrays(tiny), _arrays(again), _arrays(two)
    assert a.keys() == b.keys() == c.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
        np.testing.assert_array_equal(a[key], c[key], err_msg=key)
    other = tmp_path / "other.h5"
    generate_events("ttbar", 3, 8, SEED + 1, other, workers=1, progress=False)
    assert not np.array_equal(_arrays(other)["events/n_particles"], a["events/n_particles"])


def test_generated_events_are_physical(tiny: Path) -> None:
    with EventFile(tiny) as f:
        assert f.n_events == 3 and f.truth_available
        attrs = f.attrs
        assert attrs["process"] == "ttbar" and attrs["seed"] == SEED
        events = list(f.iter_events())
    for ev in events:
        x = ev.features
        assert np.isfinite(x).all()
        charged = x[:, features.CHARGE] != 0
        # Charged candidates: truth 0/1 and PUPPI 0/1; pileup tracks sit at their vertex's dz.
        assert set(np.unique(ev.truth_fraction[charged])) <= {0.0, 1.0}
        assert set(np.unique(x[charged, features.PUPPI_WEIGHT])) <= {0.0, 1.0}
        assert np.all((ev.truth_fraction >= 0) & (ev.truth_fraction <= 1))
        pid = features.pid_codes_from_one_hot(x[:, features.PID_SLICE])
        assert set(np.unique(pid[~charged])) <= {1, 2}
        assert np.all(np.abs(x[:, features.ETA]) < 5) and np.all(
            np.abs(x[:, features.PHI]) <= np.pi
        )
        pt = np.hypot(ev.p4[:, 0], ev.p4[:, 1])
        np.testing.assert_allclose(np.log(pt), x[:, features.LOG_PT], atol=1e-4)
        np.testing.assert_allclose(np.log(ev.p4[:, 3]), x[:, features.LOG_E], atol=1e-4)
        # Generator particles of the hard collision: neutrinos included (dileptonic tt̄).
        assert np.isin(np.abs(ev.gen_pdg_id), [12, 14, 16]).sum() >= 2
        assert ev.n_pileup >= 0 and abs(ev.pv_z_mm) <= 250
        pv_tracks = charged & (ev.truth_fraction == 1)
        assert np.median(np.abs(x[pv_tracks, features.DZ])) < 0.5  # mm


def test_info_on_tiny_file(tiny: Path) -> None:
    info = data_info(tiny)
    assert info["events"] == 3
    assert info["features"] == list(features.FEATURE_NAMES)
    with EventFile(tiny) as f:
        n = np.diff(f.offsets)
        truth = f.particles("truth_fraction")
        energy = f.particles("p4")[:, 3].astype(np.float64)
    assert info["particles"] == int(n.sum())
    assert info["mean_particles_per_event"] == pytest.approx(n.mean())
    assert info["max_particles_per_event"] == int(n.max())
    assert info["pv_fraction"] == pytest.approx((truth * energy).sum() / energy.sum(), rel=1e-6)
    assert info["puppi_auc_neutral"] is None or 0 <= info["puppi_auc_neutral"] <= 1
    # the above-cut AUC is that of the neutrals above PUPPI's cut of their region and event
    cut = []
    with EventFile(tiny) as f:
        for ev in f.iter_events():
            neutral = ev.features[:, features.CHARGE] == 0
            eta, pt = ev.features[neutral, features.ETA], features.pt_gev(ev.features[neutral])
            keep = pt > neutral_pt_cut_gev(eta, ev.n_pileup + 1)
            cut.append((ev.truth_fraction[neutral][keep], ev.features[neutral][keep]))
    t = np.concatenate([c[0] for c in cut])
    w = np.concatenate([c[1][:, features.PUPPI_WEIGHT] for c in cut])
    assert info["puppi_auc_neutral_above_cut"] == pytest.approx(roc_auc(t, w))


def test_pool_overlay_rotates_reflects_and_shifts() -> None:
    one = GenParticles(
        pdg_id=np.array([211, 22], np.int32),
        charge=np.array([1.0, 0.0]),
        p4=np.array([[1.0, 0.0, 2.0, 2.3], [0.0, 3.0, -1.0, 3.2]]),
        d0_mm=np.array([0.01, 0.0]),
        z0_mm=np.array([0.5, 0.0]),
    )
    pool = PileupPool.from_collisions([one, one])
    out = pool.overlay(np.array([1, 0]), np.array([np.pi / 2, 0.0]), np.array([True, False]),
                       np.array([10.0, -3.0]))  # fmt: skip
    np.testing.assert_allclose(out.p4[0], [0.0, 1.0, -2.0, 2.3], atol=1e-12)
    np.testing.assert_allclose(out.p4[2], one.p4[0])
    np.testing.assert_allclose(out.dz_mm, [10.0 - 0.5, 10.0, -3.0 + 0.5, -3.0])
    assert not out.from_pv.any()


def test_vertex_z_and_pool_size() -> None:
    z = vertex_z_mm(np.random.default_rng(0), 20000)
    assert np.abs(z).max() <= 250 and np.std(z) == pytest.approx(53, rel=0.03)
    assert pool_size_for(3, 8) == 16 and pool_size_for(50, 140) == 438
    assert pool_size_for(10_000, 140) == 2000 and pool_size_for(5, 0) == 0


def test_interrupted_run_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from qdistill.data import generate

    real = generate.simulate_event

    def flaky(index: int, *args: object, **kwargs: object) -> object:
        if index == 2:
            raise KeyboardInterrupt
        return real(index, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(generate, "simulate_event", flaky)
    out = tmp_path / "half.h5"
    with pytest.raises(KeyboardInterrupt):
        generate_events("wjets", 3, 2, SEED, out, workers=1, progress=False)
    assert list(tmp_path.iterdir()) == []
