"""Small helpers shared by the report parsers: reading a report safely, table cells, numbers.

Vendor reports are plain ASCII tables (``|cell|cell|``) whose numbers may carry units
(``5.00 ns``, ``1.975 us``) or markers (``~0``, ``<0.01``, ``?``, ``NA``, ``-``). These helpers
turn them into floats or None, never into a guessed number.
"""

from __future__ import annotations

import re
from pathlib import Path

from qdistill.errors import QdistillError

# Scale of a time unit relative to one nanosecond.
_TIME_UNITS_NS = {"ps": 1e-3, "ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
_NUMBER = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")
# Cell values that mean "the report has no number here".
_UNDEFINED = {"", "?", "undef", "na", "n/a", "-", "none"}
# Header block lines such as "| Tool Version : Vivado v.2019.1 ..." or "* Version: 2018.2 (...)".
_HEADER_FIELD = re.compile(r"^[|*]\s*([A-Za-z][A-Za-z ]*?)\s*:\s*(.*?)\s*$")


def read_report_text(path: Path, expected: str) -> str:
    """Return the text of the report ``path``; QdistillError if it is missing, binary or empty.

    ``expected`` names the kind of report the caller wants, for the error message.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise QdistillError(f"cannot read {path}: {exc.strerror}; expected {expected}") from None
    if not raw.strip():
        raise QdistillError(f"{path} is empty; expected {expected}")
    if b"\x00" in raw[:65536]:
        raise QdistillError(f"{path} is a binary file, not {expected}")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return raw.decode("latin-1")
        except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes every byte
            raise QdistillError(f"{path} is not a text file; expected {expected}") from None


def table_cells(line: str) -> list[str]:
    """Cells of one ``|a|b|c|`` table row, stripped; [] if ``line`` is not a table row."""
    text = line.strip()
    if not (text.startswith("|") and text.endswith("|")) or len(text) < 2:
        return []
    return [cell.strip() for cell in text[1:-1].split("|")]


def is_border(line: str) -> bool:
    """True for a table border line such as ``+-----+----+``."""
    text = line.strip()
    return len(text) > 1 and text[0] == "+" and text[-1] == "+" and set(text) <= set("+-")


def number(cell: str | None) -> float | None:
    """A plain number, or None for undefined markers (``?``, ``undef``, ``NA``, ``-``, empty).

    Whole numbers written without a point (counts, cycles) come back as ``int``. Raises ValueError
    for text that is neither, so that a misread column is never silent.
    """
    if cell is None:
        return None
    text = cell.strip()
    if text.lower() in _UNDEFINED:
        return None
    if not _NUMBER.match(text):
        raise ValueError(f"not a number: {cell!r}")
    return int(text) if text.lstrip("+-").isdigit() else float(text)


def time_ns(cell: str | None, default_unit: str = "ns") -> float | None:
    """A time such as ``5.00 ns``, ``1.975 us`` or a bare ``4.168`` (in ``default_unit``), in ns."""
    if cell is None:
        return None
    text = cell.strip()
    if text.lower() in _UNDEFINED:
        return None
    match = re.match(r"^(\S+)\s*(ps|ns|us|ms|s)?$", text)
    if not match:
        raise ValueError(f"not a time: {cell!r}")
    value = number(match.group(1))
    if value is None:
        return None
    return value * _TIME_UNITS_NS[match.group(2) or default_unit]


def printed_percent(cell: str | None) -> str | None:
    """A percentage exactly as printed (``14``, ``~0``, ``<0.01``, ``145``), or None if absent."""
    if cell is None:
        return None
    text = cell.strip()
    return None if text.lower() in _UNDEFINED else text


def header_fields(text: str, max_lines: int = 40) -> dict[str, str]:
    """The ``key : value`` fields of a report's header block (first ``max_lines`` lines).

    Keys are lower-cased with single spaces, e.g. ``tool version``, ``design state``,
    ``target device``. The first occurrence of a key wins.
    """
    fields: dict[str, str] = {}
    for line in text.splitlines()[:max_lines]:
        match = _HEADER_FIELD.match(line.strip())
        if match:
            key = " ".join(match.group(1).lower().split())
            fields.setdefault(key, match.group(2))
    return fields


def version_of(text: str) -> str | None:
    """The release number (``2019.2.1``) in e.g. ``Vivado v.2019.2.1 (lin64)``."""
    match = re.search(r"(\d{4}\.\d+(?:\.\d+)?)", text)
    return match.group(1) if match else None


def percent_of(used: float | None, available: float | None) -> float | None:
    """100 × used / available from the report's own figures, or None if either is missing."""
    if used is None or not available:
        return None
    return 100.0 * used / available
