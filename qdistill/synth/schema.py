"""The one report schema for every tool qdistill reads or runs (HLS, Vivado, Yosys).

A figure a report does not contain is None (JSON null), never guessed; every report names the
tool (and its version) that produced its figures.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from qdistill.devices import RESOURCE_KINDS


@dataclass
class Resource:
    """One resource kind: how many are used, how many the part has, and the percentage used."""

    used: float | None = None
    available: float | None = None
    percent: float | None = None

    def fill_percent(self) -> None:
        """Compute ``percent`` from used/available where the report did not print it."""
        if self.percent is None and self.used is not None and self.available:
            self.percent = 100.0 * self.used / self.available


@dataclass
class MinMax:
    min: float | None = None
    max: float | None = None


@dataclass
class BestWorst:
    best: float | None = None
    worst: float | None = None


@dataclass
class SynthReport:
    """Figures from one tool run. ``tool`` is e.g. "vivado_hls", "vitis_hls", "vivado", "yosys"."""

    tool: str
    tool_version: str | None = None
    part: str | None = None
    clock_target_ns: float | None = None
    clock_estimated_ns: float | None = None
    latency_cycles: BestWorst = field(default_factory=BestWorst)
    latency_ns: BestWorst = field(default_factory=BestWorst)
    interval: MinMax = field(default_factory=MinMax)
    resources: dict[str, Resource] = field(
        default_factory=lambda: {kind: Resource() for kind in RESOURCE_KINDS}
    )
    wns_ns: float | None = None
    source: str | None = None  # the file (or run) the figures come from
    extra: dict[str, Any] = field(default_factory=dict)  # tool-specific figures, e.g. CARRY

    def to_json(self) -> dict[str, Any]:
        """The report as a JSON-ready dict in the schema documented in docs/reports.md."""
        for res in self.resources.values():
            res.fill_percent()
        return asdict(self)
