"""Rich progress bars on standard error, the same columns in every stage."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


def stderr_console() -> Console:
    """A console on standard error, so standard output stays free for ``--json``."""
    return Console(stderr=True)


def progress_bar(
    console: Console | None = None,
    enabled: bool = True,
    with_loss: bool = True,
    unit: str = "events",
) -> Progress:
    """Description, bar, ``unit`` done/total, running loss (tasks need a ``loss`` field), times.

    ``loss`` is a number (NaN before the first batch).
    """
    columns: list[ProgressColumn | str] = [
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
    ]
    if with_loss:
        columns.append(TextColumn("loss {task.fields[loss]:.4f}"))
    columns += [TimeElapsedColumn(), TimeRemainingColumn()]
    return Progress(*columns, console=console or stderr_console(), disable=not enabled)
