"""HLS C/RTL co-simulation report (``<top>_cosim.rpt``) → figures for ``SynthReport.extra``.

Vivado HLS 2019 has ``Latency`` / ``Interval`` column groups; Vitis HLS 2024 has
``Latency(Clock Cycles)`` / ``Interval(Clock Cycles)`` and a ``Total Execution Time`` column.
Every ``NA`` (not measured, also after a Verilog ``Pass``) becomes None.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qdistill.errors import QdistillError
from qdistill.synth._text import is_border, number, read_report_text, table_cells

EXPECTED = "an HLS C/RTL co-simulation report (<top>_cosim.rpt)"
_STATS = ("min", "avg", "max")


def is_cosim_report(text: str) -> bool:
    """True if ``text`` looks like a cosim report (RTL / Status table after the header lines)."""
    head = text[:2048]
    return "Simulation tool" in head and "RTL" in head and "Status" in head


def parse_cosim(path: Path) -> dict[str, Any]:
    """Parse a cosim report into ``{"simulator", "solution", "rtl": {VHDL|Verilog: {...}}}``.

    Each RTL entry has ``status`` ("Pass"/"Fail", None if not run), ``latency_cycles`` and
    ``interval_cycles`` ({min, avg, max}) and ``total_execution_cycles``.
    """
    text = read_report_text(path, EXPECTED)
    if not is_cosim_report(text):
        raise QdistillError(f"{path} is not {EXPECTED}")
    lines = text.splitlines()
    header = {}
    for line in lines:
        if ":" in line and not line.startswith(("|", "+")):
            key, _, value = line.partition(":")
            header[key.strip().lower()] = value.strip().rstrip(".")
    rows = [table_cells(line) for line in lines if table_cells(line)]
    data = [r for r in rows if r[0] in ("VHDL", "Verilog", "SystemC")]
    if not data or not is_border(text.rstrip().splitlines()[-1]):
        raise QdistillError(f"{path} has no complete RTL result table (truncated?)")
    rtl: dict[str, dict[str, Any]] = {}
    try:
        for row in data:
            if len(row) not in (8, 9):
                raise QdistillError(f"{path}: RTL row has {len(row)} columns, expected 8 or 9")
            status = row[1] if row[1].upper() != "NA" else None
            rtl[row[0]] = {
                "status": status,
                "latency_cycles": dict(zip(_STATS, map(number, row[2:5]), strict=True)),
                "interval_cycles": dict(zip(_STATS, map(number, row[5:8]), strict=True)),
                "total_execution_cycles": number(row[8]) if len(row) == 9 else None,
            }
    except ValueError as exc:
        raise QdistillError(f"{path}: unreadable figure ({exc}); expected {EXPECTED}") from None
    return {
        "simulator": header.get("simulation tool"),
        "solution": header.get("solution"),
        "rtl": rtl,
        "source": str(path),
    }
