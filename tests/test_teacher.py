"""Teacher: the kNN graph, the edge convolution, training, metrics, soft labels and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from qdistill import features as F  # noqa: N812 (short name for many column indices)
from qdistill.atomic import atomic_path
from qdistill.data.layout import Event, EventFile, EventWriter
from qdistill.errors import QdistillError, SettingError
from qdistill.kinematics import wrap_phi
from qdistill.teacher.graph import batch_graphs, event_graph, join_graphs, knn_indices

# --------------------------------------------------------------------------------------------
# synthetic events whose truth depends on the neighbourhood


def synthetic_event(rng: np.random.Generator, n_pileup: int = 300) -> Event:
    """A toy pileup event: a few primary-collision jets on a uniform pileup carpet.

    Neutral candidates inside a jet are from the primary collision; the only way to see that is
    the jet's charged candidates nearby (small dz), which is what an edge convolution can learn.
    The toy PUPPI weight of neutrals looks at the candidate's own pT only.
    """
    rows = []
    for j in range(3):
        # the first jet straddles φ = ±π so that the periodic graph matters
        eta_j = rng.uniform(-2.0, 2.0)
        phi_j = np.pi - 0.05 if j == 0 else rng.uniform(-np.pi, np.pi)
        for _ in range(int(rng.integers(15, 30))):
            charged = rng.random() < 0.6
            rows.append((eta_j + rng.normal(0, 0.15), phi_j + rng.normal(0, 0.15), charged, 1.0))
    for _ in range(n_pileup):
        rows.append((rng.uniform(-3, 3), rng.uniform(-np.pi, np.pi), rng.random() < 0.6, 0.0))
    n = len(rows)
    eta = np.array([r[0] for r in rows])
    phi = wrap_phi([r[1] for r in rows])
    charged = np.array([r[2] for r in rows])
    pv = np.array([r[3] for r in rows])
    pt = rng.exponential(np.where(pv > 0, 3.0, 1.0)) + 0.3
    charge = np.where(charged, rng.choice([-1.0, 1.0], n), 0.0)
    pid = np.where(charged, np.where(charge > 0, 211, -211), rng.choice([1, 2], n))
    dz = np.where(charged, np.where(pv > 0, rng.normal(0, 0.1, n), rng.normal(0, 50, n)), 0.0)
    d0 = np.where(charged, rng.normal(0, 0.05, n), 0.0)
    puppi = np.where(
        charged,
        (np.abs(dz) < 0.5).astype(float),
        1.0 / (1.0 + np.exp(-2.0 * (np.log(pt) - 0.8) + rng.normal(0, 1.0, n))),
    )
    energy = pt * np.cosh(eta)
    feats = np.zeros((n, F.N_FEATURES), dtype=np.float32)
    feats[:, F.ETA], feats[:, F.PHI] = eta, phi
    feats[:, F.LOG_PT], feats[:, F.LOG_E] = np.log(pt), np.log(energy)
    feats[:, F.CHARGE], feats[:, F.PUPPI_WEIGHT] = charge, puppi
    feats[:, F.PID_SLICE] = F.pid_one_hot(pid)
    feats[:, F.D0], feats[:, F.DZ] = d0, dz
    p4 = np.column_stack([pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta), energy])
    truth = np.clip(pv * rng.uniform(0.8, 1.0, n) + (1 - pv) * rng.uniform(0, 0.1, n), 0, 1)
    return Event(
        features=feats,
        p4=p4.astype(np.float32),
        truth_fraction=truth.astype(np.float32),
        gen_p4=np.zeros((0, 4), np.float32),
        gen_pdg_id=np.zeros(0, np.int32),
        n_pileup=140,
    )


def write_synthetic(path: Path, n_events: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    with atomic_path(path) as tmp, EventWriter(tmp, attrs={"process": "toy"}) as w:
        w.write([synthetic_event(rng) for _ in range(n_events)])
    return path


@pytest.fixture(scope="module")
def toy_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("teacher")
    return write_synthetic(d / "train.h5", 40, seed=1), write_synthetic(d / "test.h5", 10, seed=2)


# --------------------------------------------------------------------------------------------
# the graph


def test_knn_on_hand_made_event_across_phi_boundary() -> None:
    eta = np.array([0.0, 0.0, 0.0, 0.0, 2.0, 2.05])
    phi = np.array([3.1, -3.1, 2.9, 0.0, 1.0, 1.0])
    idx = knn_indices(eta, phi, k=2)
    assert idx.shape == (6, 2) and idx.dtype == np.int32
    # φ = 3.1 and φ = -3.1 are 0.083 rad apart across ±π: each is the other's nearest neighbour
    assert idx[0].tolist() == [1, 2]
    assert idx[1].tolist() == [0, 2]
    assert idx[2].tolist() == [0, 1]
    assert idx[4, 0] == 5 and idx[5, 0] == 4
    assert idx[3].tolist() == [4, 5]  # ΔR 2.24 and 2.28, nearer than (0, 2.9)
    assert not (idx == np.arange(6)[:, None]).any()


def test_knn_matches_brute_force_and_handles_tiny_events() -> None:
    rng = np.random.default_rng(0)
    eta, phi = rng.uniform(-4, 4, 300), rng.uniform(-np.pi, np.pi, 300)
    idx = knn_indices(eta, phi, k=20)
    dr = np.hypot(eta[:, None] - eta[None, :], wrap_phi(phi[:, None] - phi[None, :]))
    np.fill_diagonal(dr, np.inf)
    np.testing.assert_array_equal(idx, np.argsort(dr, axis=1)[:, :20])
    # fewer candidates than k: every other candidate, the farthest repeated; one alone: itself
    small = knn_indices(np.array([0.0, 0.1, 0.3]), np.zeros(3), k=4)
    assert small[0].tolist() == [1, 2, 2, 2]
    assert knn_indices(np.zeros(1), np.zeros(1), k=3).tolist() == [[0, 0, 0]]
    assert knn_indices(np.zeros(0), np.zeros(0), k=3).shape == (0, 3)


def test_batch_graphs_offsets_events() -> None:
    rng = np.random.default_rng(1)
    a, b = (rng.normal(size=(n, F.N_FEATURES)).astype(np.float32) for n in (30, 25))
    x, nbr = batch_graphs([a, b], k=5)
    assert x.shape == (55, F.N_FEATURES) and nbr.shape == (55, 5)
    assert nbr[:30].max() < 30 and nbr[30:].min() >= 30
    # graphs built once and joined later give the same disjoint graph
    x2, nbr2 = join_graphs([a, b], [event_graph(a, 5), event_graph(b, 5)])
    np.testing.assert_array_equal(x2, x)
    np.testing.assert_array_equal(nbr2, nbr)
    with pytest.raises(ValueError, match="a graph of 25 rows for an event of 30"):
        join_graphs([a, b], [event_graph(b, 5), event_graph(a, 5)])


# --------------------------------------------------------------------------------------------
# the edge convolution


def test_edgeconv_equals_naive_mlp_on_wrapped_differences() -> None:
    from qdistill.teacher.model import EdgeConv, tf

    rng = np.random.default_rng(2)
    n, f, k, period = 12, 4, 3, 2.0
    x = rng.normal(size=(n, f)).astype(np.float32)
    nbr = rng.integers(0, n, size=(n, k)).astype(np.int32)
    sigma = np.array([0.5, 0.05, 2.0, 1.0])
    layer = EdgeConv([5, 3], periodic_column=1, period=period, difference_std=sigma.tolist())
    out = layer([tf.constant(x), tf.constant(nbr)]).numpy()
    (w0, b0, w1, b1) = (v.numpy() for v in layer.weights)
    diff = x[nbr] - x[:, None, :]
    diff[..., 1] -= period * np.round(diff[..., 1] / period)
    diff /= sigma  # wrapped first, then scaled
    edge = np.concatenate([np.repeat(x[:, None, :], k, axis=1), diff], axis=-1)
    h = np.maximum(np.maximum(edge @ w0 + b0, 0) @ w1 + b1, 0)
    np.testing.assert_allclose(out, np.concatenate([h.mean(1), h.max(1)], -1), atol=1e-5)


def test_difference_standardisation_on_a_hand_made_event() -> None:
    from qdistill.teacher.model import difference_standardisation

    feats = np.zeros((2, F.N_FEATURES), dtype=np.float32)
    feats[:, F.ETA] = [0.0, 0.2]
    feats[:, F.PHI] = [np.pi - 0.05, -np.pi + 0.05]  # 0.1 apart across φ = ±π
    feats[:, F.CHARGE] = [1.0, 0.0]
    graph = np.array([[1], [0]])
    sigma = difference_standardisation([feats], [graph], np.full(F.N_FEATURES, 2.0))
    # σ of ±0.2/2 = 0.1 for η, of the wrapped ±0.1/2 = 0.05 for φ, 0.5 for charge, 1 if constant
    np.testing.assert_allclose(
        sigma[[F.ETA, F.PHI, F.CHARGE, F.DZ]], [0.1, 0.05, 0.5, 1.0], rtol=1e-5
    )


# --------------------------------------------------------------------------------------------
# training, metrics, labels


@pytest.fixture(scope="module")
def trained(toy_files: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    from qdistill.teacher.config import TeacherHyperparameters
    from qdistill.teacher.train import train_teacher

    out = tmp_path_factory.mktemp("model") / "teacher"
    hyper = TeacherHyperparameters(k=8, hidden=16, epochs=4, learning_rate=5e-3, seed=3)
    train_teacher(toy_files[0], out, hyper, validation_data=toy_files[1], progress=False)
    return out


def test_small_run_learns_and_writes_metrics(trained: Path, toy_files: tuple[Path, Path]) -> None:
    metrics = json.loads((trained / "metrics.json").read_text())
    config = json.loads((trained / "teacher.json").read_text())
    assert config["feature_names"] == list(F.FEATURE_NAMES)
    assert config["hyperparameters"]["k"] == 8
    assert metrics["n_events"] == 10 and metrics["n_training_events"] == 40
    assert metrics["n_parameters"] == config["n_parameters"] > 1000
    assert metrics["inference"]["seconds_per_event"] > 0
    with EventFile(toy_files[1]) as ef:
        truth = ef.particles("truth_fraction")
        assert metrics["n_candidates"] == len(truth)
    # beats the best constant predictor (the held-out median) in mean absolute error
    assert metrics["teacher"]["mae_all"] < np.mean(np.abs(truth - np.median(truth)))
    # learns the neighbourhood: neutrals in jets are found far better than by chance
    assert metrics["teacher"]["auc_neutral"] > 0.8
    for who in ("teacher", "puppi"):
        assert set(metrics[who]) >= {"auc_neutral", "auc_all", "mae_neutral", "mae_all"}


def test_label_writes_one_label_per_candidate(
    trained: Path, toy_files: tuple[Path, Path], tmp_path: Path
) -> None:
    import shutil

    from qdistill.teacher.label import label_dataset
    from qdistill.teacher.saved import load_teacher

    data = tmp_path / "test.h5"
    shutil.copyfile(toy_files[1], data)
    summary = label_dataset(trained, data, progress=False)
    teacher = load_teacher(trained)
    with EventFile(data) as ef:
        labels = ef.particles("soft_label")
        assert summary["n_candidates"] == len(labels) == ef.n_particles
        event = ef.event(3)
        np.testing.assert_allclose(
            labels[ef.offsets[3] : ef.offsets[4]], teacher.predict_event(event.features), atol=1e-6
        )
    assert ((labels >= 0) & (labels <= 1)).all()


def test_label_refuses_teacher_trained_on_other_features(
    trained: Path, toy_files: tuple[Path, Path], tmp_path: Path
) -> None:
    import shutil

    from qdistill.teacher.label import label_dataset

    other = tmp_path / "other_teacher"
    shutil.copytree(trained, other)
    config = json.loads((other / "teacher.json").read_text())
    config["feature_names"] = config["feature_names"][::-1]
    (other / "teacher.json").write_text(json.dumps(config))
    data = tmp_path / "test.h5"
    shutil.copyfile(toy_files[1], data)
    with pytest.raises(QdistillError, match="was trained on features"):
        label_dataset(other, data, progress=False)
    with EventFile(data) as ef:
        assert not ef.has_soft_labels


# --------------------------------------------------------------------------------------------
# command line


def test_cli_train_and_label_and_errors(toy_files: tuple[Path, Path], tmp_path: Path) -> None:
    import h5py

    from qdistill.cli import app

    runner = CliRunner()
    missing = runner.invoke(app, ["teacher", "train", "--data", str(tmp_path / "no.h5"), "-o", "x"])
    assert missing.exit_code == 1
    assert "no such file" in missing.output and "Traceback" not in missing.output

    wrong = tmp_path / "wrong.h5"
    with h5py.File(wrong, "w") as f:
        f.attrs["layout"] = "something-else"
    bad = runner.invoke(app, ["teacher", "label", str(tmp_path), "--data", str(wrong)])
    assert bad.exit_code == 1 and "not a qdistill event file" in bad.output

    out = tmp_path / "t"
    args = ["teacher", "train", "--data", str(toy_files[1]), "-o", str(out), "--epochs", "1"]
    res = runner.invoke(app, [*args, "--hidden", "8", "--k", "4", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["n_training_events"] == 8  # 10 events, 20 % held out
    assert (out / "model.keras").is_file()
    # two files joined: all 10 of the first, 5 of the second (--max-events 15), 3 held out
    both = ["--data", str(toy_files[1]), "--data", str(toy_files[0]), "--max-events", "15"]
    res = runner.invoke(
        app, ["teacher", "train", *both, "-o", str(out), "--epochs", "1", "--hidden", "8",
              "--k", "4", "--json"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["n_training_events"] == 12
    config = json.loads((out / "teacher.json").read_text())
    assert config["training"]["data"] == [str(toy_files[1]), str(toy_files[0])]
    zero = runner.invoke(app, ["teacher", "train", *both[:4], "--max-events", "0", "-o", str(out)])
    assert zero.exit_code == 1 and "--max-events must be positive" in zero.output

    no_model = ["teacher", "label", str(tmp_path), "--data", str(toy_files[1])]
    not_teacher = runner.invoke(app, no_model)
    assert not_teacher.exit_code == 1 and "not a teacher directory" in not_teacher.output


def test_same_seed_same_teacher_and_metrics_without_neutrals(tmp_path: Path) -> None:
    from qdistill.teacher.config import TeacherHyperparameters
    from qdistill.teacher.saved import load_teacher
    from qdistill.teacher.train import train_teacher

    rng = np.random.default_rng(5)
    events = [synthetic_event(rng, n_pileup=60) for _ in range(6)]
    for e in events:  # all charged: the neutral AUC and MAE are undefined, stored as null
        e.features[:, F.CHARGE] = 1.0
    data = tmp_path / "charged.h5"
    with atomic_path(data) as tmp, EventWriter(tmp) as writer:
        writer.write(events)
    weights = []
    for name in ("a", "b"):
        hyper = TeacherHyperparameters(k=4, hidden=8, epochs=1, seed=7)
        metrics = train_teacher(data, tmp_path / name, hyper, progress=False)
        assert metrics["teacher"]["auc_neutral"] is None
        assert metrics["teacher"]["mae_neutral"] is None
        model = load_teacher(tmp_path / name).model
        weights.append(np.concatenate([v.ravel() for v in model.get_weights()]))
    np.testing.assert_array_equal(weights[0], weights[1])


def test_weight_metrics_hand_computed() -> None:
    from qdistill.teacher.evaluate import weight_metrics

    truth = np.array([0.0, 0.0, 1.0, 1.0, 1.0])
    weight = np.array([0.1, 0.5, 0.5, 0.3, 0.9])
    charge = np.array([0.0, 0.0, 0.0, 0.0, 1.0])  # the last candidate is charged
    pt = np.array([1.0, 3.0, 1.0, 1.0, 50.0])
    m = weight_metrics(truth, weight, charge, pt)
    # neutrals: pairs (pos, neg) 0.5>0.1, 0.5=0.5, 0.3>0.1, 0.3<0.5 → (2 + 0.5) / 4
    assert m["auc_neutral"] == pytest.approx(0.625)
    # pT-weighted: (1·1 + 0.5·1·3 + 1·1 + 0) / (2 · 4)
    assert m["auc_neutral_pt_weighted"] == pytest.approx(0.4375)
    assert m["mae_neutral"] == pytest.approx((0.1 + 0.5 + 0.5 + 0.7) / 4)
    assert m["mae_charged"] == pytest.approx(0.1) and m["auc_charged"] is None


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--k", "0", "--k must be at least 1"),
        ("--hidden", "1", "--hidden must be at least 2"),
        ("--blocks", "1", "--blocks must be at least 2"),
        ("--epochs", "0", "--epochs must be at least 1"),
        ("--events-per-step", "0", "--events-per-step must be at least 1"),
        ("--learning-rate", "0", "--learning-rate must be positive"),
        ("--neutral-weight", "-1", "--neutral-weight must be positive"),
        ("--mae-weight", "-0.5", "--mae-weight must be zero or positive"),
        ("--pt-weight-power", "3", "--pt-weight-power must be between 0 and 2"),
    ],
)
def test_teacher_range_errors_name_the_option_typed(
    tmp_path: Path, option: str, value: str, message: str
) -> None:
    from qdistill.cli import app

    out = tmp_path / "teacher"
    args = ["teacher", "train", "--data", str(tmp_path / "none.h5"), "-o", str(out), option, value]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert result.stderr.strip() == f"qdistill: error: {message} (got {value})"
    assert not out.exists()


def test_a_setting_without_option_is_named_as_a_setting() -> None:
    from qdistill.cli import setting_message
    from qdistill.teacher.config import TeacherHyperparameters

    with pytest.raises(SettingError) as info:
        TeacherHyperparameters(edge_layers=0).check()
    assert setting_message(info.value) == (
        "setting edge_layers (no option sets it) must be at least 1 (got 0)"
    )
