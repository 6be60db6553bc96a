"""What every command shares: the error handling group, ``--json``, printing and defaults."""

from __future__ import annotations

import dataclasses
import inspect
import sys
from typing import Annotated, Any

import click
import typer
from typer.core import TyperGroup

from qdistill import manifest
from qdistill.errors import QdistillError, SettingError
from qdistill.firmware import DEFAULT_PROJECT

PROJECT_HELP = f"Firmware project folder (default: {DEFAULT_PROJECT})."

#: Config fields whose option is not simply ``--field-name``.
_OPTION_OF_SETTING = {"n_blocks": "--blocks"}
#: Config fields that no option sets (an error then names the field itself).
_SETTINGS_WITHOUT_OPTION = frozenset({"edge_layers"})


def setting_message(exc: SettingError) -> str:
    """The error line for a SettingError, naming the option the user typed."""
    if exc.setting in _SETTINGS_WITHOUT_OPTION:
        return f"setting {exc.setting} (no option sets it) {exc.requirement}"
    option = _OPTION_OF_SETTING.get(exc.setting, "--" + exc.setting.replace("_", "-"))
    return f"{option} {exc.requirement}"


class ErrorLineGroup(TyperGroup):
    """Turns QdistillError from any command into one line on standard error and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except QdistillError as exc:
            message = setting_message(exc) if isinstance(exc, SettingError) else str(exc)
            typer.echo(f"qdistill: error: {message}", err=True)
            raise typer.Exit(1) from None


#: The one ``--json`` option of every command; its parameter is always ``json_output``.
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON object on standard output and nothing else.")
]


def default(owner: Any, name: str) -> Any:
    """The library's default of ``name``: a dataclass field or a function parameter.

    The options take their defaults from here, so a default lives in the library only.
    """
    if dataclasses.is_dataclass(owner):
        for f in dataclasses.fields(owner):
            if f.name == name:
                if f.default is not dataclasses.MISSING:
                    return f.default
                if f.default_factory is not dataclasses.MISSING:
                    return f.default_factory()
        raise KeyError(f"{owner.__name__} has no default for {name}")
    value = inspect.signature(owner).parameters[name].default
    if value is inspect.Parameter.empty:
        raise KeyError(f"{owner.__name__}() has no default for {name}")
    return value


def print_json(obj: Any) -> None:
    """Print ``obj`` as one strict JSON object on standard output (NaN and inf become null)."""
    sys.stdout.write(manifest.dumps(obj))


def fail(message: str) -> None:
    """Print one clear line to standard error and exit 1."""
    typer.echo(f"qdistill: error: {message}", err=True)
    raise typer.Exit(1)
