"""`evaluate` with real model-based weightings: a tiny teacher and a tiny DistillNet trained on a
synthetic file, checked against the same models applied independently."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qdistill.data.layout import EventFile
from qdistill.features import PUPPI_WEIGHT
from qdistill.keras_backend import import_tensorflow
from qdistill.metrics import histogram_accuracy
from qdistill.physics.evaluate import evaluate
from qdistill.physics.synthetic import write_synthetic_file

import_tensorflow(1)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("physics_models")
    labelled, unlabelled = d / "labelled.h5", d / "unlabelled.h5"
    write_synthetic_file(labelled, n_events=16, seed=11)
    write_synthetic_file(unlabelled, n_events=6, seed=12, soft_labels=False)
    return labelled, unlabelled


def test_evaluate_with_a_distillnet(files: tuple[Path, Path], tmp_path: Path) -> None:
    from qdistill.student.config import DEFAULT_HIDDEN, ModelSpec, TrainConfig
    from qdistill.student.io import load_student
    from qdistill.student.train import train_student

    labelled, _ = files
    model_dir = tmp_path / "distillnet"
    spec = ModelSpec("distillnet", DEFAULT_HIDDEN["distillnet"])
    train_student(
        TrainConfig(
            spec=spec, data=labelled, output=model_dir, epochs=1, batch_size=256, progress=False
        )
    )
    summary = evaluate(labelled, tmp_path / "eval", distillnet_dir=model_dir, n_bootstrap=10)
    assert summary["weightings"] == ["puppi", "teacher", "distillnet", "truth"]
    assert "distillnet" not in summary["skipped"]
    for key in ("met_resolution", "jet_resolution", "accuracy"):
        assert summary[key]["distillnet"] is not None
    # the same model applied to the whole file at once gives the same accuracy: the per-block
    # predictions were split back onto the right events and candidates
    with EventFile(labelled) as f:
        weights = load_student(model_dir).predict(f.particles("features"))
        labels = f.particles("soft_label")
    assert summary["accuracy"]["distillnet"] == pytest.approx(histogram_accuracy(weights, labels))


def test_evaluate_with_a_teacher_model(files: tuple[Path, Path], tmp_path: Path) -> None:
    from qdistill.teacher.config import TeacherHyperparameters
    from qdistill.teacher.saved import load_teacher
    from qdistill.teacher.train import train_teacher

    labelled, unlabelled = files
    teacher_dir = tmp_path / "teacher"
    hyper = TeacherHyperparameters(k=8, hidden=16, epochs=1, seed=3)
    train_teacher(labelled, teacher_dir, hyper, progress=False)
    summary = evaluate(unlabelled, tmp_path / "eval", teacher_dir=teacher_dir, n_bootstrap=10)
    assert summary["weightings"] == ["puppi", "teacher", "truth"]
    assert summary["accuracy"]["teacher"] == 1.0
    teacher = load_teacher(teacher_dir)
    with EventFile(unlabelled) as f:
        events = list(f.iter_events())
    labels = np.concatenate([teacher.predict_event(e.features) for e in events])
    puppi = np.concatenate([e.features[:, PUPPI_WEIGHT] for e in events])
    assert summary["accuracy"]["puppi"] == pytest.approx(histogram_accuracy(puppi, labels))


def test_evaluate_with_qdistillnet_and_its_firmware(
    files: tuple[Path, Path], tmp_path: Path
) -> None:
    from qdistill.firmware.convert import convert_model
    from qdistill.firmware.project import compiler_available
    from qdistill.student.config import DEFAULT_HIDDEN, ModelSpec, TrainConfig
    from qdistill.student.train import train_student

    if not compiler_available():
        pytest.skip("no g++ for hls4ml's C simulation")
    labelled, _ = files
    model_dir = tmp_path / "qdistillnet"
    spec = ModelSpec("qdistillnet", DEFAULT_HIDDEN["qdistillnet"])
    train_student(
        TrainConfig(
            spec=spec, data=labelled, output=model_dir, epochs=1, batch_size=256, progress=False
        )
    )
    project = tmp_path / "project"
    convert_model(model_dir, project, golden_data=labelled, golden_particles=256)
    summary = evaluate(
        labelled,
        tmp_path / "eval",
        qdistillnet_dir=model_dir,
        project_dir=project,
        max_events=4,
        n_bootstrap=10,
        make_plots=False,
    )
    assert summary["weightings"] == [
        "puppi",
        "teacher",
        "qdistillnet",
        "qdistillnet_firmware",
        "truth",
    ]
    # the firmware agrees with QKeras to about one LSB of its output, so the physics is the same
    for key in ("met_response_median", "jet_resolution"):
        assert summary[key]["qdistillnet_firmware"] == pytest.approx(
            summary[key]["qdistillnet"], abs=0.02
        )
    assert summary["firmware_engine"] == "emulator"
    # the C simulation gives the same bits, so the same figures to the last digit
    by_csim = evaluate(
        labelled,
        tmp_path / "eval_csim",
        project_dir=project,
        firmware_engine="csim",
        max_events=4,
        n_bootstrap=10,
        make_plots=False,
    )
    assert by_csim["firmware_engine"] == "csim"
    for key in ("met_resolution", "jet_resolution", "accuracy", "met_response_median"):
        assert by_csim[key]["qdistillnet_firmware"] == summary[key]["qdistillnet_firmware"]
