"""HLS project files: the ``vivado_hls.app`` / ``hls.app`` project file and which tool wrote a run.

Vivado HLS writes ``<project>_prj/vivado_hls.app``, Vitis HLS writes ``<project>_prj/hls.app``
(hls4ml's own report reader tells them apart the same way). Both are small XML files naming the
project, its top function and its solutions.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from qdistill.errors import QdistillError

APP_FILE_TOOLS: dict[str, str] = {"vivado_hls.app": "vivado_hls", "hls.app": "vitis_hls"}
_RPT_BANNER = re.compile(r"==\s*(Vivado|Vitis) HLS Report for '([^']*)'")


@dataclass(frozen=True)
class HlsApp:
    """What an HLS project file says: the tool, the project name, the top function, solutions."""

    path: Path
    tool: str
    name: str | None
    top: str | None
    solutions: tuple[str, ...]


def read_app(path: Path) -> HlsApp:
    """Parse ``vivado_hls.app`` or ``hls.app``; QdistillError if it is not such a file."""
    tool = APP_FILE_TOOLS.get(path.name)
    if tool is None:
        raise QdistillError(f"{path} is not an HLS project file (vivado_hls.app or hls.app)")
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as exc:
        raise QdistillError(f"{path} is not a readable HLS project file: {exc}") from None
    if not root.tag.endswith("project"):
        raise QdistillError(f"{path} is XML but not an HLS project file (<AutoPilot:project>)")
    solutions = tuple(
        s.get("name", "") for s in root.iter() if s.tag.endswith("solution") and s.get("name")
    )
    return HlsApp(path, tool, root.get("name"), root.get("top"), solutions)


def find_app(report: Path) -> HlsApp | None:
    """The project file of the run that wrote ``report``, if one can be found.

    Looks in ``<prj>/`` for a report at ``<prj>/<solution>/{syn,sim}/report/<file>`` and, for
    loose copies of a run's files, next to the report itself.
    """
    candidates = [report.parent]
    if report.parent.name == "report" and report.parent.parent.name in ("syn", "sim"):
        candidates.append(report.parents[3])
    for folder in candidates:
        for name in APP_FILE_TOOLS:
            app = folder / name
            if app.is_file():
                return read_app(app)
    return None


def rpt_banner_tool(rpt: Path) -> str | None:
    """``vivado_hls`` or ``vitis_hls`` from a csynth.rpt banner line, None if unreadable."""
    try:
        with rpt.open("r", encoding="latin-1") as handle:
            head = handle.read(1024)
    except OSError:
        return None
    match = _RPT_BANNER.search(head)
    if not match:
        return None
    return "vivado_hls" if match.group(1) == "Vivado" else "vitis_hls"


def tool_from_version(version: str | None) -> str | None:
    """Vivado HLS for releases up to 2020.1 (its last), Vitis HLS from 2020.2 on."""
    match = re.match(r"(\d{4})\.(\d+)", version or "")
    if not match:
        return None
    year, minor = int(match.group(1)), int(match.group(2))
    return "vivado_hls" if (year, minor) <= (2020, 1) else "vitis_hls"
