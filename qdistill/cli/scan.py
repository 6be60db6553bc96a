"""``qdistill scan``: the design-space scan of QDistillNet on Dask."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from qdistill.cli._common import JsonOption, default, print_json
from qdistill.scan.grid import ScanGrid, format_values
from qdistill.scan.point import PointSettings


def scan(
    data: Annotated[
        Path, typer.Option("--data", help="Labelled training event file (qdistill teacher label).")
    ],
    validation_data: Annotated[
        Path,
        typer.Option(
            "--validation-data",
            help="Labelled event file for the golden vectors and the physics of every point.",
        ),
    ],
    out_dir: Annotated[
        Path, typer.Option("-o", "--out", help="Scan directory: points/, scan.json, scan.csv.")
    ],
    weight_bits: Annotated[
        str, typer.Option("--weight-bits", help="Kernel/bias widths to scan, e.g. 4,6,8.")
    ] = format_values(default(ScanGrid, "weight_bits")),
    activation_bits: Annotated[
        str, typer.Option("--activation-bits", help="ReLU output widths to scan, e.g. 4,6,8.")
    ] = format_values(default(ScanGrid, "activation_bits")),
    input_bits: Annotated[
        str,
        typer.Option("--input-bits", help="FPGA input widths ap_fixed<N,5> to scan, e.g. 10,16."),
    ] = format_values(default(ScanGrid, "input_bits")),
    sparsity: Annotated[
        str, typer.Option("--sparsity", help="Target sparsities of the hidden kernels, in [0, 1).")
    ] = format_values(default(ScanGrid, "sparsity")),
    hidden: Annotated[
        list[str] | None,
        typer.Option(
            "--hidden",
            metavar="64,32",
            help="Hidden sizes, comma-separated; repeat for several "
            f"(default {' '.join(format_values(h) for h in default(ScanGrid, 'hidden'))}).",
        ),
    ] = None,
    epochs: Annotated[int, typer.Option("--epochs", help="Training epochs per point.")] = default(
        PointSettings, "epochs"
    ),
    max_events: Annotated[
        int | None,
        typer.Option("--max-events", help="Validation events for each point's physics (all)."),
    ] = None,
    workers: Annotated[
        int, typer.Option("--workers", help="Processes of the local Dask cluster (one task each).")
    ] = 2,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="Address of a running Dask scheduler (tcp://host:8786) instead of a local "
            "cluster, e.g. one started with dask-jobqueue on HTCondor or Slurm.",
        ),
    ] = None,
    threads: Annotated[
        int, typer.Option("--threads", help="TensorFlow/BLAS threads per task.")
    ] = default(PointSettings, "threads"),
    seed: Annotated[int, typer.Option("--seed", help="Seed of training and golden draw.")] = (
        default(PointSettings, "seed")
    ),
    yosys_pareto: Annotated[
        bool,
        typer.Option(
            "--yosys-pareto",
            help="Then build the RTL (da4ml, checked with Verilator) and run Yosys on every "
            "Pareto point without an estimate yet (minutes each).",
        ),
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Train, convert, check bit for bit, cost (da4ml) and evaluate every QDistillNet of a grid;
    write the Pareto front of resolution against LUTs. Finished points are skipped on a rerun."""
    from qdistill.progress import progress_bar, stderr_console
    from qdistill.scan.grid import parse_floats, parse_hidden_options, parse_ints
    from qdistill.scan.run import run_scan, table_markdown

    grid = ScanGrid(
        weight_bits=parse_ints(weight_bits, "--weight-bits"),
        activation_bits=parse_ints(activation_bits, "--activation-bits"),
        input_bits=parse_ints(input_bits, "--input-bits"),
        sparsity=parse_floats(sparsity, "--sparsity"),
        hidden=parse_hidden_options(hidden) if hidden else default(ScanGrid, "hidden"),
    )
    settings = PointSettings(
        data=data,
        validation_data=validation_data,
        epochs=epochs,
        seed=seed,
        max_events=max_events,
        threads=threads,
    )
    console = stderr_console()
    bar = progress_bar(console, with_loss=False, unit="points", enabled=not json_output)
    tasks: dict[str, Any] = {}

    def on_progress(stage: str, done: int, total: int) -> None:
        if not tasks:
            bar.start()
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=total)
        bar.update(tasks[stage], completed=done)

    try:
        outcome = run_scan(
            grid,
            settings,
            out_dir,
            workers=workers,
            scheduler=scheduler,
            yosys_pareto=yosys_pareto,
            progress=on_progress,
        )
    finally:
        if tasks:  # a bar never started would still print an empty line
            bar.stop()
    for name, why in outcome.failed.items():
        console.print(f"scan: point {name} failed: {why}", highlight=False)
    if json_output:
        print_json(
            {
                "directory": str(outcome.directory),
                "computed": outcome.computed,
                "reused": outcome.reused,
                "synthesised": outcome.synthesised,
                "failed": outcome.failed,
                "points": outcome.rows,
            }
        )
    else:
        typer.echo(table_markdown(outcome.rows))
        typer.echo(
            f"{len(outcome.computed)} points computed, {len(outcome.reused)} reused, "
            f"{len(outcome.synthesised)} synthesised with Yosys, {len(outcome.failed)} failed; "
            f"{out_dir}/scan.json, scan.csv, pareto.png"
        )
    if outcome.failed:
        raise typer.Exit(1)
