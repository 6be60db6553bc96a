"""``qdistill bench``: single-thread CPU latency against batch size (the paper's figure 5)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qdistill.bench.latency import bench_options
from qdistill.cli._common import JsonOption, default, print_json


def bench(
    output: Annotated[
        Path,
        typer.Option(
            "-o", "--output", help="Directory for bench.json, latency.png and latency.pdf."
        ),
    ],
    teacher: Annotated[
        Path | None,
        typer.Option(help="Teacher directory (`qdistill teacher train`); timed one event a call."),
    ] = None,
    distillnet: Annotated[
        Path | None, typer.Option(help="DistillNet directory (`qdistill train`); timed in Keras.")
    ] = None,
    qdistillnet: Annotated[
        Path | None,
        typer.Option(help="QDistillNet directory (`qdistill train`); timed in QKeras."),
    ] = None,
    project: Annotated[
        Path | None,
        typer.Option(
            help="Firmware project (`qdistill convert`); its hls4ml C-simulation library is timed."
        ),
    ] = None,
    batch_sizes: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated batch sizes in particles "
            "(default 1,10,100,1000,9000,90000; with --quick 1,100,9000)."
        ),
    ] = None,
    repeats: Annotated[
        int | None,
        typer.Option(help="Timed calls per point, at most (default 20; with --quick 5)."),
    ] = None,
    warmup: Annotated[
        int | None,
        typer.Option(help="Untimed calls before each point (default 3; with --quick 1)."),
    ] = None,
    budget_seconds: Annotated[
        float | None,
        typer.Option(
            help="Stop repeating a point after this many seconds, once it has 3 repeats "
            "(default 20)."
        ),
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option(
            help="Event file (HDF5) whose particles and events are timed; default: synthetic "
            "particles of the same shape."
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic particles.")] = default(
        bench_options, "seed"
    ),
    quick: Annotated[
        bool, typer.Option("--quick", help="Fewer batch sizes, repeats and warm-up calls.")
    ] = False,
    keras_call: Annotated[
        str | None,
        typer.Option(
            help="How the Keras students are called: 'function' (one tf.function for every "
            "batch size, the default) or 'predict_on_batch'."
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Single-thread CPU latency against particle batch size (the paper's figure 5).

    Teacher: one event a call. DistillNet, QDistillNet: Keras. --project: hls4ml C simulation.

    Models not given are skipped; with none, firmware_projects/qdistillnet is timed (QKeras, C sim).
    """
    from qdistill.bench import latency

    options = latency.bench_options(
        batch_sizes=batch_sizes,
        repeats=repeats,
        warmup=warmup,
        budget_s=budget_seconds,
        seed=seed,
        quick=quick,
        keras_call=keras_call,
    )
    paths = latency.ModelPaths(
        teacher=teacher, distillnet=distillnet, qdistillnet=qdistillnet, project=project
    )
    result = latency.benchmark_latency(paths, options, output, data=data)
    if json_output:
        print_json(result)
    else:
        typer.echo(latency.format_table(result))
