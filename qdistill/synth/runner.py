"""``run_synthesis``: drive Vitis HLS, Vivado HLS (and optionally Vivado) or the Yosys flow.

The vendor flows run the Tcl scripts in ``qdistill/synth/tcl/`` (package data; ``vivado_scripts/``
in a checkout) with every setting passed as a checked ``key=value`` argument (``-tclargs``),
through an argument list (no shell), and then read the reports the tools wrote with the parsers
of this package. Nothing is edited by hand.
"""

from __future__ import annotations

import re
import shutil
import time
from importlib import resources
from pathlib import Path
from typing import Final

from rich.console import Console

from qdistill.devices import check_part_name, clock_period_ns, get_device
from qdistill.errors import QdistillError
from qdistill.firmware.project import HLS_DIR, FirmwareProject, ProjectMeta, read_project_meta
from qdistill.synth.cosim import parse_cosim
from qdistill.synth.report import merge_vivado, read_report
from qdistill.synth.schema import SynthReport
from qdistill.synth.tool_process import run_tool
from qdistill.synth.vivado_timing import parse_timing_summary
from qdistill.synth.vivado_util import parse_utilization

FLOWS: Final[tuple[str, ...]] = ("auto", "vivado", "vitis", "yosys")
# flow → (HLS executable, its build script in SCRIPTS_DIR)
HLS_FLOWS: Final[dict[str, tuple[str, str]]] = {
    "vitis": ("vitis_hls", "vitis_hls_build.tcl"),
    "vivado": ("vivado_hls", "vivado_hls_build.tcl"),
}
VIVADO_EXECUTABLE: Final[str] = "vivado"
VIVADO_SCRIPT: Final[str] = "vivado_synth.tcl"
#: The Tcl scripts, shipped as package data (``vivado_scripts/`` in a checkout points here).
SCRIPTS_DIR: Final[Path] = Path(str(resources.files("qdistill.synth").joinpath("tcl")))
VIVADO_REPORTS_DIR: Final[str] = "vivado_reports"  # written by vivado_synth.tcl
# Characters the Xilinx tools' Tcl could mis-read in a path: refused, not escaped.
_SAFE_PATH = re.compile(r"^[A-Za-z0-9_./+@%=,:-]+$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def run_synthesis(
    project_dir: str | Path,
    part: str | None = None,
    flow: str = "auto",
    cosim: bool = False,
    *,
    clock_mhz: float | None = None,
    csim: bool = True,
    export: bool = False,
    vivado_synth: bool = False,
    place_route: bool = False,
) -> list[SynthReport]:
    """Synthesise the firmware project ``project_dir`` for ``part`` and return its reports.

    ``part`` defaults to the project's part (``project.json``);
    the clock is the project's ``clock_mhz`` unless ``clock_mhz`` is given. ``flow`` "auto" takes
    Vitis HLS if ``vitis_hls`` is on PATH, else Vivado HLS, else the open-source Yosys flow.
    ``vivado_synth`` adds out-of-context Vivado synthesis of the HLS RTL (``place_route``: also
    place and route). Logs go to ``PROJECT/logs/<tool>.log``. Returns one report per tool run
    (HLS first); QdistillError for a bad setting (before any tool runs) or a failed tool.
    """
    console = Console(stderr=True, soft_wrap=True)
    if flow not in FLOWS:
        raise QdistillError(f"unknown flow {flow!r}; choose one of {', '.join(FLOWS)}")
    if part is not None:  # an explicit part is checked before anything else
        check_part_name(part)
        get_device(part)
    project = Path(project_dir)
    meta = read_project_meta(project)
    part = _checked_part(part, meta.part, console)
    if place_route:
        vivado_synth = True

    chosen, executable = _resolve_flow(flow, vivado_synth)
    how = "chosen automatically" if flow == "auto" else "as requested"
    where = f" ({executable})" if executable else ""
    console.print(f"qdistill synth: flow {chosen}{where}, {how}", highlight=False)
    logs = project / "logs"

    if chosen == "yosys":
        if clock_mhz is not None or vivado_synth or cosim or export:
            raise QdistillError(
                "--clock-mhz, --cosim, --export and --vivado-synth apply to the vendor flows only; "
                "the yosys flow uses the project's own clock and RTL"
            )
        return [_run_yosys(project, part, logs / "yosys.log", console)]

    period_ns = clock_period_ns(meta.clock_mhz if clock_mhz is None else float(clock_mhz))
    _safe_path(project.resolve())
    hls_executable, hls_script = HLS_FLOWS[chosen]
    scripts = [_script(hls_script)] + ([_script(VIVADO_SCRIPT)] if vivado_synth else [])
    if vivado_synth and shutil.which(VIVADO_EXECUTABLE) is None:
        raise QdistillError(
            "--vivado-synth needs 'vivado' on PATH; source Vivado's settings64.sh first"
        )
    hls_dir, name = hls_project(project, meta, console)
    base_args = [
        f"project_dir={_safe_path(hls_dir.resolve())}",
        f"project_name={name}",
        f"part={part}",
        f"clock_period={period_ns:.4f}",
    ]

    hls_command = [executable or hls_executable, "-f", str(scripts[0]), "-tclargs", *base_args]
    flags = [f"csim={int(csim)}", "synth=1", f"cosim={int(cosim)}", f"export={int(export)}"]
    reports = [_run_hls(hls_command + flags, hls_dir, name, hls_executable, cosim, logs)]
    if reports[0].part != part:
        console.print(
            f"qdistill synth: note: {reports[0].source} names part {reports[0].part}, not {part}",
            highlight=False,
        )
    if vivado_synth:
        reports += _run_vivado(scripts[1], base_args, hls_dir, place_route, logs)
    return reports


def _run_hls(
    command: list[str], hls_dir: Path, name: str, tool: str, cosim: bool, logs: Path
) -> SynthReport:
    """Run the HLS build script and read the C-synthesis (and co-simulation) report it wrote."""
    started = time.time()
    run_tool(command, hls_dir, logs / f"{tool}.log", tool)
    return _hls_report(hls_dir, name, tool, started, cosim)


def _run_vivado(
    script: Path, base_args: list[str], hls_dir: Path, place_route: bool, logs: Path
) -> list[SynthReport]:
    """Out-of-context Vivado synthesis (and place and route) of the HLS RTL; one report a stage."""
    started = time.time()
    command = [VIVADO_EXECUTABLE, "-mode", "batch", "-nojournal", "-nolog", "-source"]
    command += [str(script), "-tclargs", *base_args, f"place_route={int(place_route)}"]
    run_tool(command, hls_dir, logs / "vivado.log", "vivado")
    stages = ("synth", "route") if place_route else ("synth",)
    return [_vivado_report(hls_dir, stage, started) for stage in stages]


def hls_project(project: Path, meta: ProjectMeta, console: Console) -> tuple[Path, str]:
    """The hls4ml project folder of ``project`` and its top function name.

    The folder is ``hls4ml_prj/`` inside ``project``, written from the project's model
    (``qdistill convert``'s own code) when it is missing.
    """
    name = meta.hls_project_name
    if not _IDENTIFIER.match(name):
        raise QdistillError(f"project name {name!r} in {project} is not a C identifier")
    folder = project / HLS_DIR
    if not (folder / "firmware" / f"{name}.cpp").is_file():
        console.print(f"qdistill synth: writing the hls4ml project {folder}", highlight=False)
        FirmwareProject(path=project, meta=meta).hls_model(compile=False)
    if not (folder / f"{name}_test.cpp").is_file():
        raise QdistillError(
            f"{folder} has no {name}_test.cpp: not a complete hls4ml project; "
            "rerun qdistill convert"
        )
    return folder, name


def _checked_part(part: str | None, project_part: str, console: Console) -> str:
    chosen = part or project_part
    check_part_name(chosen)
    get_device(chosen)
    if project_part and chosen != project_part:
        console.print(
            f"qdistill synth: note: synthesising for {chosen}; the project was converted for "
            f"{project_part}",
            highlight=False,
        )
    return chosen


def _resolve_flow(flow: str, vivado_synth: bool) -> tuple[str, str | None]:
    """The flow to run and the full path of its HLS executable (None for yosys)."""
    if flow == "auto":
        for candidate in ("vitis", "vivado"):
            found = shutil.which(HLS_FLOWS[candidate][0])
            if found:
                return candidate, found
        if vivado_synth:
            raise QdistillError("--vivado-synth needs vitis_hls or vivado_hls on PATH")
        return "yosys", None
    if flow == "yosys":
        return "yosys", None
    executable = HLS_FLOWS[flow][0]
    found = shutil.which(executable)
    if found is None:
        raise QdistillError(
            f"--flow {flow} needs '{executable}' on PATH; source the Xilinx settings64.sh first, "
            "or use --flow auto to fall back to the open-source yosys flow"
        )
    return flow, found


def _run_yosys(project: Path, part: str, log_path: Path, console: Console) -> SynthReport:
    """The Yosys flow with a spinner that shows the elapsed time (it runs for minutes)."""
    from qdistill.synth import yosys

    console.print(
        f"qdistill synth: Yosys synth_xilinx can take several minutes (its log: {log_path})",
        highlight=False,
    )
    with console.status("qdistill synth: starting Yosys") as spinner:
        return yosys.run_yosys_flow(project, part, log_path, status=spinner.update)


def _safe_path(path: Path) -> str:
    text = str(path)
    if not _SAFE_PATH.match(text):
        raise QdistillError(
            f"project path {text!r} contains characters (spaces, quotes, brackets, $, ;) that the "
            "Xilinx tools' Tcl cannot take safely; move the project to a plain path"
        )
    return text


def _script(name: str) -> Path:
    script = SCRIPTS_DIR / name
    if not script.is_file():
        raise QdistillError(
            f"{script} not found: qdistill's Tcl scripts are package data (qdistill/synth/tcl); "
            "reinstall qdistill (pip install --force-reinstall qdistill)"
        )
    return script


def _fresh(path: Path, started: float, tool: str) -> Path:
    """``path`` if the tool wrote it during this run; QdistillError if missing or stale."""
    if not path.is_file():
        raise QdistillError(f"{tool} finished but wrote no {path}; see its log in logs/")
    if path.stat().st_mtime < started - 1.0:
        raise QdistillError(f"{path} is older than this {tool} run (stale); see its log in logs/")
    return path


def _hls_report(hls_dir: Path, name: str, tool: str, started: float, cosim: bool) -> SynthReport:
    solution = hls_dir / f"{name}_prj" / "solution1"
    xml = solution / "syn" / "report" / f"{name}_csynth.xml"
    chosen = xml if xml.is_file() else xml.with_suffix(".rpt")
    report = read_report(_fresh(chosen, started, tool))
    if report.tool != tool:
        raise QdistillError(f"{chosen} was written by {report.tool}, not by {tool}")
    if cosim:
        cosim_rpt = solution / "sim" / "report" / f"{name}_cosim.rpt"
        report.extra["cosim"] = parse_cosim(_fresh(cosim_rpt, started, tool))
    return report


def _vivado_report(hls_dir: Path, stage: str, started: float) -> SynthReport:
    folder = hls_dir / VIVADO_REPORTS_DIR
    util = parse_utilization(_fresh(folder / f"{stage}_utilization.rpt", started, "vivado"))
    timing = parse_timing_summary(_fresh(folder / f"{stage}_timing.rpt", started, "vivado"))
    return merge_vivado(util, timing)
