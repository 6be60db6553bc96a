"""The Keras callback that shows a student's training on a progress bar.

This module defines a Keras class, so importing it imports TensorFlow (through
:mod:`qdistill.keras_backend`).
"""

from __future__ import annotations

import time
from typing import Any

from qdistill.keras_backend import keras
from qdistill.progress import progress_bar


class TrainingProgress(keras.callbacks.Callback):  # type: ignore[misc]
    """A progress bar on standard error, advanced every batch, showing the loss; also records
    each epoch's wall time in ``epoch_seconds`` (the first includes graph tracing)."""

    def __init__(self, label: str, total_steps: int, enabled: bool) -> None:
        super().__init__()
        self.label = label
        self.total_steps = total_steps
        self.enabled = enabled
        self._progress: Any = None
        self._task: Any = None
        self._epoch_start = 0.0
        self.epoch_seconds: list[float] = []

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.epoch_seconds.append(time.perf_counter() - self._epoch_start)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        if self.enabled:
            self._progress = progress_bar(unit="batches")
            self._progress.start()
            self._task = self._progress.add_task(
                self.label, total=self.total_steps, loss=float("nan")
            )

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if self._progress is not None:
            loss = (logs or {}).get("loss")
            self._progress.update(
                self._task, advance=1, loss=float("nan") if loss is None else float(loss)
            )

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
