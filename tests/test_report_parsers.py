"""Report parsers: every real fixture report parses to exactly the figures its MANIFEST.md lists.

The fixtures are real Vivado HLS / Vitis HLS / Vivado outputs in tests/fixtures/reports (committed
with the tests). Damaged (truncated) and foreign files must give one clear QdistillError.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from conftest import REPORT_FIXTURES as FIXTURES

from qdistill.errors import QdistillError
from qdistill.synth.cosim import parse_cosim
from qdistill.synth.hls_project import read_app, tool_from_version
from qdistill.synth.hls_rpt import parse_csynth_rpt
from qdistill.synth.hls_xml import parse_csynth_xml
from qdistill.synth.report import read_report, read_reports, reports_to_json
from qdistill.synth.vivado_timing import parse_timing_summary
from qdistill.synth.vivado_util import parse_utilization

KINDS = ("BRAM_18K", "DSP", "FF", "LUT", "URAM")


@pytest.fixture(scope="module", autouse=True)
def _fixtures_present() -> None:
    assert (FIXTURES / "MANIFEST.md").is_file(), f"report fixtures missing at {FIXTURES}"


# MANIFEST.md, column "key figures", per HLS case: tool, version, part, clock target / estimated /
# uncertainty (ns), latency cycles (best, worst), latency ns (best, worst), interval (min, max),
# pipeline type, used and available (BRAM_18K, DSP, FF, LUT, URAM; None = not reported).
HLS_CASES = {
    "vivadohls2018_kcu115_galapagos_parallel": dict(
        tool="vivado_hls",
        version="2018.2",
        part="xcku115-flva1517-2-e",
        clock=(5.0, 4.168, 0.62),
        cycles=(14, 14),
        ns=(None, None),
        interval=(1, 1),
        pipeline="function",
        used=(18, 792, 43219, 21809, None),
        available=(4320, 5520, 1326720, 663360, None),
    ),
    "vivadohls2019_vu9p_jettag_dense_parallel": dict(
        tool="vivado_hls",
        version="2019.2.1",
        part="xcvu9p-flga2104-2L-e",
        clock=(5.0, 3.985, 0.62),
        cycles=(10, 10),
        ns=(50.0, 50.0),
        interval=(1, 1),
        pipeline="function",
        used=(4, 3317, 15168, 112473, 0),
        available=(4320, 6840, 2364480, 1182240, 960),
    ),
    "vitishls2022_u250_tutorial_dense_parallel": dict(
        tool="vitis_hls",
        version="2022.2",
        part="xcu250-figd2104-2L-e",
        clock=(5.0, 3.636, 1.35),
        cycles=(15, 15),
        ns=(75.0, 75.0),
        interval=(1, 1),
        pipeline="yes",
        used=(8, 2557, 24233, 116694, 0),
        available=(5376, 12288, 3456000, 1728000, 1280),
    ),
    "vitishls2024_u250_conv1d_stream": dict(
        tool="vitis_hls",
        version="2024.1",
        part="xcu250-figd2104-2L-e",
        clock=(5.0, 3.530, 1.35),
        cycles=(395, 395),
        ns=(1975.0, 1975.0),
        interval=(390, 390),
        pipeline="dataflow",
        used=(29, 467, 7123, 17966, 0),
        available=(5376, 12288, 3456000, 1728000, 1280),
    ),
    "vitishls2024_u250_ioparallel_cosim_na": dict(
        tool="vitis_hls",
        version="2024.1",
        part="xcu250-figd2104-2L-e",
        clock=(5.0, 3.635, 1.35),
        cycles=(183, 184),
        ns=(915.0, 920.0),
        interval=(128, 128),
        pipeline="dataflow",
        used=(5, 471, 495589, 449837, 0),
        available=(5376, 12288, 3456000, 1728000, 1280),
    ),
}
HLS_FILES = [
    (case, suffix)
    for case in HLS_CASES
    for suffix in (".xml", ".rpt")
    if (FIXTURES / case / f"myproject_csynth{suffix}").is_file()
]


@pytest.mark.parametrize(("case", "suffix"), HLS_FILES, ids=[f"{c}{s}" for c, s in HLS_FILES])
def test_hls_report_figures_match_manifest(case: str, suffix: str) -> None:
    path = FIXTURES / case / f"myproject_csynth{suffix}"
    report = parse_csynth_xml(path) if suffix == ".xml" else parse_csynth_rpt(path)
    want = HLS_CASES[case]
    assert (report.tool, report.tool_version, report.part) == (
        want["tool"],
        want["version"],
        want["part"],
    )
    target, estimated, uncertainty = want["clock"]
    assert report.clock_target_ns == pytest.approx(target)
    assert report.clock_estimated_ns == pytest.approx(estimated)
    assert report.extra["clock_uncertainty_ns"] == pytest.approx(uncertainty)
    assert (report.latency_cycles.best, report.latency_cycles.worst) == want["cycles"]
    assert (report.latency_ns.best, report.latency_ns.worst) == pytest.approx(want["ns"])
    assert (report.interval.min, report.interval.max) == want["interval"]
    assert report.extra["pipeline_type"] == want["pipeline"]
    assert tuple(report.resources[k].used for k in KINDS) == want["used"]
    assert tuple(report.resources[k].available for k in KINDS) == want["available"]
    assert report.extra["top"] == "myproject"
    # Percent comes from the report's own figures, e.g. LUT used / available.
    lut = report.resources["LUT"]
    assert lut.percent == pytest.approx(100 * lut.used / lut.available)
    assert report.wns_ns is None  # C synthesis has no timing summary


def test_xml_only_figures_pipeline_depth_and_dataflow_throughput() -> None:
    depth = {
        "vivadohls2018_kcu115_galapagos_parallel": 15,
        "vivadohls2019_vu9p_jettag_dense_parallel": 11,
        "vitishls2022_u250_tutorial_dense_parallel": 16,
    }
    for case, value in depth.items():
        extra = parse_csynth_xml(FIXTURES / case / "myproject_csynth.xml").extra
        assert extra["pipeline_depth"] == value
        assert extra["pipeline_initiation_interval"] == 1
        assert extra["dataflow_pipeline_throughput"] is None
    throughput = {
        "vitishls2024_u250_conv1d_stream": 390,
        "vitishls2024_u250_ioparallel_cosim_na": 128,
    }
    for case, value in throughput.items():
        extra = parse_csynth_xml(FIXTURES / case / "myproject_csynth.xml").extra
        assert extra["dataflow_pipeline_throughput"] == value
        assert extra["pipeline_depth"] is None
    best_ne_worst = parse_csynth_xml(
        FIXTURES / "vitishls2024_u250_ioparallel_cosim_na/myproject_csynth.xml"
    )
    assert best_ne_worst.extra["latency_cycles_average"] == 183


def test_text_report_keeps_printed_percentages_and_skips_slr_rows() -> None:
    vu9p = parse_csynth_rpt(
        FIXTURES / "vivadohls2019_vu9p_jettag_dense_parallel/myproject_csynth.rpt"
    )
    # "Available SLR" says 2280 DSPs and "Utilization SLR (%)" 145: neither may leak in.
    assert vu9p.resources["DSP"].available == 6840
    assert vu9p.extra["printed_percent"]["DSP"] == "48"
    assert vu9p.extra["printed_percent"]["BRAM_18K"] == "~0"
    kcu = parse_csynth_rpt(
        FIXTURES / "vivadohls2018_kcu115_galapagos_parallel/myproject_csynth.rpt"
    )
    assert "URAM" not in kcu.extra["printed_percent"]
    assert kcu.extra["printed_percent"]["BRAM_18K"] == "~0"
    vitis = parse_csynth_rpt(FIXTURES / "vitishls2024_u250_conv1d_stream/myproject_csynth.rpt")
    assert vitis.extra["printed_percent"]["FF"] == "~0"
    assert vitis.extra["build"] == "5069499 on May 21 2024"


def test_tool_is_told_apart_without_project_file(tmp_path: Path) -> None:
    """Loose XML copies: Vitis has <FlowTarget>, Vivado HLS 2018 is told by its version."""
    for case, tool in (
        ("vitishls2024_u250_ioparallel_cosim_na", "vitis_hls"),
        ("vivadohls2018_kcu115_galapagos_parallel", "vivado_hls"),
    ):
        copy = tmp_path / case / "top_csynth.xml"
        copy.parent.mkdir()
        shutil.copy(FIXTURES / case / "myproject_csynth.xml", copy)
        assert parse_csynth_xml(copy).tool == tool
    assert tool_from_version("2020.1") == "vivado_hls"
    assert tool_from_version("2020.2") == "vitis_hls"


def test_undefined_latencies_become_null(tmp_path: Path) -> None:
    """Vivado HLS prints '?' (text) / 'undef' (XML) for latencies it cannot bound."""
    source = FIXTURES / "vivadohls2018_kcu115_galapagos_parallel"
    xml = (source / "myproject_csynth.xml").read_text()
    xml = xml.replace(
        "<Worst-caseLatency>14</Worst-caseLatency>", "<Worst-caseLatency>undef</Worst-caseLatency>"
    )
    xml = xml.replace("<Interval-max>1</Interval-max>", "<Interval-max>undef</Interval-max>")
    (tmp_path / "myproject_csynth.xml").write_text(xml)
    report = parse_csynth_xml(tmp_path / "myproject_csynth.xml")
    assert (report.latency_cycles.best, report.latency_cycles.worst) == (14, None)
    assert (report.interval.min, report.interval.max) == (1, None)

    rpt = (source / "myproject_csynth.rpt").read_text()
    row = "    |   14|   14|    1|    1| function |"
    assert row in rpt
    (tmp_path / "myproject_csynth.rpt").write_text(
        rpt.replace(row, "    |   14|    ?|    1|    ?| function |")
    )
    report = parse_csynth_rpt(tmp_path / "myproject_csynth.rpt")
    assert (report.latency_cycles.best, report.latency_cycles.worst) == (14, None)
    assert (report.interval.min, report.interval.max) == (1, None)


# (file, version, part as printed, design state, used/available of LUT, FF, DSP, tiles, URAM,
#  RAMB36/FIFO used, RAMB18 used)
UTIL_CASES = [
    (
        "vivadohls2019_vu9p_jettag_dense_parallel/vivado_synth.rpt",
        "2019.2.1",
        "xcvu9pflga2104-2L",
        "Synthesized",
        [(60597, 1182240), (14719, 2364480), (3306, 6840), (1.5, 2160), (0, 960)],
        (0, 3),
    ),
    (
        "vitishls2024_u250_conv1d_stream/vivado_synth.rpt",
        "2024.1",
        "xcu250-figd2104-2L-e",
        "Optimized",
        [(8565, 1728000), (4864, 3456000), (467, 12288), (12, 2688), (0, 1280)],
        (10, 4),
    ),
    (
        "vivado2019_vu13p_jettag_hls4ml_routed/hls_final_4_2_util.rpt",
        "2019.1",
        "xcvu13pfhga2104-3",
        "Routed",
        [(4583, 1728000), (904, 3456000), (0, 12288), (0, 2688), (0, 1280)],
        (0, 0),
    ),
]


@pytest.mark.parametrize("case", UTIL_CASES, ids=[c[0].split("/")[0] for c in UTIL_CASES])
def test_vivado_utilization_figures_match_manifest(case: tuple) -> None:
    name, version, part, state, figures, (ramb36, ramb18) = case
    report = parse_utilization(FIXTURES / name)
    assert (report.tool, report.tool_version, report.part) == ("vivado", version, part)
    assert report.extra["design_state"] == state
    lut, ff, dsp, tiles, uram = figures
    assert (report.resources["LUT"].used, report.resources["LUT"].available) == lut
    assert (report.resources["FF"].used, report.resources["FF"].available) == ff
    assert (report.resources["DSP"].used, report.resources["DSP"].available) == dsp
    assert (report.resources["URAM"].used, report.resources["URAM"].available) == uram
    assert report.extra["bram_tiles"] == {"used": tiles[0], "available": tiles[1]}
    # BRAM_18K = 2 × tiles, which is also 2 × RAMB36 + RAMB18.
    bram = report.resources["BRAM_18K"]
    assert (bram.used, bram.available) == (2 * tiles[0], 2 * tiles[1])
    assert bram.used == 2 * ramb36 + ramb18
    assert report.extra["RAMB36/FIFO"]["used"] == ramb36
    assert report.extra["RAMB18"]["used"] == ramb18
    assert report.latency_cycles.best is None and report.wns_ns is None


def test_utilization_takes_first_rows_and_keeps_printed_percent() -> None:
    vu9p = parse_utilization(FIXTURES / "vivadohls2019_vu9p_jettag_dense_parallel/vivado_synth.rpt")
    # The SLR table later in the file has "| CLB LUTs | 0 | 0 | 0 |..." rows: must not win.
    assert vu9p.resources["LUT"].used == 60597
    assert vu9p.extra["printed_percent"]["LUT"] == "5.13"
    assert vu9p.extra["CARRY8"] == {"used": 6606, "available": 147780}


def test_timing_summary_figures_match_manifest() -> None:
    report = parse_timing_summary(
        FIXTURES / "vivado2019_vu13p_jettag_hls4ml_routed/hls_final_4_2_timing.rpt"
    )
    assert (report.tool, report.tool_version, report.part) == (
        "vivado",
        "2019.1",
        "xcvu13p-fhga2104-3",
    )
    assert report.wns_ns == pytest.approx(1.093)
    assert report.clock_target_ns == pytest.approx(5.0)
    extra = report.extra
    assert extra["timing_met"] is True
    assert (extra["tns_ns"], extra["tns_failing_endpoints"], extra["tns_total_endpoints"]) == (
        0.0,
        0,
        1676,
    )
    assert (extra["whs_ns"], extra["ths_ns"], extra["wpws_ns"]) == pytest.approx(
        (0.039, 0.0, 2.225)
    )
    assert extra["clocks_period_ns"] == {"ap_clk": 5.0}
    assert report.resources["LUT"].used is None  # a timing summary has no resources


def test_cosim_reports_na_become_null() -> None:
    vivado = parse_cosim(FIXTURES / "vivadohls2019_vu9p_jettag_dense_parallel/myproject_cosim.rpt")
    assert vivado["simulator"] == "xsim"
    assert vivado["rtl"]["VHDL"]["status"] is None
    verilog = vivado["rtl"]["Verilog"]
    assert verilog["status"] == "Pass"
    assert verilog["latency_cycles"] == {"min": 10, "avg": 10, "max": 10}
    assert verilog["interval_cycles"] == {"min": None, "avg": None, "max": None}
    assert verilog["total_execution_cycles"] is None

    vitis = parse_cosim(FIXTURES / "vitishls2024_u250_ioparallel_cosim_na/myproject_cosim.rpt")
    verilog = vitis["rtl"]["Verilog"]
    assert verilog["status"] == "Pass"
    assert set(verilog["latency_cycles"].values()) == {None}
    assert set(verilog["interval_cycles"].values()) == {None}
    assert verilog["total_execution_cycles"] is None


def test_app_files_name_tool_and_top() -> None:
    vivado = read_app(FIXTURES / "vivadohls2019_vu9p_jettag_dense_parallel/vivado_hls.app")
    assert (vivado.tool, vivado.name, vivado.top, vivado.solutions) == (
        "vivado_hls",
        "myproject_prj",
        "myproject",
        ("solution1",),
    )
    vitis = read_app(FIXTURES / "vitishls2024_u250_conv1d_stream/hls.app")
    assert (vitis.tool, vitis.top) == ("vitis_hls", "myproject")


def test_folder_merges_runs_per_tool() -> None:
    reports = read_reports(FIXTURES / "vivadohls2019_vu9p_jettag_dense_parallel")
    assert [r.tool for r in reports] == ["vivado_hls", "vivado"]
    hls, vivado = reports
    assert hls.source.endswith("myproject_csynth.xml")  # XML preferred over the text report
    assert hls.extra["cosim"]["rtl"]["Verilog"]["latency_cycles"]["max"] == 10
    assert vivado.resources["LUT"].used == 60597

    routed = read_reports(FIXTURES / "vivado2019_vu13p_jettag_hls4ml_routed")
    assert len(routed) == 1  # utilization + timing of one run → one report
    (merged,) = routed
    assert merged.wns_ns == pytest.approx(1.093)
    assert merged.resources["LUT"].used == 4583
    assert merged.part == "xcvu13p-fhga2104-3"  # the dashed spelling of the timing report
    assert merged.extra["timing"]["source"].endswith("hls_final_4_2_timing.rpt")

    assert reports_to_json(routed)["wns_ns"] == pytest.approx(1.093)
    assert [r["tool"] for r in reports_to_json(reports)["reports"]] == ["vivado_hls", "vivado"]


def test_project_layout_is_found(tmp_path: Path) -> None:
    """An HLS project tree: <prj>/solution1/{syn,sim}/report plus module reports beside the top."""
    source = FIXTURES / "vivadohls2019_vu9p_jettag_dense_parallel"
    prj = tmp_path / "myproject_prj"
    syn, sim = prj / "solution1/syn/report", prj / "solution1/sim/report"
    syn.mkdir(parents=True)
    sim.mkdir(parents=True)
    shutil.copy(source / "vivado_hls.app", prj / "vivado_hls.app")
    shutil.copy(source / "myproject_csynth.rpt", syn / "myproject_csynth.rpt")
    # A sub-module's report next to the top's must not be taken for the top.
    shutil.copy(
        FIXTURES / "vivadohls2018_kcu115_galapagos_parallel/myproject_csynth.xml",
        syn / "relu_csynth.xml",
    )
    shutil.copy(source / "myproject_cosim.rpt", sim / "myproject_cosim.rpt")
    (reports,) = [read_reports(tmp_path)]
    assert len(reports) == 1
    assert reports[0].source == str(syn / "myproject_csynth.rpt")
    assert reports[0].latency_cycles.worst == 10
    assert reports[0].extra["cosim"]["rtl"]["Verilog"]["status"] == "Pass"


def test_cosim_alone_takes_tool_from_project_file() -> None:
    report = read_report(FIXTURES / "vivadohls2019_vu9p_jettag_dense_parallel/myproject_cosim.rpt")
    assert report.tool == "vivado_hls"
    assert report.extra["cosim"]["rtl"]["Verilog"]["status"] == "Pass"
    alone = read_report(FIXTURES / "vitishls2024_u250_ioparallel_cosim_na/myproject_cosim.rpt")
    assert alone.tool == "hls_cosim"  # no project file says which HLS tool ran it


REPORT_FILES = sorted(
    p.relative_to(FIXTURES) for p in FIXTURES.glob("*/*") if p.suffix in (".xml", ".rpt")
)


@pytest.mark.parametrize("name", REPORT_FILES, ids=[str(p) for p in REPORT_FILES])
def test_truncated_reports_are_refused(tmp_path: Path, name: Path) -> None:
    data = (FIXTURES / name).read_bytes()
    cut = tmp_path / name.name
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(QdistillError, match=re.escape(str(cut))):
        read_reports(cut)


def test_foreign_files_are_refused(tmp_path: Path) -> None:
    png = tmp_path / "plot.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64))
    other_xml = tmp_path / "myproject_csynth.xml"
    other_xml.write_text('<?xml version="1.0"?><config><part>xcvu13p</part></config>\n')
    text = tmp_path / "notes.rpt"
    text.write_text("Report of the physics meeting\nnothing to see\n")
    for path in (png, other_xml, text):
        with pytest.raises(QdistillError, match="not a report qdistill can read"):
            read_reports(path)
    # In a folder, a file named like a C-synthesis report must be one...
    with pytest.raises(QdistillError, match=r"myproject_csynth\.xml is not a report"):
        read_reports(tmp_path)
    # ...while other files are passed over, and a folder without reports is an error.
    other_xml.unlink()
    with pytest.raises(QdistillError, match="no reports found"):
        read_reports(tmp_path)
    with pytest.raises(QdistillError, match="does not exist"):
        read_reports(tmp_path / "missing")
    profile = tmp_path / "bad_csynth.xml"
    profile.write_text(
        "<profile><ReportVersion><Version>2019.2</Version></ReportVersion></profile>"
    )
    with pytest.raises(QdistillError, match="UserAssignments"):
        read_reports(profile)
