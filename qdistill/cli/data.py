"""``qdistill data``: generate, import and inspect event files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from qdistill.cli._common import JsonOption, default, print_json
from qdistill.data.delphes import import_delphes as delphes_import
from qdistill.data.generate import generate_events
from qdistill.data.puppi import VERTEX_ASSOCIATIONS, PuppiParameters
from qdistill.errors import QdistillError

app = typer.Typer(help="Generate, import and inspect event files (HDF5).", no_args_is_help=True)

OutputOption = Annotated[
    Path, typer.Option("-o", "--output", help="Event file to write (HDF5, written atomically).")
]
QuietOption = Annotated[bool, typer.Option("--quiet", help="No progress bar.")]


@app.command("generate")
def generate(
    output: OutputOption,
    process: Annotated[
        str,
        typer.Option("--process", help="Hard process: wjets (W→ℓν + jets) or ttbar (dileptonic)."),
    ] = "ttbar",
    events: Annotated[int, typer.Option("--events", help="Number of events (≥ 1).")] = 100,
    pileup: Annotated[
        float, typer.Option("--pileup", help="Mean number of pileup collisions (Poisson), ≥ 0.")
    ] = 140.0,
    seed: Annotated[
        int,
        typer.Option("--seed", help="Master seed (≥ 0); same seed → same file for any --workers."),
    ] = 1,
    workers: Annotated[
        int,
        typer.Option(
            "--workers", help="Processes of a local Dask cluster (≥ 1; 1: in this process)."
        ),
    ] = default(generate_events, "workers"),
    vertex_association: Annotated[
        str,
        typer.Option(
            "--vertex-association",
            help="How PUPPI tells primary from pileup tracks: 'delphes' (Delphes' 140PU card: "
            "pileup only when truly pileup and more than 0.1 mm from the primary vertex in true "
            "z) or 'cms' (measured dz within 3σ, or the primary vertex is the closest "
            "reconstructed one within 3 mm).",
        ),
    ] = PuppiParameters.vertex_association,
    quiet: QuietOption = False,
) -> None:
    """Generate events: Pythia 8 hard process + pileup + detector response + PUPPI."""
    if vertex_association not in VERTEX_ASSOCIATIONS:
        raise QdistillError(
            f"--vertex-association {vertex_association!r}: choose one of "
            f"{', '.join(VERTEX_ASSOCIATIONS)}"
        )
    puppi = PuppiParameters(vertex_association=vertex_association)
    path = generate_events(
        process, events, pileup, seed, output, workers, progress=not quiet, puppi=puppi
    )
    typer.echo(f"wrote {path}", err=True)


@app.command("info")
def info(
    path: Annotated[Path, typer.Argument(help="Event file (HDF5) to summarise.")],
    json_output: JsonOption = False,
) -> None:
    """Summarise an event file: sizes, primary-vertex energy share, PUPPI AUC on neutrals."""
    from rich.console import Console
    from rich.table import Table

    from qdistill.data.info import SUMMARY_KEYS, data_info

    summary = data_info(path)
    if json_output:
        print_json(summary)
        return
    table = Table(title=str(path), show_header=False)
    for key in SUMMARY_KEYS:
        value = summary[key]
        if isinstance(value, list):
            text = "\n".join(map(str, value)) or "nothing"
        else:
            text = f"{value:.4g}" if isinstance(value, float) else str(value)
        table.add_row(key, text)
    Console().print(table)


@app.command("import-distillnet")
def import_distillnet(
    src: Annotated[Path, typer.Argument(help="DistillNet-layout HDF5 file to convert.")],
    output: OutputOption,
    quiet: QuietOption = False,
) -> None:
    """Convert the public DistillNet dataset layout; its teacher weight becomes the soft label."""
    from qdistill.data.distillnet import import_distillnet as convert

    path = convert(src, output, progress=not quiet)
    typer.echo(f"wrote {path}", err=True)


@app.command("import-delphes")
def import_delphes(
    sources: Annotated[
        list[Path], typer.Argument(help="Delphes ROOT files (read with uproot), in order.")
    ],
    output: OutputOption,
    tree: Annotated[str, typer.Option("--tree", help="Name of the Delphes tree.")] = default(
        delphes_import, "tree"
    ),
    puppi_leaf: Annotated[
        str | None,
        typer.Option(
            "--puppi-leaf",
            help="Leaf of EFlowTrack, EFlowPhoton and EFlowNeutralHadron holding a PUPPI weight "
            "(e.g. from a custom card); by default qdistill's PUPPI computes it and says so.",
        ),
    ] = None,
    quiet: QuietOption = False,
    json_output: JsonOption = False,
) -> None:
    """Import Delphes output: EFlow candidates with their 16 features, truth and generator
    particles where the file has them (what it lacks is listed, never invented)."""
    from qdistill.progress import progress_bar, stderr_console

    console = stderr_console()
    bar = progress_bar(console, with_loss=False, enabled=not (quiet or json_output))
    tasks: list[Any] = []

    def on_progress(done: int, total: int) -> None:
        if not tasks:  # started once every file is checked: an error prints alone
            bar.start()
            tasks.append(bar.add_task("importing", total=total))
        bar.update(tasks[0], completed=done)

    try:
        result = delphes_import(
            sources, output, tree=tree, puppi_leaf=puppi_leaf, progress=on_progress
        )
    finally:
        if tasks:
            bar.stop()
    if json_output:
        print_json(result.to_json())
        return
    dropped = ", ".join(f"{n} {c}" for c, n in result.dropped_invalid.items() if n)
    console.print(
        f"wrote {result.output}: {result.events} events, {result.candidates} candidates; "
        f"dropped as invalid (PT = 0 or |η| > 100): {dropped or 'none'}",
        highlight=False,
        soft_wrap=True,
    )
    for line in result.missing:
        console.print(f"note: {line}", highlight=False, soft_wrap=True)
