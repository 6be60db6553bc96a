"""The per-particle weightings the evaluation compares, and where each one comes from.

A weighting is a function from a block of events to one weight array (n,) per event:

- ``puppi``: the PUPPI weight stored among the 16 features;
- ``teacher``: the soft labels stored in the file (``qdistill teacher label``), or the teacher
  model in ``--teacher DIR`` run on every event;
- ``distillnet``, ``qdistillnet``: the trained students (``qdistill train``) run on the features;
- ``qdistillnet_firmware``: the hls4ml project in ``--project DIR`` on the candidates
  preprocessed and quantized as the project's golden inputs are, i.e. the numbers the FPGA would
  compute: by the bit-exact NumPy emulator (``qdistill emulate``) by default, or by the hls4ml C
  simulation itself (``firmware_engine="csim"``, hundreds of times slower);
- ``truth``: the truth fraction (the primary collision's share of each candidate's energy), the
  upper bound of any pileup mitigation.

Model-based weightings are built only when their model is given; :func:`build_weightings`
returns the reason for every weighting it leaves out.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from qdistill.data.layout import Event
from qdistill.errors import QdistillError
from qdistill.features import PUPPI_WEIGHT

#: The weighting computed from a firmware project (``--project``).
FIRMWARE_WEIGHTING: Final[str] = "qdistillnet_firmware"
#: The weightings in the order of every table and figure.
WEIGHTING_NAMES: Final[tuple[str, ...]] = (
    "puppi",
    "teacher",
    "distillnet",
    "qdistillnet",
    FIRMWARE_WEIGHTING,
    "truth",
)

#: How the firmware weighting is computed: the emulator by default, the C simulation to cross-check.
FIRMWARE_ENGINES: Final[tuple[str, ...]] = ("emulator", "csim")
DEFAULT_FIRMWARE_ENGINE: Final[str] = FIRMWARE_ENGINES[0]

Weighting = Callable[[Sequence[Event]], list[npt.NDArray[np.float64]]]
PathLike = str | os.PathLike[str]


def puppi(events: Sequence[Event]) -> list[npt.NDArray[np.float64]]:
    return [e.features[:, PUPPI_WEIGHT].astype(np.float64) for e in events]


def truth(events: Sequence[Event]) -> list[npt.NDArray[np.float64]]:
    return [e.truth_fraction.astype(np.float64) for e in events]


def soft_labels(events: Sequence[Event]) -> list[npt.NDArray[np.float64]]:
    out = []
    for e in events:
        if e.soft_label is None:
            raise QdistillError("the event file has no soft labels; run `qdistill teacher label`")
        out.append(e.soft_label.astype(np.float64))
    return out


def split_block(
    weights: npt.ArrayLike, events: Sequence[Event], name: str
) -> list[npt.NDArray[np.float64]]:
    """Split one weight array for a whole block of events back into per-event arrays."""
    w = np.asarray(weights, dtype=np.float64).reshape(-1)
    sizes = [e.n_particles for e in events]
    if len(w) != sum(sizes):
        raise QdistillError(
            f"weighting {name!r} returned {len(w)} weights for {sum(sizes)} candidates; "
            "the model must give one weight per candidate"
        )
    return np.split(w, np.cumsum(sizes)[:-1])


def _block_features(events: Sequence[Event]) -> npt.NDArray[np.float32]:
    return np.concatenate([e.features for e in events])


def teacher_model(teacher_dir: PathLike) -> Weighting:
    """The teacher in ``teacher_dir`` applied event by event (it sees the whole event)."""
    from qdistill.teacher.saved import load_teacher  # imports TensorFlow: only when asked

    teacher = load_teacher(Path(teacher_dir))

    def weigh(events: Sequence[Event]) -> list[npt.NDArray[np.float64]]:
        return [split_block(teacher.predict_event(e.features), [e], "teacher")[0] for e in events]

    return weigh


def _load_student(model_dir: PathLike) -> Any:
    from qdistill.student.io import load_student  # imports TensorFlow: only when asked

    return load_student(Path(model_dir))


def student_model(model_dir: PathLike, name: str) -> Weighting:
    """A trained student (DistillNet or QDistillNet) applied to a whole block at once."""
    student = _load_student(model_dir)

    def weigh(events: Sequence[Event]) -> list[npt.NDArray[np.float64]]:
        return split_block(student.predict(_block_features(events)), events, name)

    return weigh


def check_firmware_engine(engine: str) -> None:
    """Refuse an engine name that is not in :data:`FIRMWARE_ENGINES`."""
    if engine not in FIRMWARE_ENGINES:
        raise QdistillError(
            f"--firmware-engine {engine!r} is not one of {', '.join(FIRMWARE_ENGINES)}"
        )


def firmware(project_dir: PathLike, engine: str = DEFAULT_FIRMWARE_ENGINE) -> Weighting:
    """The firmware project in ``project_dir``, emulated bit for bit or C-simulated.

    The features go through the preprocessing stored in the project (the student's, copied by
    ``qdistill convert``) and the model's input quantizer, exactly as the project's golden inputs
    are made, so the outputs are the bits the FPGA would produce for these candidates. The
    emulator must reproduce the project's golden outputs first.
    """
    from qdistill.firmware.emulate import ProjectEmulator, check_golden
    from qdistill.firmware.project import load_project

    check_firmware_engine(engine)
    project = load_project(Path(project_dir))
    emulator = ProjectEmulator.load(project)
    if engine == "csim":
        from qdistill.firmware.csim import run_csim

        def by_csim(events: Sequence[Event]) -> list[npt.NDArray[np.float64]]:
            inputs = emulator.firmware_inputs(_block_features(events))
            return split_block(run_csim(project, inputs), events, FIRMWARE_WEIGHTING)

        return by_csim
    check = check_golden(emulator)
    if not check.golden_match:
        raise QdistillError(
            f"{project.path}: the emulator reproduces {check.golden_exact} of {check.particles} "
            "golden outputs; run `qdistill emulate` on it, or evaluate with the C simulation"
        )

    def by_emulator(events: Sequence[Event]) -> list[npt.NDArray[np.float64]]:
        return split_block(
            emulator.run_features(_block_features(events)), events, FIRMWARE_WEIGHTING
        )

    return by_emulator


def build_weightings(
    *,
    has_soft_labels: bool,
    has_truth: bool = True,
    teacher_dir: PathLike | None = None,
    distillnet_dir: PathLike | None = None,
    qdistillnet_dir: PathLike | None = None,
    project_dir: PathLike | None = None,
    firmware_engine: str = DEFAULT_FIRMWARE_ENGINE,
) -> tuple[dict[str, Weighting], dict[str, str]]:
    """The weightings that can be computed, in :data:`WEIGHTING_NAMES` order, and for each one
    left out the reason. Soft labels stored in the file take precedence over ``teacher_dir``;
    ``truth`` needs a file with per-candidate truth (``has_truth``)."""
    chosen: dict[str, Weighting] = {"puppi": puppi}
    skipped: dict[str, str] = {}
    if has_soft_labels:
        chosen["teacher"] = soft_labels
    elif teacher_dir is not None:
        chosen["teacher"] = teacher_model(teacher_dir)
    else:
        skipped["teacher"] = "the file has no soft labels and no --teacher model was given"
    if distillnet_dir is not None:
        chosen["distillnet"] = student_model(distillnet_dir, "distillnet")
    else:
        skipped["distillnet"] = "no --distillnet model given"
    if qdistillnet_dir is not None:
        chosen["qdistillnet"] = student_model(qdistillnet_dir, "qdistillnet")
    else:
        skipped["qdistillnet"] = "no --qdistillnet model given"
    if project_dir is not None:
        chosen[FIRMWARE_WEIGHTING] = firmware(project_dir, firmware_engine)
    else:
        skipped[FIRMWARE_WEIGHTING] = "no --project firmware project given"
    if has_truth:
        chosen["truth"] = truth
    else:
        skipped["truth"] = (
            "the file carries no per-candidate truth (e.g. an imported DistillNet file)"
        )
    return chosen, skipped
