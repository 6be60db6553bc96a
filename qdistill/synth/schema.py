"""The one report schema for every tool qdistill reads or runs (HLS, Vivado, Yosys).

A figure a report does not contain is None (JSON null), never guessed; every report names the
tool (and its version) that produced its figures.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Final

from qdistill import manifest
from qdistill.devices import RESOURCE_KINDS

#: Marks a report that qdistill itself saved (the Yosys flow's), so ``qdistill report`` reads it.
#: A saved report is a manifest (qdistill.manifest) of this kind.
SAVED_REPORT_KIND: Final[str] = "synth_report"
SAVED_REPORT_VERSION: Final[int] = 1


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

    def to_saved_json(self) -> dict[str, Any]:
        """:meth:`to_json` with the schema tag that :meth:`from_saved_json` checks."""
        return manifest.tagged(SAVED_REPORT_KIND, SAVED_REPORT_VERSION, self.to_json())

    @staticmethod
    def from_saved_json(obj: dict[str, Any]) -> SynthReport:
        """The report :meth:`to_saved_json` wrote; ValueError if ``obj`` is not one."""
        kind = manifest.format_name(SAVED_REPORT_KIND)
        if not manifest.has_tag(obj, SAVED_REPORT_KIND, SAVED_REPORT_VERSION):
            raise ValueError(f"not a {kind} version {SAVED_REPORT_VERSION} object")
        tag_keys = (manifest.FORMAT_KEY, manifest.VERSION_KEY)
        fields = {k: v for k, v in obj.items() if k not in tag_keys}
        try:
            return SynthReport(
                tool=fields.pop("tool"),
                latency_cycles=BestWorst(**fields.pop("latency_cycles")),
                latency_ns=BestWorst(**fields.pop("latency_ns")),
                interval=MinMax(**fields.pop("interval")),
                resources={k: Resource(**v) for k, v in fields.pop("resources").items()},
                **fields,
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"incomplete {kind} object: {exc}") from None
