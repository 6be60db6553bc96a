"""Paths and helpers shared by the test suite.

Every committed fixture lives inside the repository (never beside it); test modules take these
paths from here (``from conftest import REPORT_FIXTURES``) instead of building them again.
"""

from __future__ import annotations

from pathlib import Path

from qdistill.firmware.project import ProjectMeta, write_project_meta

#: The top of the checkout.
REPO = Path(__file__).resolve().parents[1]
#: Real Vivado HLS / Vitis HLS / Vivado reports, each folder's figures listed in MANIFEST.md.
REPORT_FIXTURES = REPO / "tests" / "fixtures" / "reports"
#: Stand-ins for the Xilinx tools: a Python fake and a tclsh prelude that stubs their commands.
FAKE_TOOLS = REPO / "tests" / "fake_tools"

PART = "xcvu13p-flga2577-2-e"


def write_minimal_meta(
    project: Path, *, part: str = PART, clock_mhz: float = 240.0, top: str = "myproject"
) -> ProjectMeta:
    """Write a ``project.json`` as ``qdistill convert`` would, for a hand-made hls4ml folder."""
    meta = ProjectMeta(
        part=part,
        clock_mhz=clock_mhz,
        hls_project_name=top,
        backend="Vitis",
        io_type="io_parallel",
        strategy="Latency",
        reuse_factor=1,
        input_type="fixed<16,5,RND_CONV,SAT,0>",
        output_type="ufixed<8,0,RND,SAT>",
        n_golden=0,
        name=project.name,
    )
    project.mkdir(parents=True, exist_ok=True)
    write_project_meta(project, meta)
    return meta
