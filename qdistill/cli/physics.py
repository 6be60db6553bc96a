"""``qdistill evaluate``: missing pT, jets and weight distributions of every weighting."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from qdistill.cli._common import JsonOption, print_json
from qdistill.physics.resolution import DEFAULT_BOOTSTRAP_SEED
from qdistill.physics.weightings import DEFAULT_FIRMWARE_ENGINE


def evaluate(
    data: Annotated[
        Path, typer.Option("--data", help="Event file (HDF5) to evaluate on, e.g. tt̄ at PU 140.")
    ],
    out_dir: Annotated[
        Path, typer.Option("-o", "--out", help="Directory for summary.json, summary.md, plots.")
    ],
    teacher: Annotated[
        Path | None,
        typer.Option(
            "--teacher", help="Teacher model directory (only used if the file has no soft labels)."
        ),
    ] = None,
    distillnet: Annotated[
        Path | None, typer.Option("--distillnet", help="Trained DistillNet model directory.")
    ] = None,
    qdistillnet: Annotated[
        Path | None, typer.Option("--qdistillnet", help="Trained QDistillNet model directory.")
    ] = None,
    project: Annotated[
        Path | None,
        typer.Option(
            "--project",
            help="Firmware project (qdistill convert) that gives the firmware weights; its own "
            "preprocessing.json prepares the inputs.",
        ),
    ] = None,
    firmware_engine: Annotated[
        str,
        typer.Option(
            "--firmware-engine",
            help="How the firmware weights are computed: emulator (bit-exact NumPy emulation, "
            "checked on the golden vectors first) or csim (the hls4ml C simulation, hundreds of "
            "times slower).",
        ),
    ] = DEFAULT_FIRMWARE_ENGINE,
    max_events: Annotated[
        int | None, typer.Option("--max-events", help="Evaluate only the first N events.")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the bootstrap resampling.")] = (
        DEFAULT_BOOTSTRAP_SEED
    ),
    json_output: JsonOption = False,
) -> None:
    """Missing-pT and jet resolution, weight distributions and accuracy of every weighting."""
    from qdistill.physics.evaluate import evaluate as evaluate_weightings
    from qdistill.physics.evaluate import summary_markdown
    from qdistill.progress import progress_bar, stderr_console

    console = stderr_console()
    bar = progress_bar(console, with_loss=False)
    task: list[Any] = []

    def on_progress(done: int, total: int) -> None:
        if not task:  # started only once the inputs are checked, so errors stand alone
            bar.start()
            task.append(bar.add_task("evaluate", total=total))
        bar.update(task[0], completed=done)

    try:
        summary = evaluate_weightings(
            data,
            out_dir,
            teacher_dir=teacher,
            distillnet_dir=distillnet,
            qdistillnet_dir=qdistillnet,
            project_dir=project,
            firmware_engine=firmware_engine,
            max_events=max_events,
            seed=seed,
            progress=on_progress,
        )
    finally:
        bar.stop()
    for name, why in summary["skipped"].items():
        console.print(f"evaluate: skipped {name}: {why}", highlight=False)
    for warning in summary["warnings"]:
        console.print(f"evaluate: warning: {warning}", highlight=False)
    if json_output:
        print_json(summary)
        return
    typer.echo(summary_markdown(summary))
    typer.echo(f"written: {out_dir}/summary.json, summary.md, {len(summary['plots'])} plots")
