"""Open-source RTL for a firmware project: da4ml Verilog, simulated bit for bit with Verilator.

``qdistill rtl PROJECT`` = :func:`run_rtl`: read the project's hls4ml ModelGraph, trace the same
fixed-point computation with da4ml (:mod:`qdistill.firmware.rtl_network`), write pipelined
Verilog for the project's clock under ``PROJECT/rtl/`` (rebuildable, git-ignored), compile it
with Verilator and run every golden input through it. Every output must equal the C simulation's
(the golden outputs) bit for bit.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from qdistill import manifest
from qdistill.atomic import atomic_path
from qdistill.devices import DEFAULT_PART, clock_period_ns
from qdistill.errors import QdistillError
from qdistill.firmware.rtl_fixed import cast_values
from qdistill.firmware.rtl_network import NetworkSpec, extract_network, trace_network
from qdistill.firmware.rtl_verilator import Simulator, check_build_tools, find_verilator

RTL_DIRNAME = "rtl"
TOP_MODULE = "qdistill_net"
SUMMARY_FILENAME = "qdistill_rtl.json"
#: The RTL summary is a manifest (qdistill.manifest) of this kind.
RTL_SUMMARY_KIND = "rtl_summary"
RTL_SUMMARY_VERSION = 1
# da4ml counts latency in adder levels (HWConfig(1, -1, cutoff)). Its documented example pairs
# latency_cutoff=5 with a 5 ns clock, i.e. about 1 ns per adder level on UltraScale+; we keep that
# ratio, so a 240 MHz (4.17 ns) clock gets 4 adder levels per pipeline stage.
NS_PER_ADDER_LEVEL = 1.0
MAX_REPORTED_MISMATCHES = 10


def latency_cutoff_for(period_ns: float) -> int:
    """Adder levels per pipeline stage for a clock period in ns (at least 1)."""
    return max(1, math.floor(period_ns / NS_PER_ADDER_LEVEL + 1e-9))


@dataclass
class RtlDesign:
    """The Verilog written under ``path``: its top module, pipeline and da4ml's own estimates."""

    path: str
    top: str
    pipeline_stages: int
    latency_cycles: int  # clock edges from model_inp to model_out: input register + stages
    ii: int
    latency_cutoff: float
    clock_mhz: float
    clock_period_ns: float
    part: str
    da4ml_estimated_luts: float
    da4ml_register_bits: int
    input_bits: int
    output_bits: int

    @property
    def latency_ns(self) -> float:
        return self.latency_cycles * self.clock_period_ns


@dataclass
class Mismatch:
    index: int
    rtl: float
    csim: float


@dataclass
class RtlResult:
    """What ``qdistill rtl --json`` prints."""

    project: str
    particles: int
    csim_exact: int
    all_exact: bool
    latency_cycles: int
    latency_ns: float
    ii: int
    pipeline_stages: int
    latency_cutoff: float  # da4ml adder levels per pipeline stage
    clock_mhz: float
    simulator: dict[str, str]
    rtl_dir: str
    top_module: str
    da4ml_estimated_luts: float
    mismatches: list[Mismatch] = field(default_factory=list)
    max_abs_diff: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def pipeline_design(
    spec: NetworkSpec,
    out_dir: Path,
    *,
    clock_mhz: float,
    part: str = DEFAULT_PART,
    latency_cutoff: float | None = None,
) -> tuple[Any, RtlDesign]:
    """Trace ``spec`` and pipeline it with da4ml, writing nothing: da4ml's pipeline and the
    design facts (latency, LUT estimate) of the Verilog that :func:`write_rtl` would put in
    ``out_dir``. Takes about a second for QDistillNet, so a design-space scan calls it per point.
    """
    from da4ml.trace import to_pipeline
    from da4ml.types import minimal_kif

    period_ns = clock_period_ns(clock_mhz)
    cutoff = float(latency_cutoff if latency_cutoff is not None else latency_cutoff_for(period_ns))
    comb = trace_network(spec, cutoff)
    pipe = to_pipeline(comb, cutoff, verbose=False)
    stages = len(pipe.solutions)
    design = RtlDesign(
        path=str(out_dir),
        top=TOP_MODULE,
        pipeline_stages=stages,
        latency_cycles=stages + 1,
        ii=1,
        latency_cutoff=cutoff,
        clock_mhz=clock_mhz,
        clock_period_ns=period_ns,
        part=part,
        da4ml_estimated_luts=round(float(pipe.cost), 1),
        da4ml_register_bits=int(pipe.reg_bits),
        input_bits=int(sum(sum(minimal_kif(q)) for q in pipe.inp_qint)),
        output_bits=int(sum(sum(minimal_kif(q)) for q in pipe.out_qint)),
    )
    return pipe, design


def write_rtl(
    spec: NetworkSpec,
    out_dir: Path,
    *,
    clock_mhz: float,
    part: str = DEFAULT_PART,
    latency_cutoff: float | None = None,
) -> tuple[Any, RtlDesign]:
    """Trace ``spec``, write da4ml's pipelined Verilog project into ``out_dir`` (created).

    Returns the da4ml ``VerilogModel`` (compile it with :func:`compile_rtl`) and the design facts.
    """
    from da4ml.codegen import VerilogModel

    pipe, design = pipeline_design(
        spec, out_dir, clock_mhz=clock_mhz, part=part, latency_cutoff=latency_cutoff
    )
    model = VerilogModel(
        pipe,
        TOP_MODULE,
        out_dir,
        part_name=part,
        clock_period=design.clock_period_ns,
        print_latency=False,
    )
    model.write()
    _write_summary(out_dir, {"design": asdict(design)})
    return model, design


def _write_summary(rtl_dir: Path, summary: dict[str, Any]) -> None:
    tagged = manifest.tagged(RTL_SUMMARY_KIND, RTL_SUMMARY_VERSION, summary)
    (rtl_dir / SUMMARY_FILENAME).write_text(manifest.dumps(tagged))


def compile_rtl(model: Any, out_dir: Path, simulator: Simulator, jobs: int = 2) -> None:
    """Verilate and build da4ml's emulator library for ``model`` (its project is ``out_dir``)."""
    check_build_tools()
    with _environment(simulator.environment()):
        try:
            model.compile(openmp=False, nproc=jobs)
        except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
            raise QdistillError(
                f"Verilator {simulator.version} could not build the RTL in {out_dir}: {exc}; "
                f"see the output above, or run `make -f build_binder.mk` in {out_dir}/sim"
            ) from exc


def simulate(model: Any, inputs: NDArray[np.floating]) -> NDArray[np.float64]:
    """Run inputs (n, n_in) through the compiled Verilated pipeline; returns (n, n_out)."""
    out = model.predict(np.ascontiguousarray(inputs, dtype=np.float64), n_threads=1)
    return np.asarray(out, dtype=np.float64)


def compare(
    rtl: NDArray[np.floating], csim: NDArray[np.floating]
) -> tuple[int, list[Mismatch], float]:
    """Count bit-identical outputs; list the first mismatches and the largest difference."""
    rtl_flat, csim_flat = np.asarray(rtl).reshape(-1), np.asarray(csim).reshape(-1)
    if rtl_flat.shape != csim_flat.shape:
        raise QdistillError(f"RTL gave {rtl_flat.size} outputs for {csim_flat.size} golden outputs")
    same = rtl_flat == csim_flat
    bad = np.flatnonzero(~same)[:MAX_REPORTED_MISMATCHES]
    mismatches = [Mismatch(int(i), float(rtl_flat[i]), float(csim_flat[i])) for i in bad]
    diff = float(np.max(np.abs(rtl_flat - csim_flat))) if rtl_flat.size else 0.0
    return int(np.sum(same)), mismatches, diff


def check_inputs(spec: NetworkSpec, inputs: NDArray[np.floating]) -> NDArray[np.float64]:
    """Refuse inputs that the input type cannot hold exactly (they would not be golden vectors)."""
    x = np.asarray(inputs, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != spec.n_inputs:
        raise QdistillError(f"golden inputs have shape {x.shape}; expected (n, {spec.n_inputs})")
    if not np.array_equal(cast_values(x, spec.input_type), x):
        raise QdistillError(
            f"golden inputs are not exact {spec.input_type} values; regenerate them with "
            "`qdistill convert`"
        )
    return x


def build_and_check(
    spec: NetworkSpec,
    inputs: NDArray[np.floating],
    expected: NDArray[np.floating],
    rtl_dir: Path,
    *,
    clock_mhz: float,
    part: str = DEFAULT_PART,
    latency_cutoff: float | None = None,
    project: str = "",
    status: Callable[[str], None] | None = None,
) -> RtlResult:
    """Write, verilate and simulate ``spec`` into ``rtl_dir`` (atomically) and compare outputs."""
    x = check_inputs(spec, inputs)
    simulator = find_verilator()

    def say(message: str) -> None:
        if status is not None:
            status(message)

    with atomic_path(rtl_dir) as tmp:
        say("tracing the network with da4ml and writing Verilog")
        model, design = write_rtl(
            spec, tmp, clock_mhz=clock_mhz, part=part, latency_cutoff=latency_cutoff
        )
        say(f"compiling with Verilator {simulator.version} ({design.pipeline_stages} stages)")
        compile_rtl(model, tmp, simulator)
        say(f"simulating {len(x)} particles")
        out = simulate(model, x)
        exact, mismatches, diff = compare(out, expected)
        design.path = str(rtl_dir)
        check = {"particles": len(x), "csim_exact": exact}
        summary = {"design": asdict(design), "simulator": simulator.to_json(), "check": check}
        _write_summary(tmp, summary)
    return RtlResult(
        project=project,
        particles=len(x),
        csim_exact=exact,
        all_exact=exact == len(x) and not mismatches,
        latency_cycles=design.latency_cycles,
        latency_ns=round(design.latency_ns, 4),
        ii=design.ii,
        pipeline_stages=design.pipeline_stages,
        latency_cutoff=design.latency_cutoff,
        clock_mhz=clock_mhz,
        simulator=simulator.to_json(),
        rtl_dir=str(rtl_dir),
        top_module=design.top,
        da4ml_estimated_luts=design.da4ml_estimated_luts,
        mismatches=mismatches,
        max_abs_diff=diff,
    )


def load_design(rtl_dir: Path) -> RtlDesign:
    """The design facts :func:`build_and_check` recorded in ``rtl_dir``."""
    path = rtl_dir / SUMMARY_FILENAME
    if not path.is_file():
        raise QdistillError(f"{rtl_dir} holds no RTL built by qdistill; run `qdistill rtl` first")
    return RtlDesign(**json.loads(path.read_text())["design"])


def rtl_is_current(project_dir: str | os.PathLike[str]) -> bool:
    """Whether PROJECT/rtl was built, found bit-exact, and is newer than the model and config."""
    return stale_rtl_reason(project_dir) is None


def stale_rtl_reason(project_dir: str | os.PathLike[str]) -> str | None:
    """Why PROJECT/rtl cannot be used as it is (missing, not bit-exact, older than the project)."""
    from qdistill.firmware.project import HLS_CONFIG_FILE, MODEL_FILE, PROJECT_JSON

    project_dir = Path(project_dir)
    summary = project_dir / RTL_DIRNAME / SUMMARY_FILENAME
    if not summary.is_file():
        return f"{project_dir} has no RTL ({summary} is missing)"
    check = json.loads(summary.read_text()).get("check", {})
    if not check or check.get("csim_exact") != check.get("particles"):
        return f"{summary.parent}: the RTL was not found bit-exact against the C simulation"
    built = summary.stat().st_mtime
    inputs = [project_dir / name for name in (PROJECT_JSON, MODEL_FILE, HLS_CONFIG_FILE)]
    changed = [p.name for p in inputs if p.exists() and p.stat().st_mtime > built]
    if changed:
        return f"{summary.parent} is older than {', '.join(changed)}"
    return None


def run_rtl(
    project_dir: str | os.PathLike[str],
    *,
    latency_cutoff: float | None = None,
    status: Callable[[str], None] | None = None,
) -> RtlResult:
    """``qdistill rtl PROJECT``: build PROJECT/rtl and check it against the golden outputs."""
    from qdistill.firmware.project import load_project

    project = load_project(Path(project_dir))
    spec = extract_network(project.hls_model(compile=False))
    return build_and_check(
        spec,
        project.golden_inputs(),
        project.golden_outputs(),
        Path(project.path) / RTL_DIRNAME,
        clock_mhz=float(project.clock_mhz),
        part=str(project.part),
        latency_cutoff=latency_cutoff,
        project=str(project.path),
        status=status,
    )
