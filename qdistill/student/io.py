"""A trained student directory (written by :func:`qdistill.student.train.train_student`).

Layout of ``DIR``:

* ``model.h5``: the final Keras 2 model (QDistillNet: pruning stripped, batch norm folded;
  loadable by ``qkeras.utils.load_qmodel``);
* ``preprocessing.json``: the input transform (:mod:`qdistill.student.preprocessing`);
* ``student.json``: model kind, sizes, bits, sparsity, FPGA input type, loss, seed, data sizes;
* ``metrics.json``: held-out metrics next to PUPPI's and the teacher's.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from qdistill import manifest
from qdistill.errors import QdistillError
from qdistill.student.preprocessing import Preprocessing

MODEL_FILE: Final[str] = "model.h5"
STUDENT_FILE: Final[str] = "student.json"
METRICS_FILE: Final[str] = "metrics.json"
#: student.json and metrics.json are manifests (qdistill.manifest) of these kinds.
STUDENT_KIND: Final[str] = "student"
METRICS_KIND: Final[str] = "student_metrics"
STUDENT_VERSION: Final[int] = 1
PREDICT_BATCH: Final[int] = 65536


def predict_model(model: Any, inputs: npt.NDArray[np.float32], batch: int = PREDICT_BATCH) -> Any:
    """Run ``model`` on preprocessed inputs (n, 16) in batches; returns (n,) float32 weights."""
    out = np.empty(len(inputs), dtype=np.float32)
    for a in range(0, len(inputs), batch):
        out[a : a + batch] = np.asarray(model(inputs[a : a + batch], training=False)).reshape(-1)
    return out


@dataclass
class Student:
    """A loaded student: the Keras model, its kind, preprocessing and ``student.json``."""

    model: Any
    kind: str
    preprocessing: Preprocessing
    info: dict[str, Any]
    directory: Path

    def preprocess(self, features: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """Raw features (n, 16) → model inputs (n, 16) float32 (what the FPGA receives)."""
        return self.preprocessing(features)

    def predict(self, features: npt.ArrayLike, batch: int = PREDICT_BATCH) -> Any:
        """Raw features (n, 16) → per-particle weights (n,) float32 in [0, 1]."""
        return predict_model(self.model, self.preprocess(features), batch)


def load_model_file(path: str | os.PathLike[str], kind: str) -> Any:
    """Load ``model.h5`` (QKeras custom objects registered for QDistillNet)."""
    from qdistill.keras_backend import import_keras, load_qkeras_model

    if kind == "qdistillnet":
        return load_qkeras_model(path)
    return import_keras().models.load_model(str(path), compile=False)


def load_student(directory: str | os.PathLike[str]) -> Student:
    """Load a ``qdistill train`` output directory; QdistillError if something is missing."""
    directory = Path(directory)
    info_path = directory / STUDENT_FILE
    model_path = directory / MODEL_FILE
    if not info_path.is_file() or not model_path.is_file():
        raise QdistillError(
            f"{directory}: not a trained student (needs {STUDENT_FILE} and {MODEL_FILE}); "
            "make one with `qdistill train`"
        )
    info = manifest.read_json(info_path)
    manifest.check_tag(info, STUDENT_KIND, STUDENT_VERSION, info_path)
    kind = info.get("model")
    if kind not in ("distillnet", "qdistillnet"):
        raise QdistillError(f"{info_path}: unknown model kind {kind!r}")
    preprocessing = Preprocessing.load(directory)
    model = load_model_file(model_path, kind)
    return Student(
        model=model, kind=kind, preprocessing=preprocessing, info=info, directory=directory
    )
