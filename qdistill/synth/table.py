"""The resource and latency table (as the paper's table 3), one column per tool run.

Every column is headed by the tool (and version) that produced its figures; a figure a report
does not contain is shown as "—", never filled in from another tool.
"""

from __future__ import annotations

from rich.table import Table

from qdistill.synth.schema import SynthReport

TOOL_LABELS = {
    "vivado_hls": "Vivado HLS",
    "vitis_hls": "Vitis HLS",
    "vivado": "Vivado",
    "yosys": "Yosys",
    "hls_cosim": "HLS co-simulation",
}
MISSING = "—"
TABLE_RESOURCES = ("BRAM_18K", "LUT", "FF", "DSP", "URAM")


def report_table(reports: list[SynthReport]) -> Table:
    """A rich Table: rows are figures, columns are the reports' tools."""
    table = Table(
        title="Latency and resources (each column: one tool's own figures)",
        caption="% = used / available of the part in that report; Vivado BRAM_18K = 2 × tiles",
    )
    table.add_column("figure", style="bold")
    for report in reports:
        table.add_column(column_title(report), justify="right")

    rows: list[tuple[str, list[str]]] = [
        ("part", [r.part or MISSING for r in reports]),
        ("clock target (ns)", [_num(r.clock_target_ns) for r in reports]),
        ("clock estimated (ns)", [_num(r.clock_estimated_ns) for r in reports]),
        ("latency (ns)", [_range(r.latency_ns.best, r.latency_ns.worst) for r in reports]),
        (
            "latency (cycles)",
            [_range(r.latency_cycles.best, r.latency_cycles.worst) for r in reports],
        ),
        ("II (cycles)", [_range(r.interval.min, r.interval.max) for r in reports]),
    ]
    for kind in TABLE_RESOURCES:
        rows.append((kind, [_resource(r, kind) for r in reports]))
    rows.append(("WNS (ns)", [_num(r.wns_ns) for r in reports]))
    if any("cosim" in r.extra for r in reports):
        rows.append(("C/RTL co-simulation", [_cosim(r) for r in reports]))
    for label, cells in rows:
        table.add_row(label, *cells)
    return table


def column_title(report: SynthReport) -> str:
    """E.g. ``Vitis HLS 2024.1 (C synthesis estimate)`` or ``Vivado 2019.1 (Routed)``."""
    name = TOOL_LABELS.get(report.tool, report.tool)
    version = f" {report.tool_version}" if report.tool_version else ""
    if report.tool in ("vivado_hls", "vitis_hls"):
        stage = "C synthesis estimate"
    elif report.tool == "vivado":
        stage = report.extra.get("design_state") or "timing"
    elif report.tool == "yosys":
        stage = "estimate"
    else:
        stage = ""
    return f"{name}{version}" + (f"\n({stage})" if stage else "")


def _num(value: float | None) -> str:
    if value is None:
        return MISSING
    return f"{value:g}"


def _range(low: float | None, high: float | None) -> str:
    if low is None and high is None:
        return MISSING
    if low == high:
        return _num(low)
    return f"{_num(low)} – {_num(high)}"


def _percent(value: float) -> str:
    if value == 0:
        return "0 %"
    if value < 0.01:
        return "<0.01 %"
    return f"{value:.2f} %" if value < 10 else f"{value:.1f} %"


def _resource(report: SynthReport, kind: str) -> str:
    resource = report.resources.get(kind)
    if resource is None or resource.used is None:
        return MISSING
    resource.fill_percent()
    if resource.percent is None:
        return _num(resource.used)
    return f"{_num(resource.used)} ({_percent(resource.percent)})"


def _cosim(report: SynthReport) -> str:
    cosim = report.extra.get("cosim")
    if not cosim:
        return MISSING
    parts = []
    for language, result in cosim["rtl"].items():
        if result["status"] is None:
            continue
        latency = result["latency_cycles"]
        cycles = _range(latency["min"], latency["max"])
        parts.append(f"{language} {result['status']}, latency {cycles} cycles")
    return "; ".join(parts) or "not run"
