"""Read vendor reports from one file or a whole project folder: ``read_reports(path)``.

One parser per format (modules ``hls_xml``, ``hls_rpt``, ``vivado_util``, ``vivado_timing``,
``cosim``); this module recognises a file by its content, finds a project's reports, and merges
the files of one run: an HLS run gives one report (XML preferred over the text report, the
co-simulation figures in ``extra["cosim"]``), a Vivado run gives one report (utilization and
timing summary with the same name stem in one folder, e.g. ``x_util.rpt`` + ``x_timing.rpt``).
Each report keeps the name of the tool that made its figures.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qdistill import manifest
from qdistill.errors import QdistillError
from qdistill.synth.cosim import is_cosim_report, parse_cosim
from qdistill.synth.hls_project import find_app
from qdistill.synth.hls_rpt import is_csynth_rpt, parse_csynth_rpt
from qdistill.synth.hls_xml import is_csynth_xml, parse_csynth_xml
from qdistill.synth.schema import SAVED_REPORT_KIND, SynthReport
from qdistill.synth.vivado_timing import is_timing_summary, parse_timing_summary
from qdistill.synth.vivado_util import is_utilization_report, parse_utilization

KNOWN_FORMATS = (
    "HLS csynth XML (<top>_csynth.xml)",
    "HLS csynth text report (<top>_csynth.rpt)",
    "HLS co-simulation report (<top>_cosim.rpt)",
    "Vivado report_utilization",
    "Vivado report_timing_summary",
    "Yosys report saved by qdistill synth --flow yosys (reports/yosys_report.json)",
)
# Tool name of a co-simulation report read on its own when no project file names the tool.
COSIM_ONLY_TOOL = "hls_cosim"
# Folders that hold sources, RTL or tool internals, never reports: not searched.
_SKIP_DIRS = {
    ".autopilot",
    ".Xil",
    ".git",
    "xsim.dir",
    "verilog",
    "vhdl",
    "systemc",
    "ip",
    "tb_data",
    "firmware",
    "weights",
    "nnet_utils",
    "ap_types",
    "logs",
}
_SNIFFERS: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("csynth_xml", is_csynth_xml),
    ("csynth_rpt", is_csynth_rpt),
    ("utilization", is_utilization_report),
    ("timing", is_timing_summary),
    ("cosim", is_cosim_report),
    (
        "saved_json",
        lambda head: (
            head.lstrip().startswith("{") and manifest.format_name(SAVED_REPORT_KIND) in head
        ),
    ),
)


def sniff(path: Path) -> str | None:
    """The report kind of ``path`` from its first bytes, or None if it is no report we read."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError as exc:
        raise QdistillError(f"cannot read {path}: {exc.strerror}") from None
    if b"\x00" in head:
        return None
    text = head.decode("latin-1")
    return next((kind for kind, test in _SNIFFERS if test(text)), None)


def read_report(path: Path) -> SynthReport:
    """Parse one report file of any supported format."""
    kind = sniff(path)
    if kind is None:
        raise QdistillError(
            f"{path} is not a report qdistill can read; expected one of: {', '.join(KNOWN_FORMATS)}"
        )
    if kind == "saved_json":
        return _read_saved(path)
    if kind == "cosim":
        app = find_app(path)
        return SynthReport(
            tool=app.tool if app else COSIM_ONLY_TOOL,
            source=str(path),
            extra={"cosim": parse_cosim(path)},
        )
    parser = {
        "csynth_xml": parse_csynth_xml,
        "csynth_rpt": parse_csynth_rpt,
        "utilization": parse_utilization,
        "timing": parse_timing_summary,
    }[kind]
    return parser(path)


def read_reports(path: str | os.PathLike[str]) -> list[SynthReport]:
    """All reports in ``path``: one report file, or every run found under a project folder.

    For a folder: each HLS run (``*_csynth.xml``, else ``*_csynth.rpt``, plus its
    ``*_cosim.rpt``) and each Vivado run (utilization and timing reports) becomes one report,
    HLS runs first. QdistillError if the folder holds no report or a report is damaged.
    """
    path = Path(path)
    if path.is_file():
        return [read_report(path)]
    if not path.is_dir():
        raise QdistillError(f"{path} does not exist; give a report file or a project folder")
    files = _report_files(path)
    saved = [read_report(f) for f in files if f.suffix == ".json" and sniff(f) == "saved_json"]
    reports = _hls_runs(files) + _vivado_runs(files) + saved
    if not reports:
        raise QdistillError(
            f"no reports found under {path}; expected one of: {', '.join(KNOWN_FORMATS)}"
        )
    return reports


def reports_to_json(reports: list[SynthReport]) -> dict[str, Any]:
    """One JSON object: the report itself if there is one, else ``{"reports": [...]}``."""
    if len(reports) == 1:
        return reports[0].to_json()
    return {"reports": [r.to_json() for r in reports]}


def _report_files(root: Path) -> list[Path]:
    found = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        found.extend(
            Path(folder) / n for n in sorted(names) if n.endswith((".rpt", ".xml", ".json"))
        )
    return found


def _read_saved(path: Path) -> SynthReport:
    try:
        return SynthReport.from_saved_json(json.loads(path.read_text()))
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        raise QdistillError(
            f"{path} is a damaged qdistill report ({exc}); rerun qdistill synth"
        ) from None


def _run_dir(report: Path, stage: str) -> Path:
    """The solution folder of ``<solution>/<stage>/report/<file>``, else the file's own folder."""
    if report.parent.name == "report" and report.parent.parent.name == stage:
        return report.parents[2]
    return report.parent


def _hls_runs(files: list[Path]) -> list[SynthReport]:
    """One report per HLS run: the top function's csynth XML (else .rpt) plus its cosim."""
    by_folder: dict[Path, dict[str, dict[str, Path]]] = {}
    for f in files:
        match = re.match(r"^(.+)_csynth\.(xml|rpt)$", f.name)
        if match:
            by_folder.setdefault(f.parent, {}).setdefault(match.group(1), {})[match.group(2)] = f
    cosims = {}
    for f in files:
        match = re.match(r"^(.+)_cosim\.rpt$", f.name)
        if match:
            cosims[(_run_dir(f, "sim"), match.group(1))] = f

    reports = []
    for folder, stems in sorted(by_folder.items()):
        any_file = next(iter(next(iter(stems.values())).values()))
        app = find_app(any_file)
        if app is not None and app.top in stems:
            stems = {app.top: stems[app.top]}
        elif len(stems) > 1:
            names = ", ".join(sorted(f"{s}_csynth" for s in stems))
            raise QdistillError(
                f"{folder} holds several C-synthesis reports ({names}) and no HLS project file "
                "names the top function; pass the top function's report file"
            )
        (top, pair) = next(iter(stems.items()))
        chosen = pair.get("xml") or pair["rpt"]
        report = read_report(chosen)
        cosim = cosims.pop((_run_dir(chosen, "syn"), top), None)
        if cosim is not None and sniff(cosim) == "cosim":
            report.extra["cosim"] = parse_cosim(cosim)
        reports.append(report)
    for (_, _), cosim in sorted(cosims.items()):
        if sniff(cosim) == "cosim":
            reports.append(read_report(cosim))
    return reports


def _vivado_runs(files: list[Path]) -> list[SynthReport]:
    """One report per Vivado run: a utilization and a timing report with the same name stem."""
    runs: dict[tuple[Path, str], dict[str, Path]] = {}
    for f in files:
        if f.suffix != ".rpt" or re.search(r"_(csynth|cosim)\.rpt$", f.name):
            continue
        kind = sniff(f)
        if kind in ("utilization", "timing"):
            key = re.sub(r"(utilization|util|timing_summary|timing)", "", f.stem)
            if kind in runs.get((f.parent, key), {}):
                key = f.stem  # a second report of the same kind: a run of its own
            runs.setdefault((f.parent, key), {})[kind] = f
    reports = []
    for _, run in sorted(runs.items()):
        util = parse_utilization(run["utilization"]) if "utilization" in run else None
        timing = parse_timing_summary(run["timing"]) if "timing" in run else None
        if util and timing and _same_run(util, timing):
            reports.append(merge_vivado(util, timing))
        else:
            reports.extend(r for r in (util, timing) if r is not None)
    return reports


def _same_run(util: SynthReport, timing: SynthReport) -> bool:
    same_tool = util.tool_version == timing.tool_version
    same_design = util.extra.get("design") == timing.extra.get("design")
    return same_tool and same_design and _undashed(util.part) == _undashed(timing.part)


def _undashed(part: str | None) -> str | None:
    return None if part is None else part.replace("-", "").lower()


def merge_vivado(util: SynthReport, timing: SynthReport) -> SynthReport:
    """The utilization report with the timing figures of the same run added."""
    # Old Vivado prints the utilization Device without dashes; prefer the dashed spelling.
    if (timing.part or "").count("-") > (util.part or "").count("-"):
        util.part = timing.part
    util.clock_target_ns = timing.clock_target_ns
    util.wns_ns = timing.wns_ns
    util.extra["timing"] = {**timing.extra, "source": timing.source}
    return util
