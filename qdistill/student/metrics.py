"""Held-out metrics of a student next to PUPPI and the teacher (``metrics.json``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from qdistill.features import PUPPI_WEIGHT
from qdistill.metrics import histogram_accuracy, roc_auc
from qdistill.student.dataset import DEFAULT_BLOCK_ROWS, ParticleRange, read_range
from qdistill.student.io import predict_model
from qdistill.student.preprocessing import Preprocessing


def weight_metrics(
    weights: npt.ArrayLike, teacher: npt.ArrayLike, truth: npt.ArrayLike
) -> dict[str, float]:
    """The paper's histogram accuracy and the MAE against the teacher, ROC AUC against truth.

    All arrays have shape (n,); truth is the primary-collision energy fraction (label > 0.5).
    """
    w = np.asarray(weights, dtype=np.float64)
    t = np.asarray(teacher, dtype=np.float64)
    return {
        "accuracy": histogram_accuracy(w, t),
        "mae_to_teacher": float(np.mean(np.abs(w - t))),
        "roc_auc_truth": roc_auc(truth, w),
    }


def predict_range(
    model: Any, preprocessing: Preprocessing, r: ParticleRange, block_rows: int = DEFAULT_BLOCK_ROWS
) -> dict[str, npt.NDArray[np.float32]]:
    """Student, PUPPI and teacher weights and truth of every particle of ``r``, read in blocks."""
    parts: dict[str, list[npt.NDArray[np.float32]]] = {
        "student": [],
        "puppi": [],
        "teacher": [],
        "truth": [],
    }
    for a in range(0, r.n_particles, block_rows):
        block = read_range(r, a, a + block_rows)
        parts["student"].append(predict_model(model, preprocessing(block["features"])))
        parts["puppi"].append(block["features"][:, PUPPI_WEIGHT].astype(np.float32))
        parts["teacher"].append(block["soft_label"])
        parts["truth"].append(block["truth"])
    return {k: np.concatenate(v) if v else np.empty(0, np.float32) for k, v in parts.items()}


def held_out_metrics(model: Any, preprocessing: Preprocessing, r: ParticleRange) -> dict[str, Any]:
    """``metrics.json``'s physics part on the held-out range ``r``."""
    p = predict_range(model, preprocessing, r)
    student = weight_metrics(p["student"], p["teacher"], p["truth"])
    return {
        **student,
        "puppi": weight_metrics(p["puppi"], p["teacher"], p["truth"]),
        "teacher": {"roc_auc_truth": roc_auc(p["truth"], p["teacher"])},
        "held_out": {
            "file": str(r.path),
            "events": r.n_events,
            "particles": r.n_particles,
            "first_particle": r.start,
        },
    }
