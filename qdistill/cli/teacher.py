"""``qdistill teacher``: train the event-level GNN and write its soft labels."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qdistill.cli._common import JsonOption, default, print_json
from qdistill.teacher.config import DEFAULT_VALIDATION_FRACTION, TeacherHyperparameters
from qdistill.teacher.label import label_dataset
from qdistill.teacher.train import train_teacher

app = typer.Typer(
    help="Train the event-level GNN teacher and write soft labels.", no_args_is_help=True
)

_H = TeacherHyperparameters()
_TRAIN_THREADS = default(train_teacher, "threads")
_LABEL_THREADS = default(label_dataset, "threads")
ThreadsOption = Annotated[int, typer.Option(help="TensorFlow threads (1: times are per core).")]


@app.command("train")
def train(
    data: Annotated[
        list[Path],
        typer.Option(
            "--data",
            help="Training event file (W+jets), from `qdistill data`; repeat it to train on "
            "several files joined (e.g. --data wjets.h5 --data ttbar_train.h5).",
        ),
    ],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Teacher directory to write (replaced whole).")
    ],
    epochs: Annotated[int, typer.Option(help="Passes over the training events.")] = _H.epochs,
    seed: Annotated[int, typer.Option(help="Seed of weights, shuffling and hold-out split.")] = (
        _H.seed
    ),
    k: Annotated[int, typer.Option("--k", help="Neighbours per candidate in (η, φ).")] = _H.k,
    hidden: Annotated[int, typer.Option(help="Width of every edge and head MLP layer.")] = (
        _H.hidden
    ),
    blocks: Annotated[int, typer.Option(help="Edge-convolution blocks (at least 2).")] = (
        _H.n_blocks
    ),
    learning_rate: Annotated[
        float, typer.Option(help="Initial Adam learning rate (cosine decay to 5 %).")
    ] = _H.learning_rate,
    events_per_step: Annotated[
        int, typer.Option(help="Whole events joined into one graph per optimisation step.")
    ] = _H.events_per_step,
    neutral_weight: Annotated[
        float, typer.Option(help="Loss weight of neutral candidates relative to charged ones.")
    ] = _H.neutral_weight,
    mae_weight: Annotated[
        float,
        typer.Option(
            help="Weight of the absolute-error term (a plain mean over candidates) added to the "
            "cross-entropy; 0 for cross-entropy alone."
        ),
    ] = _H.mae_weight,
    pt_weight_power: Annotated[
        float,
        typer.Option(
            help="Weight each candidate's cross-entropy by (pT/GeV)^power: 1 counts momentum, "
            "as missing pT and jets do; 0 counts candidates."
        ),
    ] = _H.pt_weight_power,
    edge_standardisation: Annotated[
        bool,
        typer.Option(
            help="Divide the first block's x_j − x_i by their σ over the training edges, so the "
            "network resolves distances between neighbours (Δη, Δφ ≈ 0.01 of the event σ)."
        ),
    ] = _H.edge_standardisation,
    validation_data: Annotated[
        Path | None,
        typer.Option(help="Event file for the held-out metrics (e.g. tt̄); default: hold out."),
    ] = None,
    validation_fraction: Annotated[
        float, typer.Option(help="Fraction of training events held out without --validation-data.")
    ] = DEFAULT_VALIDATION_FRACTION,
    max_events: Annotated[
        int | None, typer.Option(help="Use at most this many events of --data (all files).")
    ] = None,
    max_validation_events: Annotated[
        int | None, typer.Option(help="Use at most this many held-out events for metrics.")
    ] = None,
    threads: ThreadsOption = _TRAIN_THREADS,
    json_output: JsonOption = False,
) -> None:
    """Train the event-level GNN teacher; writes model, teacher.json and metrics.json to -o."""
    hyper = TeacherHyperparameters(
        k=k,
        hidden=hidden,
        n_blocks=blocks,
        epochs=epochs,
        learning_rate=learning_rate,
        events_per_step=events_per_step,
        neutral_weight=neutral_weight,
        mae_weight=mae_weight,
        pt_weight_power=pt_weight_power,
        edge_standardisation=edge_standardisation,
        seed=seed,
    )
    metrics = train_teacher(
        data,
        output,
        hyper,
        validation_data=validation_data,
        validation_fraction=validation_fraction,
        max_events=max_events,
        max_validation_events=max_validation_events,
        threads=threads,
    )
    if json_output:
        print_json(metrics)
        return
    t, p = metrics["teacher"], metrics["puppi"]
    typer.echo(f"teacher written to {output} ({metrics['n_parameters']} parameters)")
    typer.echo(f"held-out: {metrics['n_events']} events of {metrics['data']}")
    for name in ("auc_neutral", "auc_neutral_pt_weighted", "mae_neutral", "auc_all", "mae_all"):
        tv, pv = (f"{v:.4f}" if v is not None else "n/a" for v in (t[name], p[name]))
        typer.echo(f"  {name:24s} teacher {tv}   PUPPI {pv}")
    typer.echo(f"inference: {metrics['inference']['seconds_per_event']:.3f} s/event")


@app.command("label")
def label(
    teacher_dir: Annotated[Path, typer.Argument(help="Teacher directory from `teacher train`.")],
    data: Annotated[
        Path, typer.Option("--data", help="Event file to add /particles/soft_label to.")
    ],
    threads: ThreadsOption = _LABEL_THREADS,
    json_output: JsonOption = False,
) -> None:
    """Write the teacher's soft label for every candidate into the event file (atomically)."""
    summary = label_dataset(teacher_dir, data, threads=threads)
    if json_output:
        print_json(summary)
        return
    typer.echo(
        f"{summary['n_candidates']} soft labels ({summary['n_events']} events) written to {data}"
    )
