"""The ``qdistill`` command line: a thin typer layer that parses options and calls the library.

One module a stage (as da4ml's ``_cli``): :mod:`.data`, :mod:`.teacher`, :mod:`.student`,
:mod:`.firmware`, :mod:`.synth`, :mod:`.physics`, :mod:`.bench`, :mod:`.scan`. Every command's
work lives in a library function that tests call directly; here we only parse, print, and turn
:class:`qdistill.errors.QdistillError` into one line on standard error and exit 1. Defaults come
from the library's config dataclasses and signatures. TensorFlow is imported only by the
commands that run a network, when they run.
"""

from __future__ import annotations

import sys

import typer

from qdistill.cli import bench, data, firmware, physics, scan, student, synth, teacher
from qdistill.cli._common import ErrorLineGroup, print_json, setting_message

app = typer.Typer(
    cls=ErrorLineGroup,
    name="qdistill",
    help=(
        "Distil an event-level pileup GNN into a quantized per-particle network and verified "
        "FPGA firmware. Stages talk through files: data → teacher → train → convert → csim/rtl "
        "→ synth/report; evaluate and bench measure physics and speed; scan searches the "
        "design space."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(data.app, name="data")
app.add_typer(teacher.app, name="teacher")
app.command("train")(student.train)
app.command("convert")(firmware.convert)
app.command("csim")(firmware.csim)
app.command("rtl")(firmware.rtl)
app.command("emulate")(firmware.emulate)
app.command("synth")(synth.synth)
app.command("report")(synth.report)
app.command("evaluate")(physics.evaluate)
app.command("bench")(bench.bench)
app.command("scan")(scan.scan)


def main() -> None:
    """Console entry point."""
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("qdistill: interrupted", err=True)
        sys.exit(130)


__all__ = ["app", "main", "print_json", "setting_message"]
