"""Run one vendor tool: stream its output to a log file, show one status line on standard error.

A failing tool becomes a QdistillError carrying the last error lines of its log, so the user sees
why without opening the log; the log keeps everything, headed by the exact command line so that a
firmware engineer can rerun it by hand.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import time
from pathlib import Path
from typing import TextIO

from rich.console import Console

from qdistill.errors import QdistillError

# "***** C SYNTHESIS *****" — the step banners of our Tcl scripts (and of hls4ml's).
_STEP = re.compile(r"^\*{5}\s*(.+?)\s*\*{5}\s*$")
_ERROR = re.compile(r"\bERROR\b|\bError:|\bFAILED\b")
ERROR_LINES_SHOWN = 3


def run_tool(command: list[str], cwd: Path, log_path: Path, label: str) -> None:
    """Run ``command`` (an argument list, never a shell string) in ``cwd``, logging to ``log_path``.

    Raises QdistillError if the tool cannot start or exits non-zero.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    console = Console(stderr=True, soft_wrap=True)
    started = time.monotonic()
    # The log is written as the tool runs (users follow it with tail -f) and is kept on failure,
    # so it is deliberately not an atomic output.
    with log_path.open("w", encoding="utf-8") as log:
        log.write(f"# {shlex.join(command)}\n# cwd: {cwd}\n")
        log.flush()
        try:
            process = subprocess.Popen(
                command,
                cwd=cwd,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
                bufsize=1,
            )
        except OSError as exc:
            raise QdistillError(f"cannot start {command[0]}: {exc.strerror}") from None
        with process:  # closes the pipe whatever happens
            try:
                _follow(process, log, console, label, log_path, started)
                code = process.wait()
            finally:
                if process.poll() is None:
                    process.terminate()
                    process.wait()
    elapsed = time.monotonic() - started
    if code != 0:
        raise QdistillError(
            f"{label} failed (exit code {code}) after {elapsed:.0f} s: "
            f"{' | '.join(last_error_lines(log_path))} (full log: {log_path})"
        )
    console.print(f"{label}: done in {elapsed:.0f} s (log: {log_path})", highlight=False)


def _follow(
    process: subprocess.Popen[str],
    log: TextIO,
    console: Console,
    label: str,
    log_path: Path,
    started: float,
) -> None:
    """Copy the tool's output to the log; report each new step on the status line."""
    assert process.stdout is not None
    if console.is_terminal:
        with console.status(f"{label}: starting (log: {log_path})") as status:
            for line in process.stdout:
                log.write(line)
                step = _STEP.match(line.strip())
                if step:
                    minutes = (time.monotonic() - started) / 60
                    status.update(f"{label}: {step.group(1)} [{minutes:.1f} min] (log: {log_path})")
    else:
        console.print(f"{label}: running (log: {log_path})", highlight=False)
        for line in process.stdout:
            log.write(line)
            step = _STEP.match(line.strip())
            if step:
                console.print(f"{label}: {step.group(1)}", highlight=False)


def last_error_lines(log_path: Path, count: int = ERROR_LINES_SHOWN) -> list[str]:
    """The last ``count`` lines of the log that report an error, else its last ``count`` lines."""
    lines = [
        line.strip()
        for line in log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        if line.strip() and not line.startswith("# ")
    ]
    errors = [line for line in lines if _ERROR.search(line)]
    return (errors or lines or ["(the log is empty)"])[-count:]
