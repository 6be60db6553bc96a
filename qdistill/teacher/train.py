"""Train the teacher on an event file and write its directory (model, teacher.json, metrics.json).

One optimisation step sees ``events_per_step`` whole events joined into one disjoint graph (no
padding); the target is each candidate's truth fraction. The loss is the weighted
mean binary cross-entropy to the soft target plus ``mae_weight`` times the plain mean absolute
error. Cross-entropy alone makes the output the conditional mean (well ranked, but with ~98 %
pileup it leaves a small positive weight on every pileup candidate); the absolute-error term pulls
those towards 0, as the MAE metric and the students' loss want. In the cross-entropy, neutral
candidates, whose pileup is the hard part, can be weighted more, and every candidate can be
weighted by (pT / 1 GeV)^``pt_weight_power``: with power 1 it counts momentum, not candidates, as
missing pT and jets do; unweighted, the ~99 % of soft candidates decide it and the rare hard
neutrals of jets are under-weighted. The absolute-error term is never weighted: it counts
candidates, as the MAE metric does, so it acts on the many soft pileup candidates and leaves the
few hard ones, whose weights decide jets, to the pT-weighted cross-entropy.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from qdistill import __version__, manifest
from qdistill.atomic import atomic_path
from qdistill.data.layout import EventFile
from qdistill.errors import QdistillError
from qdistill.features import CHARGE, FEATURE_NAMES, LOG_PT
from qdistill.progress import progress_bar, stderr_console
from qdistill.teacher.config import DEFAULT_VALIDATION_FRACTION, TeacherHyperparameters
from qdistill.teacher.saved import (
    CONFIG_FILE,
    CONFIG_KIND,
    CONFIG_VERSION,
    METRICS_FILE,
    METRICS_KIND,
    MODEL_FILE,
    Teacher,
)


@dataclass
class _Sample:
    features: list[npt.NDArray[np.float32]]
    truth: list[npt.NDArray[np.float32]]
    n_pileup: list[int]

    def take(self, idx: Sequence[int]) -> _Sample:
        return _Sample(
            [self.features[i] for i in idx],
            [self.truth[i] for i in idx],
            [self.n_pileup[i] for i in idx],
        )

    def joined(self, other: _Sample) -> _Sample:
        return _Sample(
            self.features + other.features,
            self.truth + other.truth,
            self.n_pileup + other.n_pileup,
        )

    @property
    def n_candidates(self) -> int:
        return int(sum(len(f) for f in self.features))


def _read(path: Path, max_events: int | None) -> tuple[_Sample, tuple[str, ...]]:
    with EventFile(path) as ef:
        names = tuple(str(n) for n in ef.attrs["feature_names"])
        stop = ef.n_events if max_events is None else min(max_events, ef.n_events)
        sample = _Sample([], [], [])
        for ev in ef.iter_events(0, stop):
            if ev.n_particles == 0:
                continue
            sample.features.append(np.ascontiguousarray(ev.features, dtype=np.float32))
            sample.truth.append(np.ascontiguousarray(ev.truth_fraction, dtype=np.float32))
            sample.n_pileup.append(ev.n_pileup)
    if not sample.features:
        raise QdistillError(f"{path}: no events with candidates to train on")
    return sample, names


def _read_training(
    paths: Sequence[Path], max_events: int | None
) -> tuple[_Sample, tuple[str, ...]]:
    """The events of every file in ``paths``, in order (at most ``max_events`` in all)."""
    if max_events is not None and max_events <= 0:
        raise QdistillError(f"--max-events must be positive, got {max_events}")
    sample, names = _read(paths[0], max_events)
    for path in paths[1:]:
        left = None if max_events is None else max_events - len(sample.features)
        if left is not None and left <= 0:
            break
        part, part_names = _read(path, left)
        if part_names != names:
            raise QdistillError(
                f"{path}: feature list differs from {paths[0]}'s; use files of one layout"
            )
        sample = sample.joined(part)
    return sample, names


@dataclass
class _Split:
    train: _Sample
    held_out: _Sample
    feature_names: tuple[str, ...]
    held_out_source: str


@dataclass
class _Network:
    """The built model, its kNN graphs of the training events and its standardisation."""

    model: Any
    graphs: list[npt.NDArray[np.int32]]
    mean: npt.NDArray[np.float32]
    std: npt.NDArray[np.float32]
    difference_std: npt.NDArray[np.float32] | None


def train_teacher(
    data: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    output_dir: str | os.PathLike[str],
    hyper: TeacherHyperparameters | None = None,
    validation_data: str | os.PathLike[str] | None = None,
    validation_fraction: float = DEFAULT_VALIDATION_FRACTION,
    max_events: int | None = None,
    max_validation_events: int | None = None,
    threads: int = 1,
    progress: bool = True,
) -> dict[str, Any]:
    """Train on ``data`` (one event file or several, e.g. W+jets and tt̄, whose events are
    joined), write ``output_dir`` atomically, return the content of metrics.json.

    Held-out metrics use ``validation_data`` when given (e.g. the tt̄ file), otherwise the last
    ``validation_fraction`` of a seeded shuffle of the training events. ``threads`` is the
    TensorFlow intra/inter-op thread count (1: the inference time is per core). With the same
    seed, data and machine, two runs give the same weights (TensorFlow op determinism).
    """
    from qdistill.keras_backend import import_tensorflow

    hyper = hyper or TeacherHyperparameters()
    hyper.check()
    if validation_data is None and not 0.0 < validation_fraction < 1.0:
        raise QdistillError("--validation-fraction must be between 0 and 1")
    paths = [Path(data)] if isinstance(data, str | os.PathLike) else [Path(p) for p in data]
    if not paths:
        raise QdistillError("--data: give at least one training event file")
    tf = import_tensorflow(threads)
    from qdistill.teacher.evaluate import evaluate
    from qdistill.teacher.model import keras

    split = _split(
        paths,
        validation_data,
        hyper.seed,
        validation_fraction,
        max_events,
        max_validation_events,
    )
    keras.utils.set_random_seed(hyper.seed)
    tf.config.experimental.enable_op_determinism()
    console = stderr_console()
    t_start = time.perf_counter()
    net = _build_network(split.train, hyper, console, progress)
    console.print(
        f"teacher: {len(split.train.features)} training events ({split.train.n_candidates} "
        f"candidates), {len(split.held_out.features)} held-out events from "
        f"{split.held_out_source}; {_n_parameters(net)} parameters"
    )
    history = _fit(net, split, hyper, console, progress)
    config = _teacher_config(
        net, split, hyper, paths, time.perf_counter() - t_start, threads, history
    )
    teacher = Teacher(directory=Path(output_dir), model=net.model, config=config)
    val = split.held_out
    console.print(f"teacher: evaluating on {len(val.features)} held-out events")
    metrics = evaluate(teacher.predict_event, val.features, val.truth, val.n_pileup)
    metrics["inference"]["threads"] = threads
    metrics = {
        "data": split.held_out_source,
        "n_parameters": config["n_parameters"],
        "training_seconds": config["training"]["seconds"],
        "n_training_events": len(split.train.features),
        "n_training_candidates": split.train.n_candidates,
        **metrics,
    }
    metrics = manifest.tagged(METRICS_KIND, CONFIG_VERSION, metrics)
    _write_teacher(Path(output_dir), net.model, config, metrics)
    return metrics


def _split(
    data: Sequence[Path],
    validation_data: str | os.PathLike[str] | None,
    seed: int,
    validation_fraction: float,
    max_events: int | None,
    max_validation_events: int | None,
) -> _Split:
    """The training events and the held-out ones (another file, or a seeded share of ``data``)."""
    sample, names = _read_training(data, max_events)
    source = ", ".join(str(p) for p in data)
    if validation_data is not None:
        val, val_names = _read(Path(validation_data), max_validation_events)
        if val_names != names:
            raise QdistillError(
                f"{validation_data}: feature list differs from {data[0]}'s; use files of one layout"
            )
        return _Split(sample, val, names, str(validation_data))
    if len(sample.features) < 2:
        raise QdistillError(f"{source}: needs at least 2 events to hold some out for metrics")
    order = np.random.default_rng(seed).permutation(len(sample.features))
    n_val = min(len(order) - 1, max(1, round(validation_fraction * len(order))))
    train, val = sample.take(order[n_val:]), sample.take(order[:n_val])
    if max_validation_events is not None:
        val = val.take(range(min(max_validation_events, len(val.features))))
    return _Split(
        train, val, names, f"{source} (held out {len(val.features)} of {len(order)} events)"
    )


def _build_network(
    train: _Sample, hyper: TeacherHyperparameters, console: Any, progress: bool
) -> _Network:
    from qdistill.teacher.graph import event_graph
    from qdistill.teacher.model import build_teacher, difference_standardisation, standardisation

    mean, std = standardisation(np.concatenate(train.features))
    # The graphs depend only on (η, φ): built once here, not in every epoch (~10 % of a step).
    graphs = []
    with progress_bar(console, enabled=progress, with_loss=False) as bar:
        task = bar.add_task("kNN graphs", total=len(train.features))
        for feats in train.features:
            graphs.append(event_graph(feats, hyper.k))
            bar.update(task, advance=1)
    difference_std = None
    if hyper.edge_standardisation:
        n_sample = min(len(graphs), 32)
        difference_std = difference_standardisation(
            train.features[:n_sample], graphs[:n_sample], std
        )
    model = build_teacher(
        mean, std, hyper.k, hyper.hidden, hyper.n_blocks, hyper.edge_layers, difference_std
    )
    return _Network(model, graphs, mean, std, difference_std)


def _n_parameters(net: _Network) -> int:
    from qdistill.teacher.model import count_parameters

    return int(count_parameters(net.model))


def _step_functions(model: Any, hyper: TeacherHyperparameters, n_steps: int) -> tuple[Any, Any]:
    """The compiled training step and held-out loss of ``model`` (see the module docstring)."""
    from qdistill.teacher.model import keras, tf

    schedule = keras.optimizers.schedules.CosineDecay(
        hyper.learning_rate, decay_steps=n_steps, alpha=0.05
    )
    optimizer = keras.optimizers.Adam(schedule, clipnorm=1.0)
    spec = (
        tf.TensorSpec([None, len(FEATURE_NAMES)], tf.float32),
        tf.TensorSpec([None, hyper.k], tf.int32),
        tf.TensorSpec([None], tf.float32),
    )
    eps = 1e-6

    def _loss(x: Any, nbr: Any, y: Any, training: bool) -> Any:
        p = tf.clip_by_value(model([x, nbr], training=training), eps, 1.0 - eps)
        bce = -(y * tf.math.log(p) + (1.0 - y) * tf.math.log(1.0 - p))
        weight = tf.where(x[:, CHARGE] == 0.0, hyper.neutral_weight, 1.0)
        if hyper.pt_weight_power:
            weight = weight * tf.exp(hyper.pt_weight_power * x[:, LOG_PT])
        loss = tf.reduce_sum(weight * bce) / tf.reduce_sum(weight)
        if hyper.mae_weight:
            loss = loss + hyper.mae_weight * tf.reduce_mean(tf.abs(p - y))
        return loss

    @tf.function(input_signature=spec)
    def train_step(x: Any, nbr: Any, y: Any) -> Any:
        with tf.GradientTape() as tape:
            loss = _loss(x, nbr, y, True)
        grads = tape.gradient(loss, model.trainable_weights)
        optimizer.apply_gradients(zip(grads, model.trainable_weights, strict=True))
        return loss

    @tf.function(input_signature=spec)
    def eval_loss(x: Any, nbr: Any, y: Any) -> Any:
        return _loss(x, nbr, y, False)

    return train_step, eval_loss


def _fit(
    net: _Network, split: _Split, hyper: TeacherHyperparameters, console: Any, progress: bool
) -> list[dict[str, float]]:
    """The epochs: shuffled steps of ``events_per_step`` joined events; returns the history."""
    from qdistill.teacher.graph import batch_graphs, join_graphs

    train, val = split.train, split.held_out
    n_steps_epoch = -(-len(train.features) // hyper.events_per_step)
    train_step, eval_loss = _step_functions(net.model, hyper, hyper.epochs * n_steps_epoch)
    monitor = val.take(range(min(16, len(val.features))))
    monitor_graphs = [batch_graphs([f], hyper.k) for f in monitor.features]
    rng = np.random.default_rng(hyper.seed)
    history: list[dict[str, float]] = []
    for epoch in range(hyper.epochs):
        order = rng.permutation(len(train.features))
        losses = []
        with progress_bar(console, enabled=progress) as bar:
            task = bar.add_task(
                f"epoch {epoch + 1}/{hyper.epochs}", total=len(order), loss=float("nan")
            )
            for s in range(0, len(order), hyper.events_per_step):
                chosen = order[s : s + hyper.events_per_step]
                x, nbr = join_graphs(
                    [train.features[i] for i in chosen], [net.graphs[i] for i in chosen]
                )
                y = np.concatenate([train.truth[i] for i in chosen])
                losses.append(float(train_step(x, nbr, y)))
                bar.update(task, advance=len(chosen), loss=float(np.mean(losses[-50:])))
        val_loss = float(
            np.mean(
                [
                    eval_loss(x, nbr, y)
                    for (x, nbr), y in zip(monitor_graphs, monitor.truth, strict=True)
                ]
            )
        )
        history.append({"epoch": epoch + 1, "loss": float(np.mean(losses)), "val_loss": val_loss})
        console.print(
            f"epoch {epoch + 1}/{hyper.epochs}: loss {history[-1]['loss']:.4f}, "
            f"held-out loss {val_loss:.4f}"
        )
    return history


def _teacher_config(
    net: _Network,
    split: _Split,
    hyper: TeacherHyperparameters,
    data: Sequence[Path],
    training_seconds: float,
    threads: int,
    history: list[dict[str, float]],
) -> dict[str, Any]:
    """The content of teacher.json."""
    return manifest.tagged(
        CONFIG_KIND,
        CONFIG_VERSION,
        {
            "qdistill_version": __version__,
            "feature_names": list(split.feature_names),
            "hyperparameters": asdict(hyper),
            "standardisation": {
                "mean": net.mean.tolist(),
                "std": net.std.tolist(),
                "difference_std": None
                if net.difference_std is None
                else net.difference_std.tolist(),
            },
            "n_parameters": _n_parameters(net),
            "training": {
                "data": [str(p) for p in data],
                "n_events": len(split.train.features),
                "n_candidates": split.train.n_candidates,
                "seconds": training_seconds,
                "threads": threads,
                "history": history,
            },
        },
    )


def _write_teacher(
    output_dir: Path, model: Any, config: dict[str, Any], metrics: dict[str, Any]
) -> None:
    with atomic_path(output_dir) as tmp:
        tmp.mkdir()
        model.save(tmp / MODEL_FILE)
        (tmp / CONFIG_FILE).write_text(manifest.dumps(config))
        (tmp / METRICS_FILE).write_text(manifest.dumps(metrics))
