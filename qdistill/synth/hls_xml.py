"""Vivado HLS / Vitis HLS C-synthesis XML report (``<top>_csynth.xml``) → :class:`SynthReport`.

The XML is the preferred source: it carries the same summary as the text report in tagged form.
Differences between versions handled here (see docs/reports.md): ``<DSP48E>`` (Vivado HLS) vs
``<DSP>`` (Vitis HLS); no ``<URAM>`` before 2019; ``*RealTimeLatency`` only from 2019.2 on, with
units in the text (``50.000 ns``, ``1.975 us``); ``undef`` latencies (→ None).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from qdistill.devices import RESOURCE_KINDS
from qdistill.errors import QdistillError
from qdistill.synth._text import number, percent_of, read_report_text, time_ns
from qdistill.synth.hls_project import find_app, rpt_banner_tool, tool_from_version
from qdistill.synth.schema import Resource, SynthReport

EXPECTED = "a Vivado HLS / Vitis HLS C-synthesis XML report (<top>_csynth.xml)"
# XML resource tag → schema resource kind.
RESOURCE_TAGS: dict[str, str] = {
    "LUT": "LUT",
    "FF": "FF",
    "DSP": "DSP",
    "DSP48E": "DSP",
    "BRAM_18K": "BRAM_18K",
    "URAM": "URAM",
}


def is_csynth_xml(text: str) -> bool:
    """True if ``text`` looks like a csynth XML report (``<profile>`` + ``<ReportVersion>``)."""
    head = text[:2048]
    return "<profile>" in head and "<ReportVersion>" in head


def parse_csynth_xml(path: Path) -> SynthReport:
    """Parse one csynth XML report. QdistillError if the file is truncated or not such a report."""
    text = read_report_text(path, EXPECTED)
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise QdistillError(f"{path} is not well-formed XML ({exc}); expected {EXPECTED}") from None
    if root.tag != "profile" or root.find("ReportVersion/Version") is None:
        raise QdistillError(f"{path} is XML but not {EXPECTED}")
    user = _section(root, "UserAssignments", path)
    perf = _section(root, "PerformanceEstimates", path)
    area = _section(root, "AreaEstimates", path)
    latency = perf.find("SummaryOfOverallLatency")
    if latency is None:
        raise QdistillError(f"{path} has no <SummaryOfOverallLatency>; expected {EXPECTED}")

    try:
        version = _text(root, "ReportVersion/Version")
        time_unit = _text(user, "unit") or "ns"
        report = SynthReport(
            tool=_tool(path, root, version),
            tool_version=version,
            part=_text(user, "Part"),
            clock_target_ns=time_ns(_text(user, "TargetClockPeriod"), time_unit),
            clock_estimated_ns=time_ns(
                _text(perf, "SummaryOfTimingAnalysis/EstimatedClockPeriod"),
                _text(perf, "SummaryOfTimingAnalysis/unit") or "ns",
            ),
            source=str(path),
        )
        report.latency_cycles.best = number(_text(latency, "Best-caseLatency"))
        report.latency_cycles.worst = number(_text(latency, "Worst-caseLatency"))
        report.latency_ns.best = time_ns(_text(latency, "Best-caseRealTimeLatency"))
        report.latency_ns.worst = time_ns(_text(latency, "Worst-caseRealTimeLatency"))
        report.interval.min = number(_text(latency, "Interval-min"))
        report.interval.max = number(_text(latency, "Interval-max"))
        report.resources = _resources(area)
        report.extra = {
            "top": _text(user, "TopModelName"),
            "product_family": _text(user, "ProductFamily"),
            "clock_uncertainty_ns": time_ns(_text(user, "ClockUncertainty"), time_unit),
            "flow_target": _text(user, "FlowTarget"),
            "pipeline_type": _text(perf, "PipelineType"),
            "latency_cycles_average": number(_text(latency, "Average-caseLatency")),
            "pipeline_initiation_interval": number(_text(latency, "PipelineInitiationInterval")),
            "pipeline_depth": number(_text(latency, "PipelineDepth")),
            "dataflow_pipeline_throughput": number(_text(latency, "DataflowPipelineThroughput")),
        }
    except ValueError as exc:
        raise QdistillError(f"{path}: unreadable figure ({exc}); expected {EXPECTED}") from None
    return report


def _section(root: ET.Element, tag: str, path: Path) -> ET.Element:
    element = root.find(tag)
    if element is None:
        raise QdistillError(f"{path} has no <{tag}> section; expected {EXPECTED}")
    return element


def _text(element: ET.Element, tag: str) -> str | None:
    found = element.find(tag)
    if found is None or found.text is None:
        return None
    return found.text.strip()


def _resources(area: ET.Element) -> dict[str, Resource]:
    used = area.find("Resources")
    available = area.find("AvailableResources")
    resources = {kind: Resource() for kind in RESOURCE_KINDS}
    for tag, kind in RESOURCE_TAGS.items():
        u = number(_text(used, tag)) if used is not None else None
        a = number(_text(available, tag)) if available is not None else None
        if u is None and a is None:
            continue  # this version has no such tag (e.g. no URAM in 2018.2, DSP vs DSP48E)
        resources[kind] = Resource(used=u, available=a, percent=percent_of(u, a))
    return resources


def _tool(path: Path, root: ET.Element, version: str | None) -> str:
    """Which HLS tool wrote the XML: its project file, its text twin, FlowTarget, then version."""
    app = find_app(path)
    if app is not None:
        return app.tool
    twin = path.with_suffix(".rpt")
    if twin.is_file() and (banner := rpt_banner_tool(twin)):
        return banner
    if root.find("UserAssignments/FlowTarget") is not None:
        return "vitis_hls"  # Vivado HLS has no flow targets
    tool = tool_from_version(version)
    if tool is None:
        raise QdistillError(f"{path}: cannot tell the tool from version {version!r}")
    return tool
