"""Train a student on the teacher's soft labels and write its directory (see :mod:`.io`).

DistillNet: plain training with the distillation loss. QDistillNet: quantization-aware training
with the hidden kernels pruned by TF-MOT (PolynomialDecay to the target sparsity, then
``strip_pruning``), the batch norm folded into the output QDense, and ``finetune_epochs`` of
quantization-aware fine-tuning of that output layer with the hidden layers frozen (so their
zeros stay zeros).
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np

from qdistill import __version__
from qdistill.atomic import atomic_path
from qdistill.errors import QdistillError
from qdistill.features import FEATURE_NAMES
from qdistill.keras_backend import import_tensorflow
from qdistill.student import models
from qdistill.student.dataset import (
    BatchStream,
    ParticleRange,
    read_range,
    split_events,
    whole_file,
)
from qdistill.student.io import METRICS_FILE, MODEL_FILE, STUDENT_FILE
from qdistill.student.losses import DistillationLoss, LossSettings, reference_high_target_weight
from qdistill.student.metrics import held_out_metrics
from qdistill.student.preprocessing import fit_preprocessing, fpga_input_type

tf = import_tensorflow()
import tensorflow_model_optimization as tfmot  # noqa: E402
import tf_keras as keras  # noqa: E402

#: Particles used to fit the standardisation (the first ones of the training range).
PREPROCESSING_FIT_PARTICLES: Final[int] = 1_000_000
DEFAULT_LEARNING_RATE: Final[float] = 3e-3
DEFAULT_BATCH_SIZE: Final[int] = 4096
DEFAULT_HOLDOUT_FRACTION: Final[float] = 0.1


@dataclass
class TrainConfig:
    """Everything ``qdistill train`` needs; ``high_target_weight=None`` means the reference's
    automatic value (see :func:`.losses.reference_high_target_weight`)."""

    spec: models.ModelSpec
    data: Path
    output: Path
    epochs: int = 10
    batch_size: int = DEFAULT_BATCH_SIZE
    seed: int = 0
    learning_rate: float = DEFAULT_LEARNING_RATE
    validation_data: Path | None = None
    holdout_fraction: float | None = None  # None: 0 with validation_data, else 0.1
    max_particles: int | None = None
    finetune_epochs: int = 1
    loss: LossSettings = field(default_factory=LossSettings)
    auto_high_target_weight: bool = False
    progress: bool = True


def train_student(config: TrainConfig) -> dict[str, Any]:
    """Train, evaluate and write ``config.output`` atomically; returns the metrics."""
    _check(config)
    keras.utils.set_random_seed(config.seed)
    holdout = config.holdout_fraction
    if holdout is None:
        holdout = 0.0 if config.validation_data else DEFAULT_HOLDOUT_FRACTION
    train_range, hold_range = split_events(config.data, holdout, config.max_particles)
    if config.validation_data is not None:
        eval_range: ParticleRange | None = whole_file(config.validation_data)
    else:
        eval_range = hold_range
    if eval_range is None:
        raise QdistillError(
            "no held-out particles for metrics.json: give --validation-data TEST.h5 or a "
            "--holdout-fraction above 0"
        )

    sample = read_range(train_range, 0, PREPROCESSING_FIT_PARTICLES, fields=("features",))
    preprocessing = fit_preprocessing(sample["features"])
    loss_settings = config.loss
    if config.auto_high_target_weight:
        labels = read_range(train_range, fields=("soft_label",))["soft_label"]
        loss_settings = LossSettings(
            **{
                **loss_settings.to_json(),
                "high_target_weight": reference_high_target_weight(labels),
            }
        )

    stream = BatchStream(train_range, preprocessing, config.batch_size, config.seed)
    spec = config.spec
    steps = stream.steps_per_epoch * config.epochs
    model = models.build(spec)
    progress = _Progress("train", steps, config.progress)
    callbacks: list[Any] = [progress]
    if spec.quantized and spec.sparsity > 0:
        model = models.add_pruning(model, spec.sparsity, steps)
        callbacks.append(tfmot.sparsity.keras.UpdatePruningStep())
    schedule = keras.optimizers.schedules.CosineDecay(config.learning_rate, steps, alpha=0.05)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss=DistillationLoss(loss_settings))

    t0 = time.perf_counter()
    history = model.fit(stream.dataset(), epochs=config.epochs, verbose=0, callbacks=callbacks)
    train_seconds = time.perf_counter() - t0
    losses = [float(v) for v in history.history["loss"]]

    output_integer_bits = None
    finetune_losses: list[float] = []
    if spec.quantized:
        model = models.strip_pruning(model)
        if spec.batchnorm:
            model, output_integer_bits = models.fold_batchnorm(model, spec)
        if spec.batchnorm and config.finetune_epochs > 0:
            finetune_losses = _finetune_output(model, stream, config, loss_settings)
    sparsity = models.kernel_sparsity(model)
    hidden_sparsity = models.hidden_sparsity(model)
    if spec.quantized and hidden_sparsity + 1e-3 < spec.sparsity:
        raise QdistillError(
            f"pruning reached {hidden_sparsity:.3f} sparsity, short of --sparsity {spec.sparsity}"
            "; train for more steps (--epochs) or a smaller --batch-size"
        )

    metrics = held_out_metrics(model, preprocessing, eval_range)
    n_train = train_range.n_particles
    metrics.update(
        {
            "model": spec.kind,
            "n_parameters": int(model.count_params()),
            "n_trainable_parameters": int(
                sum(int(np.prod(w.shape)) for w in model.trainable_weights)
            ),
            "sparsity": {"per_layer": sparsity, "hidden_overall": hidden_sparsity},
            "training": {
                "file": str(train_range.path),
                "events": train_range.n_events,
                "particles": n_train,
                "epochs": config.epochs,
                "finetune_epochs": (
                    config.finetune_epochs if spec.quantized and spec.batchnorm else 0
                ),
                "batch_size": config.batch_size,
                "seconds": train_seconds,
                "particles_per_second": n_train * config.epochs / train_seconds,
                "epoch_seconds": progress.epoch_seconds,
                "steady_particles_per_second": (
                    n_train / float(np.median(progress.epoch_seconds[1:]))
                    if len(progress.epoch_seconds) > 1
                    else None
                ),
                "loss_per_epoch": losses,
                "finetune_loss_per_epoch": finetune_losses,
            },
        }
    )
    info = _student_info(config, spec, loss_settings, output_integer_bits, train_range, eval_range)
    with atomic_path(config.output) as tmp:
        tmp.mkdir()
        with warnings.catch_warnings():
            # model.h5 is the contract (hls4ml and load_qmodel read it): no "legacy format"
            # advice, nor QKeras' note on serialising its quantizers as constraints
            warnings.simplefilter("ignore", UserWarning)
            model.save(tmp / MODEL_FILE, include_optimizer=False)
        preprocessing.save(tmp)
        (tmp / STUDENT_FILE).write_text(json.dumps(info, indent=2))
        (tmp / METRICS_FILE).write_text(json.dumps(metrics, indent=2))
    return metrics


def _check(config: TrainConfig) -> None:
    if config.epochs < 1:
        raise QdistillError(f"--epochs {config.epochs} must be ≥ 1")
    if config.finetune_epochs < 0:
        raise QdistillError(f"--finetune-epochs {config.finetune_epochs} must be ≥ 0")
    if config.learning_rate <= 0:
        raise QdistillError(f"--learning-rate {config.learning_rate} must be > 0")
    if config.max_particles is not None and config.max_particles < 1:
        raise QdistillError(f"--max-particles {config.max_particles} must be ≥ 1")
    out = config.output
    if out.exists() and not out.is_dir():
        raise QdistillError(f"{out}: exists and is not a directory; choose another -o")
    if out.is_dir() and any(out.iterdir()) and not (out / STUDENT_FILE).is_file():
        # the output is replaced whole: never wipe a directory that is not a student's
        raise QdistillError(
            f"{out}: exists and is not a trained student (no {STUDENT_FILE}); choose another -o"
        )


def _finetune_output(
    model: Any, stream: BatchStream, config: TrainConfig, loss_settings: LossSettings
) -> list[float]:
    """Quantization-aware fine-tuning of the folded output layer, everything else frozen."""
    for layer in model.layers:
        layer.trainable = layer.name == models.OUTPUT_DENSE
    steps = stream.steps_per_epoch * config.finetune_epochs
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate * 0.1),
        loss=DistillationLoss(loss_settings),
    )
    history = model.fit(
        stream.dataset(),
        epochs=config.finetune_epochs,
        verbose=0,
        callbacks=[_Progress("fine-tune output", steps, config.progress)],
    )
    for layer in model.layers:
        layer.trainable = True
    return [float(v) for v in history.history["loss"]]


def _student_info(
    config: TrainConfig,
    spec: models.ModelSpec,
    loss_settings: LossSettings,
    output_integer_bits: tuple[int, int] | None,
    train_range: ParticleRange,
    eval_range: ParticleRange,
) -> dict[str, Any]:
    info: dict[str, Any] = {
        "model": spec.kind,
        "hidden": list(spec.hidden),
        "batchnorm": (
            "none"
            if not spec.batchnorm
            else "folded into output_dense"
            if spec.quantized
            else "BatchNormalization layer"
        ),
        "feature_names": list(FEATURE_NAMES),
        "loss": loss_settings.to_json(),
        "seed": config.seed,
        "epochs": config.epochs,
        "batch_size": config.batch_size,
        "learning_rate": config.learning_rate,
        "training": {
            "file": str(train_range.path),
            "events": train_range.n_events,
            "particles": train_range.n_particles,
        },
        "held_out": {
            "file": str(eval_range.path),
            "events": eval_range.n_events,
            "particles": eval_range.n_particles,
        },
        "qdistill_version": __version__,
    }
    if spec.quantized:
        info.update(
            {
                "bits": spec.bits,
                "sparsity": spec.sparsity,
                "relu": f"quantized_relu({spec.bits},{spec.relu_integer_bits})",
                "weights": f"quantized_bits({spec.bits},0,alpha=1) kernels and biases of "
                "hidden layers",
                "output_integer_bits": {
                    "kernel": output_integer_bits[0] if output_integer_bits else 0,
                    "bias": output_integer_bits[1] if output_integer_bits else 0,
                },
                "finetune_epochs": config.finetune_epochs if spec.batchnorm else 0,
                "fpga_input_type": fpga_input_type(),
            }
        )
    return info


class _Progress(keras.callbacks.Callback):
    """A rich progress bar on standard error, advanced every batch, showing the loss; also
    records each epoch's wall time (the first includes graph tracing)."""

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
        if not self.enabled:
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}"),
            TimeRemainingColumn(),
            console=Console(file=sys.stderr),
        )
        self._progress.start()
        self._task = self._progress.add_task(self.label, total=self.total_steps, loss="-")

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if self._progress is not None:
            loss = (logs or {}).get("loss")
            self._progress.update(
                self._task, advance=1, loss="-" if loss is None else f"{float(loss):.4f}"
            )

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
