"""The Yosys flow: its `stat` output parsed into the report schema, and one real small run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qdistill.devices import DEFAULT_PART, get_device
from qdistill.errors import QdistillError
from qdistill.firmware.rtl import build_and_check, load_design
from qdistill.firmware.rtl_fixed import FixedType
from qdistill.firmware.rtl_network import (
    ActivationSpec,
    DenseSpec,
    NetworkSpec,
    SigmoidSpec,
    emulate,
    sigmoid_table,
)
from qdistill.synth import yosys
from qdistill.synth.report import read_report, read_reports

# The tail of a real `stat` (Yosys 0.70, synth_xilinx -family xcup) of a QDistillNet-sized design.
STAT_NEW = """
18. Printing statistics.

=== qdistill_net ===

        +----------Local Count, excluding submodules.
        |
    35905 wires
    57216 wire bits
       36 public wires
     3727 public wire bits
        3 ports
      265 port bits
    21437 cells
     1029   $scopeinfo
     3012   CARRY4
     2827   FDRE
       60   FDSE
      497   INV
     7432   LUT2
     2688   LUT3
     1494   LUT4
     1490   LUT5
      640   LUT6
        2   MUXF7
        4   SRLC32E
        1   RAMB36E2
        2   RAMB18E2
        3   DSP48E2

End of script. Logfile hash: 189504b6dc, time: 176.42s, user: 176.42s, system: 0.00s
"""

# The same figures in the layout Yosys printed before 0.48, after an earlier block of a submodule.
STAT_OLD = """
=== lookup_table ===

   Number of wires:                  3
   Number of cells:                  1
     LUT6                            1

=== qdistill_net ===

   Number of wires:              35905
   Number of wire bits:          57216
   Number of cells:              21437
     CARRY4                       3012
     DSP48E2                         3
     FDRE                         2827
     FDSE                           60
     INV                           497
     LUT2                         7432
     LUT3                         2688
     LUT4                         1494
     LUT5                         1490
     LUT6                          640
     MUXF7                           2
     RAMB18E2                        2
     RAMB36E2                        1
     SRLC32E                         4
     $scopeinfo                   1029

End of script.
"""


@pytest.mark.parametrize("text", [STAT_NEW, STAT_OLD], ids=["yosys>=0.48", "yosys<0.48"])
def test_stat_text_becomes_a_report(text: str) -> None:
    cells = yosys.parse_stat(text, "qdistill_net")
    assert cells["CARRY4"] == 3012 and cells["FDRE"] == 2827 and cells["LUT2"] == 7432
    report = yosys.report_from_cells(
        cells,
        part=DEFAULT_PART,
        version="0.70",
        latency_cycles=8,
        ii=1,
        clock_period_ns=1000 / 240,
        source="yosys.log",
    )
    res = report.to_json()["resources"]
    luts = 7432 + 2688 + 1494 + 1490 + 640 + 497 + 4  # LUT2..6, INV and the SRL
    assert res["LUT"]["used"] == luts
    assert res["LUT"]["available"] == get_device(DEFAULT_PART).luts
    assert res["LUT"]["percent"] == pytest.approx(100 * luts / 1_728_000)
    assert res["FF"]["used"] == 2827 + 60
    assert res["DSP"]["used"] == 3
    assert res["BRAM_18K"]["used"] == 2 + 2 * 1
    assert res["URAM"]["used"] == 0
    assert report.tool == "yosys" and report.tool_version == "0.70"
    assert report.extra["CARRY"] == 3012 and report.extra["CARRY4"] == 3012
    assert "$scopeinfo" not in report.extra["cells"]
    assert "estimate" in report.extra["estimate"] and "Vivado" in report.extra["estimate"]
    assert report.latency_cycles.best == report.latency_cycles.worst == 8
    assert report.latency_ns.worst == pytest.approx(8 * 1000 / 240)
    assert report.interval.min == report.interval.max == 1


def test_stat_without_the_top_module_is_a_clear_error() -> None:
    with pytest.raises(QdistillError, match="no Yosys `stat` output for module other"):
        yosys.parse_stat(STAT_NEW, "other")


def _tiny_network() -> NetworkSpec:
    """4 inputs → 3 (ReLU) → 1 → sigmoid table, with dyadic 4-bit weights (no TensorFlow)."""
    rng = np.random.default_rng(2)
    accum = FixedType(True, 20, 8)
    w1 = rng.integers(-8, 8, (4, 3)) / 8.0
    w2 = rng.integers(-8, 8, (3, 1)) / 8.0
    return NetworkSpec(
        n_inputs=4,
        input_type=FixedType(True, 8, 4),
        layers=[
            DenseSpec("d1", w1, rng.integers(-4, 4, 3) / 8.0, accum, accum),
            ActivationSpec("r1", "relu", FixedType(False, 6, 3, "RND_CONV", "SAT")),
            DenseSpec("d2", w2, np.array([0.25]), accum, accum),
            SigmoidSpec(
                "s",
                sigmoid_table(1024, FixedType(True, 18, 8), FixedType(False, 8, 0, "RND", "SAT")),
                FixedType(False, 8, 0, "RND", "SAT"),
            ),
        ],
    )


@pytest.mark.slow
def test_yosys_flow_on_a_small_project(tmp_path: Path) -> None:
    spec = _tiny_network()
    inputs = np.random.default_rng(4).integers(-128, 128, (64, 4)) / 16.0
    expected = emulate(spec, inputs, latency_cutoff=4).reshape(-1)
    project = tmp_path / "project"
    check = build_and_check(spec, inputs, expected, project / "rtl", clock_mhz=240.0)
    assert check.all_exact
    design = load_design(project / "rtl")

    log = project / "logs" / "yosys.log"
    report = yosys.run_yosys_flow(project, DEFAULT_PART, log)
    assert log.is_file() and "synth_xilinx" in log.read_text()
    res = report.resources
    assert report.tool == "yosys" and report.tool_version and report.tool_version[0].isdigit()
    assert res["LUT"].used and res["LUT"].used > 0 and res["LUT"].percent
    # registers: no more than the pipeline's register bits, and at least the output register
    assert design.output_bits <= (res["FF"].used or 0) <= design.da4ml_register_bits + 8
    assert res["DSP"].used == 0  # constant multiplications become adders in da4ml
    assert report.latency_cycles.worst == design.latency_cycles
    assert report.interval.min == 1
    assert report.extra["family"] == "xcup" and report.source == str(log)

    # The flow saves its report where `qdistill report PROJECT` finds it, figures unchanged.
    (project / "project.json").write_text("{}\n")  # a foreign JSON in the folder is ignored
    found = read_reports(project)
    assert [r.to_json() for r in found] == [report.to_json()]
    assert read_report(project / yosys.YOSYS_REPORT).to_json() == report.to_json()
    saved = project / yosys.YOSYS_REPORT
    saved.write_text(saved.read_text()[:200])
    with pytest.raises(QdistillError, match="damaged qdistill report"):
        read_reports(project)


def test_yosys_flow_does_not_build_the_rtl_itself(tmp_path: Path) -> None:
    """The Yosys flow reads PROJECT/rtl; it never reruns `qdistill rtl` behind the user's back."""
    with pytest.raises(QdistillError, match=r"has no RTL .*; run `qdistill rtl .*` first"):
        yosys.run_yosys_flow(tmp_path, DEFAULT_PART, tmp_path / "yosys.log")
    assert not (tmp_path / "rtl").exists()
