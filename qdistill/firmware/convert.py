"""``qdistill convert``: a trained QKeras student → a firmware project with golden vectors.

The project (layout in :mod:`qdistill.firmware.project`) is built in a temporary folder next to
the target and renamed into place only when complete, golden outputs included.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from qdistill import __version__
from qdistill.atomic import atomic_path
from qdistill.devices import DEFAULT_CLOCK_MHZ, DEFAULT_PART, clock_period_ns, get_device
from qdistill.errors import QdistillError
from qdistill.features import N_FEATURES
from qdistill.firmware import golden
from qdistill.firmware.config import (
    HLS_PROJECT_NAME,
    IO_TYPE,
    OUTPUT_PRECISION,
    REUSE_FACTOR,
    SIGMOID_TABLE_SIZE,
    STRATEGY,
    ModelStructure,
    hls4ml_backend,
    input_precision_string,
    make_hls_config,
    model_structure,
)
from qdistill.firmware.fixed import quantize
from qdistill.firmware.hls4ml_compat import hls4ml_session
from qdistill.firmware.project import (
    GOLDEN_INPUTS,
    GOLDEN_OUTPUTS,
    HLS_CONFIG_FILE,
    MODEL_FILE,
    PROJECT_JSON,
    TB_OUTPUTS,
    FirmwareProject,
    ProjectMeta,
    compiler_available,
    load_keras_model,
    load_project,
    write_project_meta,
)
from qdistill.firmware.reference import quantize_inputs
from qdistill.student.io import STUDENT_FILE
from qdistill.student.preprocessing import PREPROCESSING_FILE

DEFAULT_GOLDEN_PARTICLES = 4096


def _log(message: str) -> None:
    sys.stderr.write(f"qdistill convert: {message}\n")


def load_preprocess(model_dir: Path) -> golden.Preprocess:
    """The student's preprocessing (features (n, 16) → network inputs (n, 16)) for ``model_dir``."""
    from qdistill.student.io import load_student  # imports TensorFlow: only when asked

    return load_student(model_dir).preprocess


def convert_model(
    model_dir: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    backend: str = "vivado",
    part: str = DEFAULT_PART,
    clock_mhz: float = DEFAULT_CLOCK_MHZ,
    golden_data: str | os.PathLike[str] | None = None,
    golden_particles: int = DEFAULT_GOLDEN_PARTICLES,
    seed: int = 0,
    preprocess: golden.Preprocess | None = None,
) -> FirmwareProject:
    """Convert the student in ``model_dir`` into the firmware project ``output``.

    ``golden_data`` is an event file whose particles (``golden_particles``, drawn with ``seed``)
    become the golden inputs after ``preprocess`` (default: the student's own preprocessing,
    :func:`load_preprocess`) and the model's input quantizer. Without it, the golden inputs are
    seeded uniform vectors over the input type's range. Golden outputs come from the C
    simulation. Returns the project; raises QdistillError on bad input, leaving ``output`` as it
    was.
    """
    model_dir, output = Path(model_dir), Path(output)
    backend_name = _check_request(model_dir, output, backend, part, clock_mhz, golden_data)
    if golden_particles < 1:
        raise QdistillError(f"--golden-particles must be at least 1, got {golden_particles}")
    t0 = time.perf_counter()
    model = load_keras_model(model_dir / MODEL_FILE)
    structure = model_structure(model)
    with hls4ml_session() as hls4ml:
        config = make_hls_config(model, hls4ml, backend_name)
        hls4ml_version = hls4ml.__version__

    if golden_data is None:
        network_inputs, source = _swept_inputs(config, structure, golden_particles, seed)
    else:
        preprocess = preprocess if preprocess is not None else load_preprocess(model_dir)
        network_inputs, source = _event_inputs(
            Path(golden_data), golden_particles, seed, preprocess, model_dir
        )
    inputs = quantize_inputs(model, structure, network_inputs)
    meta = ProjectMeta(
        name=output.name,
        part=part,
        clock_mhz=float(clock_mhz),
        backend=backend_name,
        io_type=IO_TYPE,
        strategy=STRATEGY,
        reuse_factor=REUSE_FACTOR,
        input_type=input_precision_string(config, structure),
        output_type=OUTPUT_PRECISION,
        sigmoid_table_size=SIGMOID_TABLE_SIZE,
        hls_project_name=HLS_PROJECT_NAME,
        n_golden=len(inputs),
        golden_source=source,
        layers={
            "input": structure.input_layer,
            "input_quantizer": structure.input_quantizer,
            "logit": structure.logit_layer,
            "sigmoid": structure.sigmoid_layer,
        },
        model_dir=str(model_dir),
        qdistill_version=__version__,
        hls4ml_version=hls4ml_version,
        created_utc=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    _write_project(output, model_dir, model, meta, config, inputs)
    # Regenerate hls4ml_prj at its final path (its config records the folder) without the
    # C-simulation trace hooks; a plain write, no compilation.
    project = load_project(output, preloaded_model=model)
    project.hls_model(compile=False)
    _log(f"wrote {output} in {time.perf_counter() - t0:.1f} s")
    return project


def _check_request(
    model_dir: Path,
    output: Path,
    backend: str,
    part: str,
    clock_mhz: float,
    golden_data: str | os.PathLike[str] | None,
) -> str:
    """Validate the request before any work; the hls4ml backend name."""
    backend_name = hls4ml_backend(backend)
    get_device(part)
    clock_period_ns(clock_mhz)  # raises for a clock outside the supported range
    if not model_dir.is_dir():
        raise QdistillError(
            f"{model_dir}: no such model directory (train one with `qdistill train`)"
        )
    for name in (MODEL_FILE, PREPROCESSING_FILE, STUDENT_FILE):
        if not (model_dir / name).is_file():
            raise QdistillError(
                f"{model_dir}: missing {name}; is this a folder written by `qdistill train`?"
            )
    _check_output(output)
    if golden_data is not None and not Path(golden_data).is_file():
        raise QdistillError(f"{golden_data}: no such event file for --golden-data")
    if not compiler_available():
        raise QdistillError(
            "no C++ compiler (g++) on PATH; hls4ml's C simulation needs one "
            "(e.g. `apt-get install g++`)"
        )
    return backend_name


def _event_inputs(
    golden_data: Path,
    golden_particles: int,
    seed: int,
    preprocess: golden.Preprocess,
    model_dir: Path,
) -> tuple[npt.NDArray[np.float32], dict[str, Any]]:
    """Network inputs (n, 16) of ``golden_particles`` particles drawn from an event file."""
    _log(f"sampling {golden_particles} golden particles from {golden_data} (seed {seed})")
    features = golden.sample_event_particles(golden_data, golden_particles, seed)
    network_inputs = np.asarray(preprocess(features), dtype=np.float32)
    if network_inputs.shape != (golden_particles, N_FEATURES):
        raise QdistillError(
            f"{model_dir}: preprocessing returned shape {network_inputs.shape}, "
            f"expected ({golden_particles}, {N_FEATURES})"
        )
    source = {"kind": "events", "file": str(golden_data), "particles": golden_particles}
    return network_inputs, {**source, "seed": seed}


def _swept_inputs(
    config: dict[str, Any], structure: ModelStructure, golden_particles: int, seed: int
) -> tuple[npt.NDArray[np.float32], dict[str, Any]]:
    """Seeded uniform network inputs (n, 16) over the firmware input type's range."""
    low, high = _type_range(config, structure)
    _log(
        f"no --golden-data: {golden_particles} seeded uniform vectors over the input type's "
        f"range [{low}, {high}] (seed {seed})"
    )
    network_inputs = golden.sweep_input_range(golden_particles, low, high, seed)
    return network_inputs, {
        "kind": "input-range sweep",
        "particles": golden_particles,
        "seed": seed,
    }


def _write_project(
    output: Path,
    model_dir: Path,
    model: Any,
    meta: ProjectMeta,
    config: dict[str, Any],
    inputs: npt.NDArray[np.float64],
) -> None:
    """Build the project in a temporary folder, golden outputs from the C simulation; rename."""
    with atomic_path(output) as tmp:
        tmp.mkdir()
        for name in (MODEL_FILE, PREPROCESSING_FILE, STUDENT_FILE):
            shutil.copyfile(model_dir / name, tmp / name)
        (tmp / HLS_CONFIG_FILE).write_text(json.dumps(config, indent=2, allow_nan=False) + "\n")
        (tmp / "golden").mkdir()
        golden.write_dat(tmp / GOLDEN_INPUTS, inputs)
        write_project_meta(tmp, meta)
        project = FirmwareProject(path=tmp, meta=meta, preloaded_model=model)
        _log(f"converting with hls4ml {meta.hls4ml_version} and compiling the C simulation (g++)")
        hm = project.hls_model(compile=True)
        with hls4ml_session():
            outputs = np.asarray(hm.predict(np.ascontiguousarray(inputs)), dtype=np.float64)
        golden.write_dat(tmp / GOLDEN_OUTPUTS, outputs.reshape(-1))
        shutil.copyfile(tmp / GOLDEN_OUTPUTS, project.hls_dir / TB_OUTPUTS)


def _check_output(output: Path) -> None:
    """Refuse to replace anything but an earlier firmware project (the folder is replaced whole)."""
    if output.exists() and not (
        (output.is_dir() and not any(output.iterdir())) or (output / PROJECT_JSON).is_file()
    ):
        raise QdistillError(
            f"{output}: exists and is not a firmware project; choose a new folder "
            "(e.g. firmware_projects/NAME) — convert replaces the whole folder"
        )


def _type_range(config: dict[str, Any], structure: ModelStructure) -> tuple[float, float]:
    """Smallest and largest value of the firmware input type."""
    from hls4ml.backends import get_backend

    precision = get_backend("Vivado").convert_precision_string(
        input_precision_string(config, structure)
    )
    lsb = 2.0 ** -(precision.width - precision.integer)
    high = 2.0 ** (precision.integer - (1 if precision.signed else 0)) - lsb
    low = -(2.0 ** (precision.integer - 1)) if precision.signed else 0.0
    assert quantize([low, high], precision).tolist() == [low, high]
    return low, high
