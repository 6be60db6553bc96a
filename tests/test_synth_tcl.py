"""The Tcl scripts in vivado_scripts/, run for real under tclsh with the Xilinx commands stubbed.

tests/fake_tools/xilinx_tclsh.tcl replaces every Vivado / HLS command by a proc that records its
arguments, so these tests check what the scripts would ask the real tools to do: the part, the
clock, the steps, and that bad arguments stop the script before any tool command runs.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from conftest import FAKE_TOOLS, PART, write_minimal_meta
from conftest import REPORT_FIXTURES as FIXTURES

from qdistill.synth.runner import SCRIPTS_DIR, run_synthesis

TCLSH = shutil.which("tclsh")
pytestmark = pytest.mark.skipif(TCLSH is None, reason="tclsh is not installed")
PRELUDE = FAKE_TOOLS / "xilinx_tclsh.tcl"


def hls_project(root: Path) -> Path:
    hls = root / "hls4ml_prj"
    (hls / "firmware" / "weights").mkdir(parents=True)
    (hls / "tb_data").mkdir()
    (hls / "firmware" / "myproject.cpp").write_text("// top\n")
    (hls / "myproject_test.cpp").write_text("// testbench\n")
    return hls


def run_tcl(
    script: str, args: list[str], calls: Path, tool_args: list[str] | None = None
) -> subprocess.CompletedProcess[str]:
    command = [TCLSH, str(PRELUDE), *(tool_args or ["-f"]), str(SCRIPTS_DIR / script), "-tclargs"]
    env = {**os.environ, "QDISTILL_CALLS": str(calls)}
    return subprocess.run(command + args, capture_output=True, text=True, env=env, check=False)


def common(hls: Path, period: str = "4.1667") -> list[str]:
    return [
        f"project_dir={hls}",
        "project_name=myproject",
        f"part={PART}",
        f"clock_period={period}",
    ]


def test_vitis_script_sets_part_clock_and_steps(tmp_path: Path) -> None:
    hls = hls_project(tmp_path)
    calls = tmp_path / "calls.txt"
    result = run_tcl("vitis_hls_build.tcl", [*common(hls), "csim=1", "synth=1"], calls)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = calls.read_text().splitlines()
    assert "open_project -reset myproject_prj" in lines
    assert "open_solution -reset solution1 -flow_target vivado" in lines
    assert f"set_part {PART}" in lines
    assert "create_clock -period 4.1667 -name default" in lines
    assert lines.index("csim_design") < lines.index("csynth_design")
    assert not any(line.startswith(("cosim_design", "export_design")) for line in lines)
    assert "***** C SYNTHESIS *****" in result.stdout


def test_vivado_hls_script_keeps_hls4ml_settings_but_not_its_part(tmp_path: Path) -> None:
    hls = hls_project(tmp_path)
    # hls4ml's project.tcl: its part and clock must be overridden by the arguments.
    (hls / "project.tcl").write_text(
        'set project_name "myproject"\nset part "xcku115-flva1517-2-e"\nset clock_period 5\n'
        'set clock_uncertainty 12.5%\nset version "1.0.0"\nset maximum_size 4096\n'
    )
    calls = tmp_path / "calls.txt"
    args = [*common(hls, "5.0000"), "csim=0", "cosim=1", "export=1"]
    result = run_tcl("vivado_hls_build.tcl", args, calls)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = calls.read_text().splitlines()
    assert "open_solution -reset solution1" in lines  # no -flow_target in Vivado HLS
    assert f"set_part {PART}" in lines
    assert "create_clock -period 5.0000 -name default" in lines
    assert "set_clock_uncertainty 12.5% default" in lines
    assert "config_array_partition -maximum_size 4096" in lines
    assert "csim_design" not in lines
    assert "cosim_design -rtl verilog" in lines
    assert "add_files -tb myproject_test.cpp -cflags {-std=c++0x -DRTL_SIM}" in lines
    assert "export_design -format ip_catalog -version 1.0.0" in lines


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("part=xcvu13p;exit", "part 'xcvu13p;exit' is not a Xilinx part name"),
        ("clock_period=fast", "clock_period 'fast' is not a positive number"),
        ("project_name=my[exec]", "project_name 'my[exec]' is not a C identifier"),
        ("cosim=yes", "cosim must be 0 or 1"),
        ("board=u250", "unknown argument 'board'"),
    ],
)
def test_bad_arguments_stop_before_any_tool_command(tmp_path: Path, bad: str, message: str) -> None:
    hls = hls_project(tmp_path)
    calls = tmp_path / "calls.txt"
    result = run_tcl("vitis_hls_build.tcl", [*common(hls), bad], calls)
    assert result.returncode == 1
    assert f"ERROR: [qdistill] {message}" in result.stdout
    assert not calls.exists() or calls.read_text() == ""


def test_not_an_hls4ml_project_is_refused(tmp_path: Path) -> None:
    calls = tmp_path / "calls.txt"
    result = run_tcl("vitis_hls_build.tcl", common(tmp_path), calls)
    assert result.returncode == 1
    assert "has no firmware/myproject.cpp" in result.stdout


def test_vivado_script_synthesises_out_of_context(tmp_path: Path) -> None:
    hls = hls_project(tmp_path)
    calls = tmp_path / "calls.txt"
    vivado = ["-mode", "batch", "-nojournal", "-nolog", "-source"]
    result = run_tcl("vivado_synth.tcl", [*common(hls), "place_route=1"], calls, vivado)
    assert result.returncode == 1
    assert "no RTL in" in result.stdout  # C synthesis has not run yet

    (hls / "myproject_prj" / "solution1" / "syn" / "verilog").mkdir(parents=True)
    result = run_tcl("vivado_synth.tcl", [*common(hls), "place_route=1"], calls, vivado)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = calls.read_text().splitlines()
    assert "add_files myproject_prj/solution1/syn/verilog" in lines
    assert "read_xdc -mode out_of_context vivado_reports/clock.xdc" in lines
    assert f"synth_design -top myproject -part {PART} -mode out_of_context" in lines
    assert "report_utilization -file vivado_reports/synth_utilization.rpt" in lines
    assert "report_timing_summary -file vivado_reports/route_timing.rpt" in lines
    assert lines.index("place_design") < lines.index("route_design")
    xdc = (hls / "vivado_reports" / "clock.xdc").read_text()
    assert xdc.strip() == "create_clock -period 4.1667 -name ap_clk [get_ports ap_clk]"


def test_runner_drives_the_real_script(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """run_synthesis → vitis_hls (tclsh + stubs) → vitis_hls_build.tcl → report parsed."""
    project = tmp_path / "qdistillnet"
    hls = hls_project(project)
    write_minimal_meta(project)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "vitis_hls"
    wrapper.write_text(f'#!/bin/sh\nexec "{TCLSH}" "{PRELUDE}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    calls = tmp_path / "calls.txt"
    fixture = FIXTURES / "vitishls2022_u250_tutorial_dense_parallel" / "myproject_csynth.xml"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin")
    monkeypatch.setenv("QDISTILL_CALLS", str(calls))
    monkeypatch.setenv("QDISTILL_CSYNTH_FIXTURE", str(fixture))
    (report,) = run_synthesis(project, PART, "vitis")
    assert (report.tool, report.resources["DSP"].used) == ("vitis_hls", 2557)
    assert report.source == str(
        hls.resolve() / "myproject_prj/solution1/syn/report/myproject_csynth.xml"
    )
    lines = calls.read_text().splitlines()
    assert f"set_part {PART}" in lines
    assert "create_clock -period 4.1667 -name default" in lines
