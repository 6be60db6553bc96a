"""Soft labels: the teacher's weight for every candidate of an event file, stored in the file."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from qdistill.data.layout import EventFile, write_soft_labels
from qdistill.progress import progress_bar, stderr_console
from qdistill.teacher.saved import Teacher, check_feature_names, load_teacher


def predict_soft_labels(
    teacher_dir: str | os.PathLike[str] | Teacher,
    data_path: str | os.PathLike[str],
    progress: bool = True,
) -> npt.NDArray[np.float32]:
    """The teacher's soft label of every candidate of ``data_path``, in file order, shape (N,).

    Refuses (QdistillError) a file whose feature names differ from those the teacher was
    trained on.
    """
    data_path = Path(data_path)
    with EventFile(data_path) as ef:
        names = tuple(str(n) for n in ef.attrs["feature_names"])
        if isinstance(teacher_dir, Teacher):
            teacher = teacher_dir
            check_feature_names(teacher.feature_names, names, teacher.directory, str(data_path))
        else:
            teacher = load_teacher(teacher_dir, expected_features=names, data_source=str(data_path))
        labels = np.empty(ef.n_particles, dtype=np.float32)
        with progress_bar(stderr_console(), enabled=progress, with_loss=False) as bar:
            task = bar.add_task(f"labelling {data_path.name}", total=ef.n_events)
            for i, event in enumerate(ef.iter_events()):
                labels[ef.offsets[i] : ef.offsets[i + 1]] = teacher.predict_event(event.features)
                bar.advance(task)
    return labels


def label_dataset(
    teacher_dir: str | os.PathLike[str],
    data_path: str | os.PathLike[str],
    threads: int = 1,
    progress: bool = True,
) -> dict[str, Any]:
    """Predict soft labels for ``data_path`` and store them in it atomically; return a summary."""
    from qdistill.keras_backend import import_tensorflow

    import_tensorflow(threads)
    t0 = time.perf_counter()
    labels = predict_soft_labels(teacher_dir, data_path, progress=progress)
    write_soft_labels(data_path, labels)
    with EventFile(data_path) as ef:
        n_events = ef.n_events
    return {
        "data": str(data_path),
        "teacher": str(teacher_dir),
        "n_events": n_events,
        "n_candidates": len(labels),
        "mean_soft_label": float(labels.mean()) if len(labels) else float("nan"),
        "seconds": time.perf_counter() - t0,
    }
