"""`qdistill report PATH [--json]` through the real command line (typer's CliRunner)."""

from __future__ import annotations

import json

import pytest
from conftest import REPORT_FIXTURES as FIXTURES
from typer.testing import CliRunner

from qdistill.cli import app


def invoke(*args: str):
    return CliRunner().invoke(app, ["report", *args])


def test_json_for_one_file_is_one_schema_object() -> None:
    result = invoke(
        str(FIXTURES / "vitishls2024_u250_conv1d_stream/myproject_csynth.xml"), "--json"
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)  # the whole of stdout is one JSON object
    for key in (
        "tool",
        "tool_version",
        "part",
        "clock_target_ns",
        "clock_estimated_ns",
        "latency_cycles",
        "latency_ns",
        "interval",
        "resources",
        "wns_ns",
    ):
        assert key in data
    assert data["latency_ns"] == {"best": 1975.0, "worst": 1975.0}
    assert data["interval"] == {"min": 390, "max": 390}
    assert set(data["resources"]) == {"LUT", "FF", "DSP", "BRAM_18K", "URAM"}
    assert data["resources"]["BRAM_18K"]["used"] == 29
    assert data["wns_ns"] is None


def test_json_for_a_folder_lists_each_tool_run() -> None:
    result = invoke(str(FIXTURES / "vitishls2024_u250_conv1d_stream"), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(data) == ["reports"]
    tools = [(r["tool"], r["resources"]["LUT"]["used"]) for r in data["reports"]]
    assert tools == [("vitis_hls", 17966), ("vivado", 8565)]


def test_json_nulls_for_figures_a_report_lacks() -> None:
    result = invoke(
        str(FIXTURES / "vivadohls2018_kcu115_galapagos_parallel/myproject_csynth.xml"), "--json"
    )
    data = json.loads(result.stdout)
    assert data["resources"]["URAM"] == {"used": None, "available": None, "percent": None}
    assert data["latency_ns"] == {"best": None, "worst": None}


def test_table_labels_every_column_with_its_tool() -> None:
    result = invoke(str(FIXTURES / "vivadohls2019_vu9p_jettag_dense_parallel"))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Vivado HLS 2019.2.1" in out and "Vivado 2019.2.1" in out
    assert "(Synthesized)" in out
    assert "112473 (9.51 %)" in out  # HLS LUT estimate with % of the part
    assert "60597 (5.13 %)" in out  # Vivado LUTs after synthesis
    assert "3 (0.07 %)" in out  # Vivado BRAM_18K: 1.5 tiles
    assert "Verilog Pass, latency 10 cycles" in out


@pytest.mark.parametrize("name", ["nothing_here.rpt", "MANIFEST.md"])
def test_bad_path_is_one_error_line(name: str) -> None:
    result = invoke(str(FIXTURES / name), "--json")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("qdistill: error: ")
    assert result.stderr.count("\n") == 1
