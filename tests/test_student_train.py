"""Students: the HDF5 stream, end-to-end training of both students on a tiny synthetic labelled
file, save → load_student → identical predictions, the CLI, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from qdistill.cli import app
from qdistill.errors import QdistillError
from qdistill.keras_backend import import_tensorflow

import_tensorflow(1)
import qkeras  # noqa: E402
import tf_keras as keras  # noqa: E402
from qkeras.utils import load_qmodel  # noqa: E402

from qdistill.student.config import DEFAULT_HIDDEN, ModelSpec, TrainConfig  # noqa: E402
from qdistill.student.dataset import BatchStream, read_range, split_events  # noqa: E402
from qdistill.student.io import load_student  # noqa: E402
from qdistill.student.metrics import predict_range  # noqa: E402
from qdistill.student.preprocessing import fit_preprocessing  # noqa: E402
from qdistill.student.synthetic import write_synthetic_file  # noqa: E402
from qdistill.student.train import train_student  # noqa: E402


@pytest.fixture(scope="module")
def labelled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "train.h5"
    write_synthetic_file(path, n_events=20, particles_per_event=300, seed=7)
    return path


@pytest.fixture(scope="module")
def unlabelled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "raw.h5"
    write_synthetic_file(path, n_events=3, particles_per_event=10, seed=8, soft_labels=False)
    return path


def test_split_and_stream_visit_every_particle_once(labelled: Path) -> None:
    train, hold = split_events(labelled, 0.1)
    assert (train.n_events, train.n_particles) == (18, 5400)
    assert hold is not None and (hold.start, hold.stop) == (5400, 6000)
    pre = fit_preprocessing(read_range(train)["features"])
    stream = BatchStream(train, pre, batch_size=512, seed=3, block_rows=1000, window_blocks=2)
    assert stream.steps_per_epoch == 11
    epochs = []
    for _ in range(2):
        batches = list(stream)
        assert [len(x) for x, _ in batches] == [512] * 10 + [5400 - 5120]
        epochs.append(np.concatenate([y for _, y in batches]))
    raw = read_range(train)
    expected = np.sort(raw["soft_label"])
    for y in epochs:
        np.testing.assert_array_equal(np.sort(y[:, 0]), expected)  # each particle exactly once
    assert not np.array_equal(epochs[0][:, 0], epochs[1][:, 0])  # reshuffled every epoch
    capped, _ = split_events(labelled, 0.1, max_particles=1000)
    assert (capped.n_events, capped.n_particles) == (3, 900)


@pytest.mark.parametrize("kind", ["distillnet", "qdistillnet"])
def test_train_save_load_predicts_identically(labelled: Path, tmp_path: Path, kind: str) -> None:
    out = tmp_path / kind
    spec = ModelSpec(kind, DEFAULT_HIDDEN[kind])
    metrics = train_student(
        TrainConfig(spec=spec, data=labelled, output=out, epochs=2, batch_size=128, progress=False)
    )
    assert sorted(p.name for p in out.iterdir()) == [
        "metrics.json",
        "model.h5",
        "preprocessing.json",
        "student.json",
    ]
    assert json.loads((out / "metrics.json").read_text()) == json.loads(json.dumps(metrics))
    info = json.loads((out / "student.json").read_text())
    assert info["model"] == kind and info["training"]["particles"] == 5400
    assert metrics["training"]["particles"] == 5400 and metrics["held_out"]["particles"] == 600
    # the synthetic teacher is learnable: the student is far closer to it than PUPPI is
    assert metrics["mae_to_teacher"] < metrics["puppi"]["mae_to_teacher"]

    student = load_student(out)
    assert student.kind == kind
    held = read_range(split_events(labelled, 0.1)[1])
    weights = student.predict(held["features"])
    assert weights.shape == (600,) and weights.dtype == np.float32
    assert weights.min() >= 0.0 and weights.max() <= 1.0
    # the in-memory model made metrics.json; the reloaded one reproduces its numbers
    mae = float(np.mean(np.abs(weights.astype(np.float64) - held["soft_label"])))
    assert mae == pytest.approx(metrics["mae_to_teacher"], abs=1e-7)
    # batching does not change the numbers (beyond float summation order)
    np.testing.assert_allclose(student.predict(held["features"], batch=7), weights, atol=1e-6)

    if kind == "distillnet":
        assert metrics["n_parameters"] == 10753
        return
    assert metrics["n_parameters"] == 3201  # batch norm folded away
    assert metrics["sparsity"]["per_layer"]["dense1"] == pytest.approx(0.75, abs=1 / 1024)
    assert metrics["sparsity"]["hidden_overall"] >= 0.75 - 1e-3
    assert info["fpga_input_type"]["ap_type"] == "ap_fixed<16,5>"
    qmodel = load_qmodel(str(out / "model.h5"), compile=False)
    kinds = {type(layer) for layer in qmodel.layers}
    assert kinds <= {
        keras.layers.InputLayer,
        qkeras.QActivation,
        qkeras.QDense,
        keras.layers.Activation,
    }
    assert isinstance(qmodel.layers[1], qkeras.QActivation)
    np.testing.assert_array_equal(
        predict_range(qmodel, student.preprocessing, split_events(labelled, 0.1)[1])["student"],
        weights,
    )


def test_missing_soft_labels_is_a_clear_error(unlabelled: Path, tmp_path: Path) -> None:
    spec = ModelSpec("distillnet", (8, 4))
    with pytest.raises(QdistillError, match="qdistill teacher label"):
        train_student(TrainConfig(spec=spec, data=unlabelled, output=tmp_path / "o", epochs=1))
    assert not (tmp_path / "o").exists()


def test_cli_train_json_and_errors(labelled: Path, unlabelled: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "cli"
    args = ["train", "--model", "qdistillnet", "--data", str(labelled), "-o", str(out)]
    result = runner.invoke(
        app,
        [
            *args,
            *("--hidden", "16,8", "--bits", "6", "--weight-bits", "4", "--sparsity", "0.5"),
            "--epochs",
            "1",
            *("--batch-size", "512", "--loss", "bce", "--high-target-weight", "auto", "--json"),
        ],
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert metrics["model"] == "qdistillnet"
    assert metrics["sparsity"]["hidden_overall"] >= 0.5 - 1e-3
    info = json.loads((out / "student.json").read_text())
    assert (info["hidden"], info["bits"], info["loss"]["teacher_term"]) == ([16, 8], 6, "bce")
    assert (info["weight_bits"], info["activation_bits"]) == (4, 6)
    assert info["relu"] == "quantized_relu(6,2)" and info["weights"].startswith("quantized_bits(4,")
    assert info["loss"]["high_target_weight"] > 1.0

    bad = runner.invoke(
        app,
        ["train", "--model", "distillnet", "--data", str(unlabelled), "-o", str(tmp_path / "x")],
    )
    assert bad.exit_code == 1
    assert "qdistill teacher label" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    wrong = runner.invoke(app, [*args[:2], "bignet", *args[3:]])
    assert wrong.exit_code == 1 and "choose one of" in wrong.stderr
    for flag, value in (("--weight-bits", "1"), ("--activation-bits", "17"), ("--bits", "40")):
        wide = runner.invoke(app, [*args, flag, value])
        assert wide.exit_code == 1
        assert wide.stderr.strip() == f"qdistill: error: {flag} {value} must be between 2 and 16"


def test_refuses_to_replace_a_foreign_directory(labelled: Path, tmp_path: Path) -> None:
    out = tmp_path / "precious"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    spec = ModelSpec("distillnet", (8, 4))
    with pytest.raises(QdistillError, match="not a trained student"):
        train_student(TrainConfig(spec=spec, data=labelled, output=out, epochs=1))
    assert (out / "notes.txt").read_text() == "keep me"
