"""Vivado HLS / Vitis HLS C-synthesis text report (``<top>_csynth.rpt``) → :class:`SynthReport`.

Used where a run has no XML report. Differences between versions handled here (see
docs/reports.md): ``+ Timing (ns):`` with bare numbers (2018) vs ``+ Timing:`` with units;
latency summary without (2018) or with ``Latency (absolute)`` columns in ``ns`` or ``us``;
``DSP48E`` vs ``DSP`` columns; no ``URAM`` column before 2019; multi-SLR ``Available SLR`` rows
(skipped: the figures come from ``Total`` and the plain ``Available`` row); percentages printed as
``~0`` or above 100; ``?`` for latencies the tool could not bound (→ None).
"""

from __future__ import annotations

import re
from pathlib import Path

from qdistill.devices import RESOURCE_KINDS
from qdistill.errors import QdistillError
from qdistill.synth._text import (
    header_fields,
    is_border,
    number,
    percent_of,
    printed_percent,
    read_report_text,
    table_cells,
    time_ns,
    version_of,
)
from qdistill.synth.schema import Resource, SynthReport

EXPECTED = "a Vivado HLS / Vitis HLS C-synthesis text report (<top>_csynth.rpt)"
BANNER = re.compile(r"^==\s*(Vivado|Vitis) HLS Report for '([^']*)'", re.MULTILINE)
# Utilization column header → schema resource kind.
RESOURCE_COLUMNS: dict[str, str] = {
    "BRAM_18K": "BRAM_18K",
    "DSP48E": "DSP",
    "DSP": "DSP",
    "FF": "FF",
    "LUT": "LUT",
    "URAM": "URAM",
}


def is_csynth_rpt(text: str) -> bool:
    """True if ``text`` starts like a csynth text report."""
    return BANNER.search(text[:1024]) is not None


def parse_csynth_rpt(path: Path) -> SynthReport:
    """Parse one csynth text report. QdistillError if truncated or not such a report."""
    text = read_report_text(path, EXPECTED)
    banner = BANNER.search(text[:1024])
    if banner is None:
        raise QdistillError(f"{path} has no 'HLS Report for' banner; expected {EXPECTED}")
    _check_complete(path, text)
    lines = text.splitlines()
    fields = header_fields(text)
    version_field = fields.get("version", "")
    try:
        report = SynthReport(
            tool="vivado_hls" if banner.group(1) == "Vivado" else "vitis_hls",
            tool_version=version_of(version_field),
            part=fields.get("target device") or None,
            source=str(path),
        )
        timing = _timing(path, lines)
        report.clock_target_ns, report.clock_estimated_ns, uncertainty_ns = timing
        latency = _latency(path, lines)
        report.latency_cycles.best = latency["cycles_min"]
        report.latency_cycles.worst = latency["cycles_max"]
        report.latency_ns.best = latency["ns_min"]
        report.latency_ns.worst = latency["ns_max"]
        report.interval.min = latency["ii_min"]
        report.interval.max = latency["ii_max"]
        report.resources, printed = _utilization(path, lines)
    except ValueError as exc:
        raise QdistillError(f"{path}: unreadable figure ({exc}); expected {EXPECTED}") from None
    build = re.search(r"\(Build ([^)]*)\)", version_field)
    report.extra = {
        "top": banner.group(2),
        "product_family": fields.get("product family"),
        "solution": fields.get("solution"),
        "build": build.group(1) if build else None,
        "clock_uncertainty_ns": uncertainty_ns,
        "pipeline_type": latency["pipeline_type"],
        "printed_percent": printed,
    }
    return report


def _check_complete(path: Path, text: str) -> None:
    """Every csynth.rpt ends with its Interface summary table; a cut file does not."""
    if "== Interface" not in text:
        raise QdistillError(
            f"{path} ends before its '== Interface' section (truncated?); expected {EXPECTED}"
        )
    last = text.rstrip().splitlines()[-1]
    if not is_border(last):
        raise QdistillError(
            f"{path} does not end with a closed table (truncated?); expected {EXPECTED}"
        )


def _table_after(lines: list[str], start: int) -> list[list[str]]:
    """Rows (cells) of the first ASCII table at or after line ``start``, borders skipped."""
    rows: list[list[str]] = []
    i = start
    while i < len(lines) and not is_border(lines[i]):
        i += 1
    while i < len(lines) and (is_border(lines[i]) or table_cells(lines[i])):
        if not is_border(lines[i]):
            rows.append(table_cells(lines[i]))
        i += 1
    return rows


def _find(lines: list[str], prefix: str, start: int, path: Path) -> int:
    for i in range(start, len(lines)):
        if lines[i].strip().startswith(prefix):
            return i
    raise QdistillError(f"{path} has no '{prefix}' section; expected {EXPECTED}")


def _timing(path: Path, lines: list[str]) -> tuple[float | None, float | None, float | None]:
    """Target, estimated and uncertainty (ns) of the first clock in the timing summary."""
    start = _find(lines, "+ Timing", 0, path)
    rows = _table_after(lines, start)
    data = [r for r in rows if r and r[0] != "Clock"]
    if len(rows) < 2 or not data or len(data[0]) < 4:
        raise QdistillError(f"{path} has an unreadable timing summary; expected {EXPECTED}")
    _clock, target, estimated, uncertainty = data[0][:4]
    return time_ns(target), time_ns(estimated), time_ns(uncertainty)


def _latency(path: Path, lines: list[str]) -> dict:
    start = _find(lines, "+ Latency", _find(lines, "+ Timing", 0, path), path)
    rows = _table_after(lines, start)
    headers = [r for r in rows if any(c == "min" for c in r) or any("Latency" in c for c in r)]
    data = [r for r in rows if r not in headers]
    if not headers or not data:
        raise QdistillError(f"{path} has an unreadable latency summary; expected {EXPECTED}")
    absolute = any("absolute" in cell for cell in headers[0])
    row = data[0]
    if absolute and len(row) == 7:
        c_min, c_max, t_min, t_max, ii_min, ii_max, ptype = row
    elif not absolute and len(row) == 5:
        c_min, c_max, ii_min, ii_max, ptype = row
        t_min = t_max = None
    else:
        raise QdistillError(
            f"{path}: latency summary has {len(row)} columns, expected 5 or 7; expected {EXPECTED}"
        )
    return {
        "cycles_min": number(c_min),
        "cycles_max": number(c_max),
        "ns_min": time_ns(t_min),
        "ns_max": time_ns(t_max),
        "ii_min": number(ii_min),
        "ii_max": number(ii_max),
        "pipeline_type": ptype or None,
    }


def _utilization(path: Path, lines: list[str]) -> tuple[dict[str, Resource], dict[str, str]]:
    """Used (``Total``), available (plain ``Available``) and printed percent of each resource."""
    section = _find(lines, "== Utilization Estimates", 0, path)
    rows = _table_after(lines, _find(lines, "* Summary", section, path))
    if not rows or rows[0][0] != "Name":
        raise QdistillError(f"{path} has an unreadable utilization summary; expected {EXPECTED}")
    columns = rows[0]
    by_name = {r[0]: r for r in rows[1:]}
    for needed in ("Total", "Available"):
        if needed not in by_name:
            raise QdistillError(f"{path}: utilization summary has no '{needed}' row")
    resources = {kind: Resource() for kind in RESOURCE_KINDS}
    printed: dict[str, str] = {}
    for index, column in enumerate(columns):
        kind = RESOURCE_COLUMNS.get(column)
        if kind is None:
            continue
        used = number(by_name["Total"][index])
        available = number(by_name["Available"][index])
        resources[kind] = Resource(used, available, percent_of(used, available))
        percent_row = by_name.get("Utilization (%)")
        shown = printed_percent(percent_row[index]) if percent_row else None
        if shown is not None:
            printed[kind] = shown
    return resources, printed
