"""The ``qdistill`` command line: a thin typer layer that parses options and calls the library.

Every command's work lives in a library function that tests call directly; here we only parse,
print, and turn :class:`qdistill.errors.QdistillError` into one line on standard error and exit 1.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from typer.core import TyperGroup

from qdistill.errors import QdistillError


class _Group(TyperGroup):
    """Turns QdistillError from any command into one line on standard error and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except QdistillError as exc:
            typer.echo(f"qdistill: error: {exc}", err=True)
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=_Group,
    name="qdistill",
    help=(
        "Distil an event-level pileup GNN into a quantized per-particle network and verified "
        "FPGA firmware. Stages talk through files: data → teacher → train → convert → csim/rtl "
        "→ synth/report; evaluate and bench measure physics and speed."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
data_app = typer.Typer(
    help="Generate, import and inspect event files (HDF5).", no_args_is_help=True
)
teacher_app = typer.Typer(
    help="Train the event-level GNN teacher and write soft labels.", no_args_is_help=True
)
app.add_typer(data_app, name="data")
app.add_typer(teacher_app, name="teacher")

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON object on standard output and nothing else.")
]


def print_json(obj: Any) -> None:
    """Print ``obj`` as one JSON object on standard output."""
    sys.stdout.write(json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n")


def _json_default(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def fail(message: str) -> None:
    """Print one clear line to standard error and exit 1."""
    typer.echo(f"qdistill: error: {message}", err=True)
    raise typer.Exit(1)


# ---------------------------------------------------------------------------------------------
# data


# ---------------------------------------------------------------------------------------------
# teacher


# ---------------------------------------------------------------------------------------------
# train (students)


# ---------------------------------------------------------------------------------------------
# convert, csim (firmware)


# ---------------------------------------------------------------------------------------------
# rtl


# ---------------------------------------------------------------------------------------------
# synth, report


# ---------------------------------------------------------------------------------------------
# evaluate


# ---------------------------------------------------------------------------------------------
# bench


# ---------------------------------------------------------------------------------------------


def main() -> None:
    """Console entry point."""
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("qdistill: interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
