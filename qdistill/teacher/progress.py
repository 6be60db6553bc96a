"""Rich progress bars on standard error for the teacher's per-event loops."""

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


def progress_bar(console: Console, enabled: bool = True, with_loss: bool = True) -> Progress:
    """Description, bar, events done/total, running loss (tasks need a ``loss`` field), times."""
    columns: list[ProgressColumn | str] = [
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("events"),
    ]
    if with_loss:
        columns.append(TextColumn("loss {task.fields[loss]:.4f}"))
    columns += [TimeElapsedColumn(), TimeRemainingColumn()]
    return Progress(*columns, console=console, disable=not enabled)
