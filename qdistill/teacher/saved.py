"""A trained teacher on disk and in memory: ``load_teacher(dir)`` and ``Teacher.predict_event``.

A teacher directory holds ``model.keras`` (the Keras model, standardisation included),
``teacher.json`` (feature names, hyper-parameters, standardisation, training record) and
``metrics.json`` (held-out performance, see :mod:`qdistill.teacher.evaluate`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from qdistill import manifest
from qdistill.errors import QdistillError
from qdistill.features import FEATURE_NAMES, N_FEATURES

MODEL_FILE: Final[str] = "model.keras"
CONFIG_FILE: Final[str] = "teacher.json"
METRICS_FILE: Final[str] = "metrics.json"
#: teacher.json and metrics.json are manifests (qdistill.manifest) of these kinds.
CONFIG_KIND: Final[str] = "teacher"
METRICS_KIND: Final[str] = "teacher_metrics"
CONFIG_VERSION: Final[int] = 1


@dataclass
class Teacher:
    """A loaded teacher. ``config`` is the content of teacher.json."""

    directory: Path
    model: Any
    config: dict[str, Any]

    def __post_init__(self) -> None:
        from qdistill.keras_backend import import_tensorflow

        tf = import_tensorflow()
        spec = (
            tf.TensorSpec([None, N_FEATURES], tf.float32),
            tf.TensorSpec([None, self.k], tf.int32),
        )
        model = self.model
        self._forward = tf.function(
            lambda x, nbr: model([x, nbr], training=False), input_signature=spec
        )

    @property
    def k(self) -> int:
        """Neighbours per candidate in the graph the teacher was trained on."""
        return int(self.config["hyperparameters"]["k"])

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(self.config["feature_names"])

    def predict_event(self, features: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """Soft labels in [0, 1] for one event: features (n, 16) in features.py order → (n,).

        Builds the event's kNN graph and runs the network on all n candidates at once.
        """
        from qdistill.teacher.graph import event_graph

        x = np.asarray(features, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != N_FEATURES:
            raise QdistillError(
                f"teacher input must have shape (n, {N_FEATURES}), got {tuple(x.shape)}"
            )
        if len(x) == 0:
            return np.zeros(0, dtype=np.float32)
        return self.predict_graph(x, event_graph(x, self.k))

    def predict_graph(
        self, features: npt.NDArray[np.float32], neighbours: npt.NDArray[np.int32]
    ) -> npt.NDArray[np.float32]:
        """The network alone: features (n, 16) and precomputed neighbours (n, k) → (n,)."""
        return self._forward(features, neighbours).numpy().astype(np.float32)

    def predict_events(self, events: Sequence[npt.ArrayLike]) -> list[npt.NDArray[np.float32]]:
        """:meth:`predict_event` for each event's (n_i, 16) features."""
        return [self.predict_event(f) for f in events]


def check_feature_names(
    teacher_names: Sequence[str], data_names: Sequence[str], teacher_dir: Path, data_source: str
) -> None:
    """Raise QdistillError unless the teacher was trained on exactly ``data_names``, in order."""
    if tuple(teacher_names) != tuple(data_names):
        raise QdistillError(
            f"teacher {teacher_dir} was trained on features {list(teacher_names)} but "
            f"{data_source} has {list(data_names)}; retrain the teacher on this layout "
            "(`qdistill teacher train`)"
        )


def read_config(teacher_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """teacher.json of ``teacher_dir``, validated (QdistillError naming the problem if not)."""
    d = Path(teacher_dir)
    path = d / CONFIG_FILE
    if not d.is_dir():
        raise QdistillError(
            f"{d}: no such teacher directory (make one with `qdistill teacher train`)"
        )
    if not path.is_file() or not (d / MODEL_FILE).is_file():
        raise QdistillError(
            f"{d}: not a teacher directory (needs {CONFIG_FILE} and {MODEL_FILE}; "
            "make one with `qdistill teacher train`)"
        )
    config = manifest.read_json(path)
    manifest.check_tag(config, CONFIG_KIND, CONFIG_VERSION, path)
    return config  # type: ignore[no-any-return]


def load_teacher(
    teacher_dir: str | os.PathLike[str],
    expected_features: Sequence[str] | None = FEATURE_NAMES,
    data_source: str = "this qdistill",
) -> Teacher:
    """Load a teacher directory written by ``qdistill teacher train``.

    Refuses (QdistillError) a teacher trained on other features than ``expected_features``
    (default: the 16 of :mod:`qdistill.features`); pass ``None`` to skip the check.
    """
    from qdistill.teacher.model import keras  # registers the custom layers

    d = Path(teacher_dir)
    config = read_config(d)
    if expected_features is not None:
        check_feature_names(config["feature_names"], expected_features, d, data_source)
    try:
        model = keras.models.load_model(d / MODEL_FILE, compile=False)
    except (OSError, ValueError) as exc:
        raise QdistillError(f"{d / MODEL_FILE}: cannot load the teacher model ({exc})") from None
    return Teacher(directory=d, model=model, config=config)
