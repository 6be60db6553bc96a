"""``qdistill synth`` and ``report``: synthesis flows and the resource/latency table."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from qdistill.cli._common import JsonOption, print_json
from qdistill.firmware import DEFAULT_PROJECT


def _print_reports(reports: list[Any], json_output: bool) -> None:
    """One JSON object (--json) or the resource/latency table on standard output."""
    from qdistill.synth.report import reports_to_json
    from qdistill.synth.table import report_table

    if json_output:
        print_json(reports_to_json(reports))
        return
    from rich.console import Console

    Console().print(report_table(reports))


def synth(
    project: Annotated[
        Path,
        typer.Argument(help="Firmware project made by qdistill convert (holds project.json)."),
    ] = Path(DEFAULT_PROJECT),
    part: Annotated[
        str | None,
        typer.Option(
            "--part",
            help="FPGA part, e.g. xcvu13p-flga2577-2-e (default: the project's part, else "
            "the default part). Must be a part qdistill knows.",
        ),
    ] = None,
    flow: Annotated[
        str,
        typer.Option(
            "--flow",
            help="auto (vitis_hls, else vivado_hls, else yosys), vivado (Vivado HLS), "
            "vitis (Vitis HLS) or yosys (open-source).",
        ),
    ] = "auto",
    clock_mhz: Annotated[
        float | None,
        typer.Option("--clock-mhz", help="Clock in MHz (default: the project's clock_mhz)."),
    ] = None,
    cosim: Annotated[
        bool, typer.Option("--cosim", help="Also run C/RTL co-simulation (HLS flows).")
    ] = False,
    export: Annotated[
        bool, typer.Option("--export", help="Also export the IP catalog package (HLS flows).")
    ] = False,
    vivado_synth: Annotated[
        bool,
        typer.Option(
            "--vivado-synth",
            help="After HLS, run out-of-context Vivado synthesis of the RTL (needs vivado).",
        ),
    ] = False,
    place_route: Annotated[
        bool,
        typer.Option("--place-route", help="With --vivado-synth: also place and route."),
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Run HLS (and optionally Vivado) or the yosys flow on PROJECT and print its reports."""
    from qdistill.synth.runner import run_synthesis

    reports = run_synthesis(
        project,
        part,
        flow,
        cosim,
        clock_mhz=clock_mhz,
        export=export,
        vivado_synth=vivado_synth,
        place_route=place_route,
    )
    _print_reports(reports, json_output)


def report(
    path: Annotated[
        Path,
        typer.Argument(
            help="A report file (csynth .xml/.rpt, cosim.rpt, Vivado utilization or timing "
            "summary) or a project folder to search for them."
        ),
    ],
    json_output: JsonOption = False,
) -> None:
    """Read Vivado HLS, Vitis HLS and Vivado reports; print a table or one JSON object."""
    from qdistill.synth.report import read_reports

    _print_reports(read_reports(path), json_output)
