"""Vivado ``report_timing_summary`` text report → :class:`SynthReport` (tool ``vivado``).

Reads the Design Timing Summary (the numbers on the line after the ``WNS(ns)  TNS(ns) ...``
header and its dashed underline), the verdict line after it, and the Clock Summary (period of
each clock). ``clock_target_ns`` is the period of ``ap_clk`` (the HLS clock), or of the only clock.
"""

from __future__ import annotations

import re
from pathlib import Path

from qdistill.errors import QdistillError
from qdistill.synth._text import header_fields, number, read_report_text, version_of
from qdistill.synth.schema import SynthReport

EXPECTED = "a Vivado timing summary (report_timing_summary)"
_SUMMARY_KEYS = {
    "WNS(ns)": "wns_ns",
    "TNS(ns)": "tns_ns",
    "TNS Failing Endpoints": "tns_failing_endpoints",
    "TNS Total Endpoints": "tns_total_endpoints",
    "WHS(ns)": "whs_ns",
    "THS(ns)": "ths_ns",
    "THS Failing Endpoints": "ths_failing_endpoints",
    "WPWS(ns)": "wpws_ns",
    "TPWS(ns)": "tpws_ns",
}


def is_timing_summary(text: str) -> bool:
    """True if ``text`` starts like a Vivado report_timing_summary output."""
    head = text[:4096]
    return "report_timing_summary" in head or "Timing Summary Report" in head


def parse_timing_summary(path: Path) -> SynthReport:
    """Parse a Vivado timing summary. QdistillError if truncated or not such a report."""
    text = read_report_text(path, EXPECTED)
    if not is_timing_summary(text):
        raise QdistillError(f"{path} is not {EXPECTED}")
    lines = text.splitlines()
    fields = header_fields(text)
    try:
        summary, verdict = _design_summary(path, lines)
        clocks = _clock_periods(lines)
    except ValueError as exc:
        raise QdistillError(f"{path}: unreadable figure ({exc}); expected {EXPECTED}") from None
    _check_complete(path, text, clocks)

    device = fields.get("device") or None
    speed = (fields.get("speed file") or "").split()
    part = f"{device}{speed[0]}" if device and speed and speed[0].startswith("-") else device
    if "ap_clk" in clocks:
        target = clocks["ap_clk"]
    else:
        target = next(iter(clocks.values())) if len(clocks) == 1 else None
    return SynthReport(
        tool="vivado",
        tool_version=version_of(fields.get("tool version", "")),
        part=part,
        clock_target_ns=target,
        wns_ns=summary.get("wns_ns"),
        source=str(path),
        extra={
            "design": fields.get("design"),
            "timing_met": verdict,
            "clocks_period_ns": clocks,
            **{k: v for k, v in summary.items() if k != "wns_ns"},
        },
    )


def _design_summary(path: Path, lines: list[str]) -> tuple[dict[str, float | None], bool | None]:
    for i, line in enumerate(lines):
        if line.strip().startswith("WNS(ns)") and i + 2 < len(lines):
            names = re.split(r"\s{2,}", line.strip())
            values = lines[i + 2].split()
            if not set(lines[i + 1].strip()) <= set("- ") or len(values) != len(names):
                break
            summary = {
                _SUMMARY_KEYS[name]: number(value)
                for name, value in zip(names, values, strict=True)
                if name in _SUMMARY_KEYS
            }
            rest = "\n".join(lines[i + 3 : i + 8])
            if "All user specified timing constraints are met" in rest:
                verdict: bool | None = True
            elif "Timing constraints are not met" in rest:
                verdict = False
            else:
                verdict = None
            return summary, verdict
    raise QdistillError(f"{path} has no readable Design Timing Summary; expected {EXPECTED}")


def _clock_periods(lines: list[str]) -> dict[str, float | None]:
    """Clock name → period (ns) from the Clock Summary table."""
    clocks: dict[str, float | None] = {}
    for i, line in enumerate(lines):
        if line.strip() == "| Clock Summary":
            for row in lines[i + 1 :]:
                if row.startswith("-----") and clocks:
                    break
                match = re.match(r"^\s*(\S+)\s+\{[^}]*\}\s+(\S+)\s+\S+\s*$", row)
                if match:
                    clocks[match.group(1)] = number(match.group(2))
            break
    return clocks


def _check_complete(path: Path, text: str, clocks: dict[str, float | None]) -> None:
    """A full summary details every clock, ending each with its Pulse Width Checks."""
    if "| Timing Details" not in text:
        raise QdistillError(
            f"{path} ends before its 'Timing Details' section (truncated?); expected {EXPECTED}"
        )
    for clock in clocks:
        block = text.split(f"From Clock:  {clock}", 1)
        if len(block) < 2 or "Pulse Width Checks" not in block[1]:
            raise QdistillError(
                f"{path} ends before the details of clock {clock!r} (truncated?); "
                f"expected {EXPECTED}"
            )
