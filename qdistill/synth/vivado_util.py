"""Vivado ``report_utilization`` text report → :class:`SynthReport` (tool ``vivado``).

Figures come from the *first* ``| CLB LUTs``, ``| CLB Registers``, ``| Block RAM Tile``,
``| URAM`` and ``| DSPs`` rows (7-series: ``Slice LUTs`` / ``Slice Registers``); the same labels
recur later (``CLB Logic Distribution``, SLR tables) with other columns. Columns are read by their
header, so the ``Prohibited`` column of Vivado 2024 does not shift anything. ``CLB LUTs*`` (after
synthesis) and ``CLB LUTs`` (after route) are the same row.

Block RAM: Vivado counts 36 Kb tiles (``1.5`` = one 18 Kb half-tile and one full tile's worth);
HLS counts 18 Kb blocks. To compare the two, ``BRAM_18K`` here is 2 × the tile figures (used and
available); the tile figures as printed are kept in ``extra["bram_tiles"]``.
"""

from __future__ import annotations

import re
from pathlib import Path

from qdistill.devices import RESOURCE_KINDS
from qdistill.errors import QdistillError
from qdistill.synth._text import (
    header_fields,
    number,
    percent_of,
    printed_percent,
    read_report_text,
    table_cells,
    version_of,
)
from qdistill.synth.schema import Resource, SynthReport

EXPECTED = "a Vivado utilization report (report_utilization)"
# Row label (without the trailing '*') → what it counts.
ROW_LABELS: dict[str, str] = {
    "CLB LUTs": "LUT",
    "Slice LUTs": "LUT",
    "CLB Registers": "FF",
    "Slice Registers": "FF",
    "DSPs": "DSP",
    "Block RAM Tile": "bram_tiles",
    "URAM": "URAM",
    "RAMB36/FIFO": "RAMB36/FIFO",
    "RAMB18": "RAMB18",
    "CARRY8": "CARRY8",
    "CARRY4": "CARRY4",
}
REQUIRED = ("LUT", "FF", "DSP", "bram_tiles")
# How a missing required row is named in the error message.
ROW_LABELS_BY_KIND = {
    "LUT": "'CLB LUTs'",
    "FF": "'CLB Registers'",
    "DSP": "'DSPs'",
    "bram_tiles": "'Block RAM Tile'",
}
_BRAM_18K_PER_TILE = 2  # one 36 Kb Block RAM tile holds two 18 Kb blocks


def is_utilization_report(text: str) -> bool:
    """True if ``text`` starts like a Vivado report_utilization output."""
    head = text[:4096]
    return "report_utilization" in head or "Utilization Design Information" in head


def parse_utilization(path: Path) -> SynthReport:
    """Parse a Vivado utilization report. QdistillError if truncated or not such a report."""
    text = read_report_text(path, EXPECTED)
    if not is_utilization_report(text):
        raise QdistillError(f"{path} is not {EXPECTED}")
    _check_complete(path, text)
    fields = header_fields(text)
    try:
        rows = _first_rows(text.splitlines())
    except ValueError as exc:
        raise QdistillError(f"{path}: unreadable figure ({exc}); expected {EXPECTED}") from None
    missing = [ROW_LABELS_BY_KIND[k] for k in REQUIRED if k not in rows]
    if missing:
        raise QdistillError(f"{path} has no {', '.join(missing)} row; expected {EXPECTED}")

    resources = {kind: Resource() for kind in RESOURCE_KINDS}
    for kind in ("LUT", "FF", "DSP", "URAM"):
        if kind in rows:
            used, available, _ = rows[kind]
            resources[kind] = Resource(used, available, percent_of(used, available))
    tile_used, tile_available, _ = rows["bram_tiles"]
    bram_used = None if tile_used is None else tile_used * _BRAM_18K_PER_TILE
    bram_available = None if tile_available is None else tile_available * _BRAM_18K_PER_TILE
    resources["BRAM_18K"] = Resource(
        bram_used, bram_available, percent_of(bram_used, bram_available)
    )

    device = fields.get("device") or None
    return SynthReport(
        tool="vivado",
        tool_version=version_of(fields.get("tool version", "")),
        part=device,
        resources=resources,
        source=str(path),
        extra={
            "design": fields.get("design"),
            "design_state": fields.get("design state"),
            "speed_file": fields.get("speed file"),
            "bram_tiles": {"used": tile_used, "available": tile_available},
            **{
                name: {"used": rows[name][0], "available": rows[name][1]}
                for name in ("RAMB36/FIFO", "RAMB18", "CARRY8", "CARRY4")
                if name in rows
            },
            "printed_percent": {
                ("BRAM_tile" if kind == "bram_tiles" else kind): shown
                for kind, (_, _, shown) in rows.items()
                if kind in (*REQUIRED, "URAM") and shown is not None
            },
        },
    )


def _first_rows(lines: list[str]) -> dict[str, tuple[float | None, float | None, str | None]]:
    """(used, available, printed Util%) of the first row of each label, read by column header."""
    found: dict[str, tuple[float | None, float | None, str | None]] = {}
    columns: list[str] = []
    for line in lines:
        cells = table_cells(line)
        if not cells:
            continue
        if cells[0] == "Site Type":
            columns = cells
            continue
        kind = ROW_LABELS.get(cells[0].rstrip("*").strip())
        if kind is None or kind in found or "Used" not in columns:
            continue
        by_column = dict(zip(columns, cells, strict=False))
        found[kind] = (
            number(by_column.get("Used")),
            number(by_column.get("Available")),
            printed_percent(by_column.get("Util%")),
        )
    return found


def _check_complete(path: Path, text: str) -> None:
    """Every section the report's table of contents lists must be present; a cut file lacks some."""
    lines = text.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == "Table of Contents")
    except StopIteration:
        raise QdistillError(
            f"{path} has no table of contents (truncated?); expected {EXPECTED}"
        ) from None
    entries = []
    for line in lines[start + 2 :]:
        if not line.strip():
            break
        entries.append(line.strip())
    body = {line.strip() for line in lines[start + 2 + len(entries) :]}
    for entry in entries:
        if entry not in body and re.match(r"^\d", entry):
            raise QdistillError(
                f"{path} ends before its section {entry!r} (truncated?); expected {EXPECTED}"
            )
