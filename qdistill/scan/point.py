"""One point of a scan, as a self-contained task: train, convert, check, estimate, evaluate.

:func:`run_point` reads its inputs from files and writes everything under its own folder, the
result last (``result.json``, atomically): a point whose result exists is done, a point killed
half-way leaves no result and is simply run again. Dask runs it on any worker.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

from qdistill import manifest
from qdistill.atomic import atomic_path
from qdistill.devices import DEFAULT_CLOCK_MHZ, DEFAULT_PART
from qdistill.errors import QdistillError
from qdistill.firmware.convert import DEFAULT_GOLDEN_PARTICLES
from qdistill.physics.resolution import N_BOOTSTRAP
from qdistill.physics.weightings import FIRMWARE_WEIGHTING
from qdistill.scan.grid import ScanPoint
from qdistill.student.config import DEFAULT_BATCH_SIZE, LossSettings, TrainConfig

RESULT_FILE: Final[str] = "result.json"
RESULT_KIND: Final[str] = "scan_point"
RESULT_VERSION: Final[int] = 2  # 2 adds the physics' response medians and `unphysical`
SUMMARY_FIGURES: Final[tuple[str, ...]] = (
    "jet_resolution",
    "jet_resolution_uncertainty",
    "jet_response_median",
    "jet_matching_efficiency",
    "met_resolution",
    "met_resolution_uncertainty",
    "met_response_median",
    "accuracy",
)


@dataclass(frozen=True)
class PointSettings:
    """What every point shares: the data, the training and the evaluation settings."""

    data: Path
    validation_data: Path
    epochs: int = TrainConfig.epochs
    batch_size: int = DEFAULT_BATCH_SIZE
    seed: int = TrainConfig.seed  # of training, the golden draw and the bootstrap
    high_target_weight: float | None = LossSettings.high_target_weight  # None: 'auto'
    max_particles: int | None = None
    golden_particles: int = DEFAULT_GOLDEN_PARTICLES
    max_events: int | None = None  # validation events for the physics; None: all
    n_bootstrap: int = N_BOOTSTRAP
    clock_mhz: float = DEFAULT_CLOCK_MHZ
    part: str = DEFAULT_PART
    threads: int = 1  # TensorFlow threads per task: workers x threads <= cores

    def to_json(self) -> dict[str, Any]:
        return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}


YOSYS_FILE: Final[str] = "yosys.json"
YOSYS_KIND: Final[str] = "scan_yosys"
YOSYS_VERSION: Final[int] = 1


def yosys_path(scan_dir: Path, point_name: str) -> Path:
    return scan_dir / "points" / point_name / YOSYS_FILE


def read_yosys(path: Path) -> dict[str, Any]:
    """A point's RTL check and Yosys estimate (see :func:`synthesise_point`)."""
    data = manifest.read_json(path)
    manifest.check_tag(data, YOSYS_KIND, YOSYS_VERSION, path)
    return data


def synthesise_point(point_name: str, scan_dir: str, part: str = DEFAULT_PART) -> dict[str, Any]:
    """``qdistill rtl`` (da4ml Verilog, Verilator against the golden outputs) and
    ``qdistill synth --flow yosys`` of a finished point's project; ``yosys.json`` last.

    Minutes per point, so the scan runs it for the Pareto points only (``--yosys-pareto``).
    """
    from qdistill.firmware.rtl import run_rtl
    from qdistill.synth.yosys import YOSYS_LOG_NAME, run_yosys_flow

    done = yosys_path(Path(scan_dir), point_name)
    if done.is_file():
        return read_yosys(done)
    project = done.parent / "project"
    started = time.perf_counter()
    rtl = run_rtl(project)
    if not rtl.all_exact:
        raise QdistillError(
            f"{project}: the RTL reproduces {rtl.csim_exact} of {rtl.particles} golden outputs"
        )
    report = run_yosys_flow(project, part, project / "logs" / YOSYS_LOG_NAME)
    result = manifest.tagged(
        YOSYS_KIND,
        YOSYS_VERSION,
        {
            "point": point_name,
            "rtl_golden_exact_verilator": rtl.csim_exact,
            "rtl_golden_particles": rtl.particles,
            "verilator": rtl.simulator.get("version"),
            "latency_cycles_rtl": rtl.latency_cycles,
            "luts_yosys": report.resources["LUT"].used,
            "ff_yosys": report.resources["FF"].used,
            "dsp_yosys": report.resources["DSP"].used,
            "yosys": report.tool_version,
            "seconds": round(time.perf_counter() - started, 2),
        },
    )
    with atomic_path(done) as tmp:
        tmp.write_text(manifest.dumps(result))
    return result


def result_path(scan_dir: Path, point: ScanPoint) -> Path:
    return scan_dir / "points" / point.name / RESULT_FILE


def read_result(path: Path) -> dict[str, Any]:
    """A finished point's result (checked to be a scan-point manifest).

    A version-1 result is brought to version 2 from the point's own ``physics/summary.json``
    (the physics figures are re-read, nothing is recomputed) and rewritten.
    """
    data = manifest.read_json(path)
    if manifest.has_tag(data, RESULT_KIND, 1):
        summary = manifest.read_json(path.parent / "physics" / "summary.json")
        body = {
            k: v for k, v in data.items() if k not in (manifest.FORMAT_KEY, manifest.VERSION_KEY)
        }
        data = manifest.tagged(
            RESULT_KIND, RESULT_VERSION, {**body, "physics": physics_figures(summary)}
        )
        with atomic_path(path) as tmp:
            tmp.write_text(manifest.dumps(data))
    manifest.check_tag(data, RESULT_KIND, RESULT_VERSION, path)
    return data


def run_point(point: ScanPoint, settings: PointSettings, scan_dir: str) -> dict[str, Any]:
    """Run ``point`` unless its result exists; return the result (also in its result.json)."""
    out = Path(scan_dir) / "points" / point.name
    done = result_path(Path(scan_dir), point)
    if done.is_file():
        return read_result(done)
    from qdistill.keras_backend import import_tensorflow

    import_tensorflow(settings.threads)
    started = time.perf_counter()
    for leftover in ("student", "project"):  # from a killed run: start the point afresh
        shutil.rmtree(out / leftover, ignore_errors=True)
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    student_metrics = _train(point, settings, out / "student")
    seconds["train"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    firmware = _firmware(settings, out)
    seconds["convert_check_estimate"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    physics = _physics(settings, out)
    seconds["physics"] = time.perf_counter() - t0
    seconds["total"] = time.perf_counter() - started
    result = manifest.tagged(
        RESULT_KIND,
        RESULT_VERSION,
        {
            "point": point.to_json(),
            "settings": settings.to_json(),
            "student": student_metrics,
            "firmware": firmware,
            "physics": physics,
            "seconds": {k: round(v, 2) for k, v in seconds.items()},
        },
    )
    with atomic_path(done) as tmp:
        tmp.write_text(manifest.dumps(result))
    return result


def _train(point: ScanPoint, settings: PointSettings, model_dir: Path) -> dict[str, Any]:
    from qdistill.student.config import LossSettings, TrainConfig
    from qdistill.student.train import train_student

    weight = settings.high_target_weight
    metrics = train_student(
        TrainConfig(
            spec=point.model_spec(),
            data=settings.data,
            output=model_dir,
            epochs=settings.epochs,
            batch_size=settings.batch_size,
            seed=settings.seed,
            validation_data=settings.validation_data,
            max_particles=settings.max_particles,
            loss=LossSettings(high_target_weight=1.0 if weight is None else weight),
            auto_high_target_weight=weight is None,
            progress=False,
        )
    )
    return {
        "sparsity": metrics.get("sparsity", {}).get("hidden_overall"),
        "accuracy_qkeras": metrics.get("accuracy"),
    }


def _firmware(settings: PointSettings, out: Path) -> dict[str, Any]:
    """hls4ml project, emulator against the C simulation's golden outputs, da4ml estimate."""
    from qdistill.firmware.convert import convert_model
    from qdistill.firmware.emulate import ProjectEmulator, check_golden
    from qdistill.firmware.rtl import pipeline_design

    project = convert_model(
        out / "student",
        out / "project",
        part=settings.part,
        clock_mhz=settings.clock_mhz,
        golden_data=settings.validation_data,
        golden_particles=settings.golden_particles,
        seed=settings.seed,
    )
    emulator = ProjectEmulator.load(project)
    golden = check_golden(emulator)
    if not golden.golden_match:
        raise QdistillError(
            f"{project.path}: the emulator reproduces {golden.golden_exact} of "
            f"{golden.particles} C-simulation golden outputs; the scan cannot trust this point"
        )
    _, design = pipeline_design(
        emulator.emulator.spec, out / "project" / "rtl", clock_mhz=settings.clock_mhz
    )
    return {
        "golden_exact_emulator_vs_csim": golden.golden_exact,
        "golden_particles": golden.particles,
        "input_type": str(emulator.emulator.spec.input_type),
        "luts_da4ml": design.da4ml_estimated_luts,
        "register_bits_da4ml": design.da4ml_register_bits,
        "latency_cycles_da4ml": design.latency_cycles,
        "latency_ns_da4ml": round(design.latency_ns, 3),
        "clock_mhz": settings.clock_mhz,
    }


def _physics(settings: PointSettings, out: Path) -> dict[str, Any]:
    """The point's firmware (emulated bit for bit) on the validation events, against PUPPI."""
    from qdistill.physics.evaluate import evaluate

    summary = evaluate(
        settings.validation_data,
        out / "physics",
        project_dir=out / "project",
        max_events=settings.max_events,
        n_bootstrap=settings.n_bootstrap,
        seed=settings.seed,
        make_plots=False,
    )
    return physics_figures(summary)


def physics_figures(summary: dict[str, Any]) -> dict[str, Any]:
    """The firmware's and PUPPI's figures from an evaluate summary; ``unphysical`` says why the
    firmware's resolutions are no figure of merit (None when they are)."""
    from qdistill.physics.sanity import unphysical_weightings

    figures: dict[str, Any] = {"events": summary["events"], "gen_jets": summary["gen_jets"]}
    for key in SUMMARY_FIGURES:
        figures[key] = summary[key].get(FIRMWARE_WEIGHTING)
        figures[f"puppi_{key}"] = summary[key].get("puppi")
    figures["unphysical"] = unphysical_weightings(summary).get(FIRMWARE_WEIGHTING)
    return figures
