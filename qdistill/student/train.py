"""Train a student on the teacher's soft labels and write its directory (see :mod:`.io`).

DistillNet: plain training with the distillation loss. QDistillNet: quantization-aware training
with the hidden kernels pruned by TF-MOT (PolynomialDecay to the target sparsity, then
``strip_pruning``), the batch norm folded into the output QDense, and ``finetune_epochs`` of
quantization-aware fine-tuning of that output layer with the hidden layers frozen (so their
zeros stay zeros).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, replace
from typing import Any, Final

import numpy as np

from qdistill import __version__, manifest
from qdistill.atomic import atomic_path
from qdistill.errors import QdistillError
from qdistill.features import FEATURE_NAMES
from qdistill.keras_backend import keras, tfmot
from qdistill.student import models
from qdistill.student.config import (
    DEFAULT_HOLDOUT_FRACTION,
    LossSettings,
    ModelSpec,
    TrainConfig,
    reference_high_target_weight,
)
from qdistill.student.dataset import (
    BatchStream,
    ParticleRange,
    read_range,
    split_events,
    whole_file,
)
from qdistill.student.io import (
    METRICS_FILE,
    METRICS_KIND,
    MODEL_FILE,
    STUDENT_FILE,
    STUDENT_KIND,
    STUDENT_VERSION,
)
from qdistill.student.metrics import held_out_metrics
from qdistill.student.preprocessing import Preprocessing, fit_preprocessing, fpga_input_type

#: Particles used to fit the standardisation (the first ones of the training range).
PREPROCESSING_FIT_PARTICLES: Final[int] = 1_000_000


@dataclass
class _Inputs:
    """What training reads: the particle ranges, the fitted standardisation, the loss."""

    train: ParticleRange
    held_out: ParticleRange
    preprocessing: Preprocessing
    loss: LossSettings


@dataclass
class _Fitted:
    """A trained model and what its training measured."""

    model: Any
    seconds: float
    losses: list[float]
    epoch_seconds: list[float]
    finetune_losses: list[float]
    output_integer_bits: tuple[int, int] | None


def train_student(config: TrainConfig) -> dict[str, Any]:
    """Train, evaluate and write ``config.output`` atomically; returns the metrics."""
    _check(config)
    keras.utils.set_random_seed(config.seed)
    inputs = _read_inputs(config)
    fitted = _fit(config, inputs)
    metrics = held_out_metrics(fitted.model, inputs.preprocessing, inputs.held_out)
    metrics.update(_model_metrics(fitted.model, config.spec))
    metrics["training"] = _training_metrics(config, inputs.train, fitted)
    info = _student_info(config, inputs, fitted.output_integer_bits)
    metrics = manifest.tagged(METRICS_KIND, STUDENT_VERSION, metrics)
    _write_student(config, fitted.model, inputs.preprocessing, info, metrics)
    return metrics


def _read_inputs(config: TrainConfig) -> _Inputs:
    """Split the events, fit the standardisation, resolve the automatic high-target weight."""
    holdout = config.holdout_fraction
    if holdout is None:
        holdout = 0.0 if config.validation_data else DEFAULT_HOLDOUT_FRACTION
    train_range, hold_range = split_events(config.data, holdout, config.max_particles)
    if config.validation_data is not None:
        hold_range = whole_file(config.validation_data)
    if hold_range is None:
        raise QdistillError(
            "no held-out particles for metrics.json: give --validation-data TEST.h5 or a "
            "--holdout-fraction above 0"
        )
    sample = read_range(train_range, 0, PREPROCESSING_FIT_PARTICLES, fields=("features",))
    loss = config.loss
    if config.auto_high_target_weight:
        labels = read_range(train_range, fields=("soft_label",))["soft_label"]
        loss = replace(loss, high_target_weight=reference_high_target_weight(labels))
    preprocess = fit_preprocessing(sample["features"], input_bits=config.spec.input_bits)
    return _Inputs(train_range, hold_range, preprocess, loss)


def _fit(config: TrainConfig, inputs: _Inputs) -> _Fitted:
    """Build and train the model; QDistillNet: prune, strip, fold the batch norm, fine-tune."""
    from qdistill.student.callbacks import TrainingProgress
    from qdistill.student.losses import DistillationLoss

    stream = BatchStream(inputs.train, inputs.preprocessing, config.batch_size, config.seed)
    spec = config.spec
    steps = stream.steps_per_epoch * config.epochs
    model = models.build(spec)
    progress = TrainingProgress("train", steps, config.progress)
    callbacks: list[Any] = [progress]
    if spec.quantized and spec.sparsity > 0:
        model = models.add_pruning(model, spec.sparsity, steps)
        callbacks.append(tfmot.sparsity.keras.UpdatePruningStep())
    schedule = keras.optimizers.schedules.CosineDecay(config.learning_rate, steps, alpha=0.05)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss=DistillationLoss(inputs.loss))
    t0 = time.perf_counter()
    history = model.fit(stream.dataset(), epochs=config.epochs, verbose=0, callbacks=callbacks)
    seconds = time.perf_counter() - t0

    output_integer_bits = None
    finetune_losses: list[float] = []
    if spec.quantized:
        model = models.strip_pruning(model)
        if spec.batchnorm:
            model, output_integer_bits = models.fold_batchnorm(model, spec)
        if spec.batchnorm and config.finetune_epochs > 0:
            finetune_losses = _finetune_output(model, stream, config, inputs.loss)
        hidden_sparsity = models.hidden_sparsity(model)
        if hidden_sparsity + 1e-3 < spec.sparsity:
            raise QdistillError(
                f"pruning reached {hidden_sparsity:.3f} sparsity, short of --sparsity "
                f"{spec.sparsity}; train for more steps (--epochs) or a smaller --batch-size"
            )
    losses = [float(v) for v in history.history["loss"]]
    return _Fitted(
        model, seconds, losses, progress.epoch_seconds, finetune_losses, output_integer_bits
    )


def _model_metrics(model: Any, spec: ModelSpec) -> dict[str, Any]:
    return {
        "model": spec.kind,
        "n_parameters": int(model.count_params()),
        "n_trainable_parameters": int(sum(int(np.prod(w.shape)) for w in model.trainable_weights)),
        "sparsity": {
            "per_layer": models.kernel_sparsity(model),
            "hidden_overall": models.hidden_sparsity(model),
        },
    }


def _training_metrics(config: TrainConfig, train: ParticleRange, fitted: _Fitted) -> dict[str, Any]:
    spec = config.spec
    steady = fitted.epoch_seconds[1:]
    return {
        "file": str(train.path),
        "events": train.n_events,
        "particles": train.n_particles,
        "epochs": config.epochs,
        "finetune_epochs": config.finetune_epochs if spec.quantized and spec.batchnorm else 0,
        "batch_size": config.batch_size,
        "seconds": fitted.seconds,
        "particles_per_second": train.n_particles * config.epochs / fitted.seconds,
        "epoch_seconds": fitted.epoch_seconds,
        "steady_particles_per_second": (
            train.n_particles / float(np.median(steady)) if steady else None
        ),
        "loss_per_epoch": fitted.losses,
        "finetune_loss_per_epoch": fitted.finetune_losses,
    }


def _write_student(
    config: TrainConfig,
    model: Any,
    preprocessing: Preprocessing,
    info: dict[str, Any],
    metrics: dict[str, Any],
) -> None:
    with atomic_path(config.output) as tmp:
        tmp.mkdir()
        with warnings.catch_warnings():
            # model.h5 is the contract (hls4ml and load_qmodel read it): no "legacy format"
            # advice, nor QKeras' note on serialising its quantizers as constraints
            warnings.simplefilter("ignore", UserWarning)
            model.save(tmp / MODEL_FILE, include_optimizer=False)
        preprocessing.save(tmp)
        tagged = manifest.tagged
        (tmp / STUDENT_FILE).write_text(manifest.dumps(tagged(STUDENT_KIND, STUDENT_VERSION, info)))
        (tmp / METRICS_FILE).write_text(manifest.dumps(metrics))


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
    from qdistill.student.callbacks import TrainingProgress
    from qdistill.student.losses import DistillationLoss

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
        callbacks=[TrainingProgress("fine-tune output", steps, config.progress)],
    )
    for layer in model.layers:
        layer.trainable = True
    return [float(v) for v in history.history["loss"]]


def _student_info(
    config: TrainConfig, inputs: _Inputs, output_integer_bits: tuple[int, int] | None
) -> dict[str, Any]:
    spec, train_range, eval_range = config.spec, inputs.train, inputs.held_out
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
        "loss": inputs.loss.to_json(),
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
                "weight_bits": spec.weight_width,
                "activation_bits": spec.activation_width,
                "sparsity": spec.sparsity,
                "relu": f"quantized_relu({spec.activation_width},{spec.relu_integer_bits})",
                "weights": f"quantized_bits({spec.weight_width},0,alpha=1) kernels and biases of "
                "hidden layers",
                "output_integer_bits": {
                    "kernel": output_integer_bits[0] if output_integer_bits else 0,
                    "bias": output_integer_bits[1] if output_integer_bits else 0,
                },
                "finetune_epochs": config.finetune_epochs if spec.batchnorm else 0,
                "fpga_input_type": fpga_input_type(spec.input_bits),
            }
        )
    return info
