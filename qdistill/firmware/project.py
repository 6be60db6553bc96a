"""A firmware project folder and the hls4ml model built from it.

Layout of ``firmware_projects/NAME/`` (documented in docs/firmware.md)::

    project.json          part, clock, backend, io type, strategy, types, golden vector count, …
    model.h5              the QKeras model (copied from the model directory)
    preprocessing.json    the student's preprocessing (copied)
    student.json          the student's description (copied)
    hls4ml_config.json    the hls4ml configuration used (hls4ml's keys)
    golden/inputs.dat     golden inputs, one particle a line (exact firmware input values)
    golden/outputs.dat    golden outputs of the C simulation, one a line
    hls4ml_prj/           the generated hls4ml project (rebuilt on demand; not in git)
"""

from __future__ import annotations

import os
import shutil
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from qdistill import manifest
from qdistill.devices import clock_period_ns
from qdistill.errors import QdistillError
from qdistill.features import N_FEATURES
from qdistill.firmware.config import ModelStructure, model_structure
from qdistill.firmware.golden import read_dat
from qdistill.firmware.hls4ml_compat import hls4ml_session
from qdistill.student.io import MODEL_FILE

PROJECT_JSON: Final[str] = "project.json"
HLS_CONFIG_FILE: Final[str] = "hls4ml_config.json"
GOLDEN_INPUTS: Final[str] = "golden/inputs.dat"
GOLDEN_OUTPUTS: Final[str] = "golden/outputs.dat"
HLS_DIR: Final[str] = "hls4ml_prj"
TB_OUTPUTS: Final[str] = "tb_data/tb_output_predictions.dat"

#: project.json is a manifest (qdistill.manifest) of this kind.
PROJECT_KIND: Final[str] = "firmware_project"
PROJECT_VERSION: Final[int] = 1
#: Digits of the clock period in ns written to project.json and the HLS build script (0.1 ps).
CLOCK_PERIOD_DIGITS: Final[int] = 4


@dataclass(frozen=True)
class ProjectMeta:
    """``project.json``: what ``qdistill convert`` decided, read by csim, rtl, synth and bench.

    Clock in MHz; ``input_type`` and ``output_type`` in hls4ml's precision syntax.
    """

    part: str
    clock_mhz: float
    hls_project_name: str
    backend: str
    io_type: str
    strategy: str
    reuse_factor: int
    input_type: str
    output_type: str
    n_golden: int
    name: str = ""
    sigmoid_table_size: int | None = None
    golden_source: dict[str, Any] = field(default_factory=dict)
    layers: dict[str, str] = field(default_factory=dict)
    model_dir: str = ""
    qdistill_version: str = ""
    hls4ml_version: str = ""
    created_utc: str = ""

    @property
    def clock_period_ns(self) -> float:
        """The clock period in ns, rounded to 0.1 ps as the HLS build script gets it."""
        return round(clock_period_ns(self.clock_mhz), CLOCK_PERIOD_DIGITS)

    def to_json(self) -> dict[str, Any]:
        """The JSON object, schema tag first; strict JSON (no NaN)."""
        body = {**asdict(self), "clock_period_ns": self.clock_period_ns}
        return manifest.tagged(PROJECT_KIND, PROJECT_VERSION, body)

    @classmethod
    def from_json(cls, data: dict[str, Any], source: str) -> ProjectMeta:
        """Check the schema tag and every field's type; QdistillError naming ``source``."""
        manifest.check_tag(data, PROJECT_KIND, PROJECT_VERSION, source)
        known = {f.name: f for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        missing = [
            name
            for name, f in known.items()
            if name not in values and f.default is MISSING and f.default_factory is MISSING
        ]
        if missing:
            raise QdistillError(f"{source}: missing {', '.join(missing)}; rerun `qdistill convert`")
        for name, kind in (("clock_mhz", (int, float)), ("reuse_factor", int), ("n_golden", int)):
            if isinstance(values[name], bool) or not isinstance(values[name], kind):
                raise QdistillError(f"{source}: {name} must be a number, not {values[name]!r}")
        if not values["clock_mhz"] > 0:
            raise QdistillError(f"{source}: clock_mhz must be positive, not {values['clock_mhz']}")
        for name in ("part", "hls_project_name", "backend", "input_type", "output_type"):
            if not isinstance(values[name], str) or not values[name]:
                raise QdistillError(f"{source}: {name} must be a non-empty string")
        return cls(**{**values, "clock_mhz": float(values["clock_mhz"])})


def read_project_meta(project_dir: str | os.PathLike[str]) -> ProjectMeta:
    """The checked ``project.json`` of a project folder; QdistillError saying what to run."""
    path = Path(project_dir)
    meta_path = path / PROJECT_JSON
    if not path.is_dir():
        raise QdistillError(f"project folder {path} does not exist; run `qdistill convert` first")
    if not meta_path.is_file():
        raise QdistillError(
            f"{path}: not a firmware project (no {PROJECT_JSON}); "
            "make one with `qdistill convert MODEL_DIR -o PATH`"
        )
    return ProjectMeta.from_json(manifest.read_json(meta_path), str(meta_path))


def write_project_meta(folder: Path, meta: ProjectMeta) -> None:
    """Write ``folder/project.json`` (the caller makes the folder atomic)."""
    (folder / PROJECT_JSON).write_text(manifest.dumps(meta.to_json()))


def compiler_available() -> bool:
    """Whether a C++ compiler for hls4ml's C simulation (g++) is on PATH."""
    return shutil.which("g++") is not None


@dataclass
class FirmwareProject:
    """A firmware project folder. ``meta`` is ``project.json``; see the module docstring."""

    path: Path
    meta: ProjectMeta
    #: An already loaded ``model.h5`` (saves loading it again); loaded on first use otherwise.
    preloaded_model: Any = field(default=None, repr=False)
    _compiled: Any = field(default=None, init=False, repr=False)

    @property
    def part(self) -> str:
        return self.meta.part

    @property
    def clock_mhz(self) -> float:
        return self.meta.clock_mhz

    @property
    def clock_period_ns(self) -> float:
        return self.meta.clock_period_ns

    @property
    def hls_dir(self) -> Path:
        """The generated hls4ml project folder."""
        return self.path / HLS_DIR

    def keras_model(self) -> Any:
        """The QKeras model (``model.h5``), loaded once."""
        if self.preloaded_model is None:
            self.preloaded_model = load_keras_model(self.path / MODEL_FILE)
        return self.preloaded_model

    def structure(self) -> ModelStructure:
        """Names of the model's input, input-quantizer, logit and sigmoid layers."""
        return model_structure(self.keras_model())

    def hls_config(self) -> dict[str, Any]:
        """The hls4ml configuration stored in ``hls4ml_config.json``."""
        return _read_json(self.path / HLS_CONFIG_FILE)

    def golden_inputs(self) -> npt.NDArray[np.float64]:
        """Golden firmware inputs, (n, 16) float64."""
        return read_dat(self.path / GOLDEN_INPUTS, N_FEATURES)

    def golden_outputs(self) -> npt.NDArray[np.float64]:
        """Golden firmware outputs, (n,) float64."""
        return read_dat(self.path / GOLDEN_OUTPUTS, 1)[:, 0]

    def build_hls_model(self, *, trace: bool = False) -> Any:
        """The hls4ml ``ModelGraph`` from ``model.h5`` + ``hls4ml_config.json`` (not yet written).

        ``trace=True`` also records the logit layer's output in the C simulation
        (``ModelGraph.trace``); the firmware itself is the same.
        """
        config = self.hls_config()
        if trace:
            config["LayerName"][self.structure().logit_layer]["Trace"] = True
        golden_in = self.path / GOLDEN_INPUTS
        golden_out = self.path / GOLDEN_OUTPUTS
        model = self.keras_model()
        with hls4ml_session() as hls4ml:
            hm = hls4ml.converters.convert_from_keras_model(
                model,
                output_dir=str(self.hls_dir),
                project_name=self.meta.hls_project_name,
                backend=self.meta.backend,
                part=self.part,
                clock_period=self.clock_period_ns,
                io_type=self.meta.io_type,
                hls_config=config,
                input_data_tb=str(golden_in) if golden_in.is_file() else None,
                output_data_tb=str(golden_out) if golden_out.is_file() else None,
            )
            if trace:
                hm.config.trace_output = True
        return hm

    def compile_hls_model(self, hm: Any) -> None:
        """Write and compile ``hm`` for C simulation (g++); QdistillError if that fails.

        ``hm`` then serves :meth:`compiled_hls_model` (and so ``run_csim``).
        """
        if not compiler_available():
            raise QdistillError(
                "no C++ compiler (g++) on PATH; hls4ml's C simulation needs one "
                "(e.g. `apt-get install g++`)"
            )
        from rich.console import Console

        status = Console(stderr=True).status(f"compiling the C simulation of {self.path} (g++)")
        with status, hls4ml_session():
            try:
                hm.compile()
            except Exception as exc:  # hls4ml raises a bare Exception after printing g++'s output
                raise QdistillError(
                    f"{self.hls_dir}: compiling the C simulation failed ({exc}); "
                    "the compiler output is above"
                ) from None
        self._compiled = hm

    def hls_model(self, compile: bool = True) -> Any:
        """Build the hls4ml model into ``hls4ml_prj/``; compile it for C simulation if asked.

        With ``compile=False`` the project is only written (for vendor HLS synthesis).
        """
        hm = self.build_hls_model(trace=compile)
        if compile:
            self.compile_hls_model(hm)
        else:
            with hls4ml_session():
                hm.write()
        return hm

    def compiled_hls_model(self) -> Any:
        """The compiled hls4ml model, built and compiled on first use then reused."""
        if self._compiled is None:
            self.hls_model(compile=True)
        return self._compiled


def load_keras_model(path: str | os.PathLike[str]) -> Any:
    """Load a QKeras model saved with ``model.save(...h5)``; QdistillError if it cannot."""
    from qdistill.keras_backend import load_qkeras_model

    path = Path(path)
    if not path.is_file():
        raise QdistillError(f"{path}: no such model file (train one with `qdistill train`)")
    try:
        return load_qkeras_model(path)
    except Exception as exc:  # h5py/Keras raise many types for a bad file
        raise QdistillError(f"{path}: cannot load the QKeras model ({exc})") from None


def load_project(path: str | os.PathLike[str], preloaded_model: Any = None) -> FirmwareProject:
    """Open a firmware project folder written by ``qdistill convert``.

    ``preloaded_model`` is the project's ``model.h5`` if the caller has it loaded already.
    """
    path = Path(path)
    meta = read_project_meta(path)
    return FirmwareProject(path=path, meta=meta, preloaded_model=preloaded_model)


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise QdistillError(f"{path}: missing; rerun `qdistill convert`")
    data = manifest.read_json(path)
    if not isinstance(data, dict):
        raise QdistillError(f"{path}: expected a JSON object")
    return data
