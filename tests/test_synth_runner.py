"""The synth runner end to end, with stand-ins for vitis_hls, vivado_hls and vivado on PATH.

The stand-in (tests/fake_tools/fake_xilinx.py) checks the script, -tclargs and every key=value it
receives, and copies a real fixture report to where the real tool writes it; the runner must then
parse that report. Bad settings must be refused before any tool runs.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest
from conftest import FAKE_TOOLS, PART, write_minimal_meta
from conftest import REPORT_FIXTURES as FIXTURES
from typer.testing import CliRunner

from qdistill import synth
from qdistill.cli import app
from qdistill.errors import QdistillError
from qdistill.synth.runner import run_synthesis
from qdistill.synth.schema import SynthReport

FAKE = FAKE_TOOLS / "fake_xilinx.py"
VITIS_XML = "vitishls2022_u250_tutorial_dense_parallel/myproject_csynth.xml"
VIVADO_HLS_XML = "vivadohls2019_vu9p_jettag_dense_parallel/myproject_csynth.xml"


def make_project(root: Path, clock_mhz: float = 240.0) -> tuple[Path, Path]:
    """A firmware project as qdistill convert writes it: project.json + hls4ml_prj/."""
    project = root / "qdistillnet"
    hls = project / "hls4ml_prj"
    (hls / "firmware" / "weights").mkdir(parents=True)
    (hls / "tb_data").mkdir()
    (hls / "firmware" / "myproject.cpp").write_text("// hls4ml top function\n")
    (hls / "myproject_test.cpp").write_text("// hls4ml testbench\n")
    write_minimal_meta(project, clock_mhz=clock_mhz)
    return project, hls


def hls_args(hls: Path, clock_period: str = "4.1667", cosim: str = "0") -> dict[str, str]:
    return {
        "project_dir": str(hls.resolve()),
        "project_name": "myproject",
        "part": PART,
        "clock_period": clock_period,
        "csim": "1",
        "synth": "1",
        "cosim": cosim,
        "export": "0",
    }


def install_tools(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tools: list[str], spec: dict
) -> None:
    """Put stand-ins named ``tools`` first (and alone among Xilinx tools) on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for tool in tools:
        wrapper = bin_dir / tool
        wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE}" {tool} "$@"\n')
        wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    expect = tmp_path / "expect.json"
    expect.write_text(json.dumps({"fixtures": str(FIXTURES), **spec}))
    monkeypatch.setenv("QDISTILL_FAKE_EXPECT", str(expect))
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin")


def test_auto_prefers_vitis_and_parses_its_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project, hls = make_project(tmp_path)
    spec = {"hls_args": hls_args(hls), "csynth": VITIS_XML}
    install_tools(tmp_path, monkeypatch, ["vitis_hls", "vivado_hls"], spec)
    (report,) = run_synthesis(project, PART)
    assert (report.tool, report.tool_version) == ("vitis_hls", "2022.2")
    assert report.resources["LUT"].used == 116694
    assert report.latency_cycles.worst == 15
    assert "flow vitis" in capsys.readouterr().err
    log = (project / "logs" / "vitis_hls.log").read_text()
    assert log.startswith("# ") and "vitis_hls_build.tcl -tclargs" in log.splitlines()[0]
    assert "***** C SYNTHESIS *****" in log


def test_vivado_hls_with_cosim_and_vivado_synthesis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, hls = make_project(tmp_path)
    base = hls_args(hls, clock_period="5.0000", cosim="1")
    vivado = {k: base[k] for k in ("project_dir", "project_name", "part", "clock_period")}
    spec = {
        "hls_args": base,
        "vivado_args": {**vivado, "place_route": "0"},
        "csynth": VIVADO_HLS_XML,
        "cosim": "vivadohls2019_vu9p_jettag_dense_parallel/myproject_cosim.rpt",
        "utilization": "vivado2019_vu13p_jettag_hls4ml_routed/hls_final_4_2_util.rpt",
        "timing": "vivado2019_vu13p_jettag_hls4ml_routed/hls_final_4_2_timing.rpt",
    }
    install_tools(tmp_path, monkeypatch, ["vivado_hls", "vivado"], spec)
    hls_report, vivado_report = run_synthesis(
        project, PART, "auto", cosim=True, clock_mhz=200.0, vivado_synth=True
    )
    assert (hls_report.tool, hls_report.tool_version) == ("vivado_hls", "2019.2.1")
    assert hls_report.resources["DSP"].used == 3317
    assert hls_report.extra["cosim"]["rtl"]["Verilog"]["latency_cycles"]["max"] == 10
    assert vivado_report.tool == "vivado"
    assert vivado_report.wns_ns == pytest.approx(1.093)
    assert vivado_report.resources["LUT"].used == 4583
    assert (project / "logs" / "vivado.log").is_file()


def test_failing_tool_gives_the_last_error_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, hls = make_project(tmp_path)
    install_tools(tmp_path, monkeypatch, ["vitis_hls"], {"hls_args": hls_args(hls), "fail": True})
    with pytest.raises(QdistillError) as error:
        run_synthesis(project, PART, "vitis")
    message = str(error.value)
    assert "vitis_hls failed (exit code 1)" in message
    assert "ERROR: [HLS 207-812] 'nnet_utils/nnet_dense.h' file not found" in message
    assert "ERROR: [HLS 200-1715] Encountered problem during source synthesis" in message
    assert str(project / "logs" / "vitis_hls.log") in message
    assert "\n" not in message


def test_stand_in_refuses_wrong_arguments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A clock that differs from what the tool expects shows up as the tool's own error."""
    project, hls = make_project(tmp_path)
    install_tools(
        tmp_path, monkeypatch, ["vitis_hls"], {"hls_args": hls_args(hls), "csynth": VITIS_XML}
    )
    with pytest.raises(QdistillError, match=r"clock_period='4\.0000', expected '4\.1667'"):
        run_synthesis(project, PART, "vitis", clock_mhz=250.0)


def test_tool_without_report_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project, hls = make_project(tmp_path)
    install_tools(tmp_path, monkeypatch, ["vitis_hls"], {"hls_args": hls_args(hls)})
    with pytest.raises(QdistillError, match=r"vitis_hls finished but wrote no .*myproject_csynth"):
        run_synthesis(project, PART)


@pytest.mark.parametrize(
    ("part", "message"),
    [
        ("xcvu13p-flga2577-1-i", "unknown FPGA part .* known parts: xcku115-flva1517-2-e"),
        ("xcvu13p; exec rm -rf /", "not a valid Xilinx part name"),
    ],
)
def test_bad_part_refused_before_any_tool_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, part: str, message: str
) -> None:
    project, hls = make_project(tmp_path)
    install_tools(tmp_path, monkeypatch, ["vitis_hls"], {"hls_args": hls_args(hls), "fail": True})
    with pytest.raises(QdistillError, match=message):
        run_synthesis(project, part)
    assert not (project / "logs").exists()


def test_project_errors_are_clear(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project, hls = make_project(tmp_path)
    install_tools(tmp_path, monkeypatch, ["vitis_hls"], {"hls_args": hls_args(hls), "fail": True})
    with pytest.raises(QdistillError, match="does not exist"):
        run_synthesis(tmp_path / "nowhere", PART)
    with pytest.raises(QdistillError, match="unknown flow 'quartus'"):
        run_synthesis(project, PART, "quartus")
    with pytest.raises(QdistillError, match=r"clock 5000\.0 MHz is outside"):
        run_synthesis(project, PART, clock_mhz=5000.0)
    with pytest.raises(QdistillError, match="--flow vivado needs 'vivado_hls' on PATH"):
        run_synthesis(project, PART, "vivado")
    (project / "project.json").unlink()
    with pytest.raises(QdistillError, match=r"not a firmware project \(no project\.json\)"):
        run_synthesis(project, PART)
    assert not (project / "logs").exists()


def test_unsafe_project_path_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project, hls = make_project(tmp_path / "with space")
    install_tools(tmp_path, monkeypatch, ["vitis_hls"], {"hls_args": hls_args(hls), "fail": True})
    with pytest.raises(QdistillError, match="cannot take safely"):
        run_synthesis(project, PART)
    assert not (project / "logs").exists()


def test_auto_falls_back_to_yosys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project, _ = make_project(tmp_path)
    install_tools(tmp_path, monkeypatch, [], {})
    calls = []

    class FakeYosys:
        @staticmethod
        def run_yosys_flow(
            project_dir: Path, part: str, log_path: Path, status: object = None
        ) -> SynthReport:
            calls.append((project_dir, part, log_path))
            return SynthReport(tool="yosys", tool_version="0.test", part=part)

    monkeypatch.setitem(sys.modules, "qdistill.synth.yosys", FakeYosys)
    monkeypatch.setattr(synth, "yosys", FakeYosys, raising=False)
    (report,) = run_synthesis(project, PART)
    assert report.tool == "yosys"
    assert calls == [(project, PART, project / "logs" / "yosys.log")]
    with pytest.raises(QdistillError, match="apply to the vendor flows only"):
        run_synthesis(project, PART, "yosys", cosim=True)


def test_cli_synth_json_and_error_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project, hls = make_project(tmp_path)
    install_tools(
        tmp_path, monkeypatch, ["vitis_hls"], {"hls_args": hls_args(hls), "csynth": VITIS_XML}
    )
    result = CliRunner().invoke(app, ["synth", str(project), "--part", PART, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["tool"] == "vitis_hls"
    assert data["resources"]["DSP"] == {
        "used": 2557,
        "available": 12288,
        "percent": pytest.approx(100 * 2557 / 12288),
    }
    bad = CliRunner().invoke(app, ["synth", str(project), "--part", "xc7z020clg400-1"])
    assert bad.exit_code == 1
    assert bad.stderr.startswith("qdistill: error: unknown FPGA part 'xc7z020clg400-1'")
    assert bad.stdout == ""


def test_error_tail_falls_back_to_last_lines(tmp_path: Path) -> None:
    from qdistill.synth.tool_process import last_error_lines

    log = tmp_path / "tool.log"
    log.write_text("# vitis_hls -f x.tcl\nstarting\nstep one\nstep two\nKilled\n")
    assert last_error_lines(log) == ["step one", "step two", "Killed"]
    log.write_text(
        "# cmd\nERROR: [HLS 200-70] first\nINFO: more\nERROR: [HLS 200-70] second\nbye\n"
    )
    assert last_error_lines(log) == ["ERROR: [HLS 200-70] first", "ERROR: [HLS 200-70] second"]


def test_project_json_of_another_kind_is_refused(tmp_path: Path) -> None:
    project, _ = make_project(tmp_path)
    (project / "project.json").write_text('{"format": "qdistill.student", "format_version": 1}')
    with pytest.raises(QdistillError, match=r"not a qdistill\.firmware_project version 1 file"):
        run_synthesis(project, PART)
