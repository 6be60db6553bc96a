"""``qdistill train``: train DistillNet or QDistillNet on the teacher's soft labels."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qdistill.cli._common import JsonOption, default, print_json
from qdistill.errors import QdistillError
from qdistill.student.config import (
    DEFAULT_BITS,
    DEFAULT_HIDDEN,
    DEFAULT_SPARSITY,
    KINDS,
    TERMS,
    LossSettings,
    ModelSpec,
    TrainConfig,
    parse_hidden,
    parse_high_target_weight,
)

_LOSS = LossSettings()
_TERMS = ", ".join(TERMS)


def train(
    model: Annotated[
        str, typer.Option("--model", help="Student to train: distillnet (float) or qdistillnet.")
    ],
    data: Annotated[
        Path, typer.Option("--data", help="Training event file with soft labels (W+jets).")
    ],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Output directory (written atomically).")
    ],
    hidden: Annotated[
        str | None,
        typer.Option(
            "--hidden",
            help="Hidden sizes, comma-separated (default "
            + "; ".join(f"{','.join(map(str, h))} for {k}" for k, h in DEFAULT_HIDDEN.items())
            + ").",
        ),
    ] = None,
    bits: Annotated[
        int, typer.Option("--bits", help="QDistillNet bits of weights, biases, activations.")
    ] = DEFAULT_BITS,
    weight_bits: Annotated[
        int | None,
        typer.Option("--weight-bits", help="QDistillNet kernel and bias bits (default: --bits)."),
    ] = None,
    activation_bits: Annotated[
        int | None,
        typer.Option(
            "--activation-bits",
            help="QDistillNet bits of the hidden ReLU outputs (default: --bits).",
        ),
    ] = None,
    input_bits: Annotated[
        int,
        typer.Option(
            "--input-bits",
            help="QDistillNet width of the FPGA input type ap_fixed<N,5> (range ±16 whatever N).",
        ),
    ] = default(ModelSpec, "input_bits"),
    sparsity: Annotated[
        float, typer.Option("--sparsity", help="QDistillNet target sparsity of hidden kernels.")
    ] = DEFAULT_SPARSITY,
    epochs: Annotated[int, typer.Option("--epochs", help="Training epochs.")] = default(
        TrainConfig, "epochs"
    ),
    batch_size: Annotated[int, typer.Option("--batch-size", help="Particles per batch.")] = (
        default(TrainConfig, "batch_size")
    ),
    seed: Annotated[int, typer.Option("--seed", help="Seed of initialisation and shuffling.")] = (
        default(TrainConfig, "seed")
    ),
    validation_data: Annotated[
        Path | None,
        typer.Option(
            "--validation-data",
            help="Held-out labelled event file (e.g. ttbar) for metrics.json; without it the "
            "last --holdout-fraction of the training events is held out.",
        ),
    ] = None,
    holdout_fraction: Annotated[
        float | None,
        typer.Option(
            "--holdout-fraction",
            help="Fraction of training events held out (default 0 with --validation-data, "
            "else 0.1).",
        ),
    ] = None,
    max_particles: Annotated[
        int | None,
        typer.Option(
            "--max-particles", help="Train on at most this many particles (whole events)."
        ),
    ] = None,
    loss: Annotated[
        str, typer.Option("--loss", help=f"T(teacher, student) term of eq. 1: {_TERMS}.")
    ] = _LOSS.teacher_term,
    truth_loss: Annotated[
        str, typer.Option("--truth-loss", help=f"S(truth, student) term of eq. 1: {_TERMS}.")
    ] = _LOSS.truth_term,
    gamma: Annotated[float, typer.Option("--gamma", help="Weight γ of the teacher term.")] = (
        _LOSS.gamma
    ),
    beta: Annotated[float, typer.Option("--beta", help="Weight β of the truth term.")] = (
        _LOSS.beta
    ),
    temperature: Annotated[
        float, typer.Option("--temperature", help="Temperature τ of the kl terms.")
    ] = _LOSS.temperature,
    high_target_weight: Annotated[
        str,
        typer.Option(
            "--high-target-weight",
            help="Weight of particles whose target is ≥ 0.95 in the loss: a number (default 3, "
            "the reference DistillNet code's weightedlossval; 1 = unweighted) or 'auto' (the ratio "
            "of targets in [0, 0.05] or [0.95, 1] to those in [0.95, 1], ≈ 1900 on our W+jets, "
            "which the reference computes but does not use: it pushes the weights up).",
        ),
    ] = f"{_LOSS.high_target_weight:g}",
    learning_rate: Annotated[
        float, typer.Option("--learning-rate", help="Adam learning rate (cosine-decayed).")
    ] = default(TrainConfig, "learning_rate"),
    finetune_epochs: Annotated[
        int,
        typer.Option(
            "--finetune-epochs",
            help="QDistillNet: epochs fine-tuning the output layer after folding batch norm.",
        ),
    ] = default(TrainConfig, "finetune_epochs"),
    batchnorm: Annotated[
        bool,
        typer.Option(
            "--batchnorm/--no-batchnorm",
            help="Batch norm between the last hidden layer and the output (the paper's); "
            "QDistillNet folds it into the output layer after training.",
        ),
    ] = default(ModelSpec, "batchnorm"),
    threads: Annotated[int, typer.Option("--threads", help="TensorFlow threads.")] = 1,
    json_output: JsonOption = False,
) -> None:
    """Train DistillNet or QDistillNet on the teacher's soft labels (writes DIR/model.h5,
    preprocessing.json, student.json, metrics.json)."""
    from qdistill.keras_backend import import_tensorflow
    from qdistill.student.train import train_student

    if model not in KINDS:
        raise QdistillError(f"--model {model!r}: choose one of {list(KINDS)}")
    weight = parse_high_target_weight(high_target_weight)
    spec = ModelSpec(
        kind=model,
        hidden=parse_hidden(hidden) if hidden else DEFAULT_HIDDEN[model],
        bits=bits,
        sparsity=sparsity,
        batchnorm=batchnorm,
        weight_bits=weight_bits,
        activation_bits=activation_bits,
        input_bits=input_bits,
    )
    import_tensorflow(threads)
    config = TrainConfig(
        spec=spec,
        data=data,
        output=output,
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
        learning_rate=learning_rate,
        validation_data=validation_data,
        holdout_fraction=holdout_fraction,
        max_particles=max_particles,
        finetune_epochs=finetune_epochs,
        loss=LossSettings(
            teacher_term=loss,
            truth_term=truth_loss,
            gamma=gamma,
            beta=beta,
            temperature=temperature,
            high_target_weight=1.0 if weight is None else weight,
        ),
        auto_high_target_weight=weight is None,
    )
    metrics = train_student(config)
    if json_output:
        print_json(metrics)
        return
    puppi = metrics["puppi"]
    typer.echo(
        f"{model} → {output}: accuracy {metrics['accuracy']:.4f} (PUPPI "
        f"{puppi['accuracy']:.4f}), MAE to teacher {metrics['mae_to_teacher']:.4f}, "
        f"AUC {metrics['roc_auc_truth']:.4f}, {metrics['n_parameters']} parameters, "
        f"hidden sparsity {metrics['sparsity']['hidden_overall']:.3f}",
        err=True,
    )
