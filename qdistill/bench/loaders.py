"""Load the models the latency benchmark times, each through its own stage's loader.

Call :func:`qdistill.bench.threads.pin_one_thread` first: loading a model imports TensorFlow.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from qdistill.bench.runners import (
    DEFAULT_KERAS_CALL,
    KERAS_CALLS,
    Benchmarked,
    Features,
    keras_call_factory,
)
from qdistill.errors import QdistillError

_STUDENT_LABELS = {"distillnet": "DistillNet (Keras)", "qdistillnet": "QDistillNet (QKeras)"}


def require_directory(path: str | os.PathLike[str], option: str, made_by: str) -> Path:
    """``path`` as a Path if it is a directory; QdistillError naming ``option`` otherwise."""
    p = Path(path)
    if not p.is_dir():
        raise QdistillError(f"{option} {p}: no such directory (make one with `{made_by}`)")
    return p


def load_student_benchmark(
    directory: str | os.PathLike[str], name: str, keras_call: str = DEFAULT_KERAS_CALL
) -> Benchmarked:
    """DistillNet or QDistillNet from a ``qdistill train`` directory, timed in Keras.

    ``name`` is ``distillnet`` or ``qdistillnet`` and must match the directory's model kind;
    ``keras_call`` is a key of :data:`qdistill.bench.runners.KERAS_CALLS`.
    """
    from qdistill.student.io import load_student

    student = load_student(directory)
    if student.kind != name:
        raise QdistillError(
            f"--{name} {directory}: holds a {student.kind} model; give a {name} directory"
        )
    return Benchmarked(
        name=name,
        label=_STUDENT_LABELS[name],
        method=KERAS_CALLS[keras_call],
        source=str(directory),
        make_call=keras_call_factory(student.model, student.preprocess, keras_call),
        reference=student.predict,
    )


def load_teacher_benchmark(directory: str | os.PathLike[str], max_event: int) -> Benchmarked:
    """The teacher GNN from a ``qdistill teacher train`` directory, timed one event per call.

    One call is :meth:`qdistill.teacher.saved.Teacher.predict_event`: the event's kNN graph
    (SciPy k-d tree, one worker) and the network on all its particles (a ``tf.function``).
    """
    from qdistill.teacher.saved import load_teacher

    teacher = load_teacher(directory)

    def factory(features: Features) -> Any:
        return lambda: teacher.predict_event(features)

    return Benchmarked(
        name="teacher",
        label="Teacher GNN (one event)",
        method=(
            f"Teacher.predict_event on one event of N particles: kNN graph (k={teacher.k}) "
            "+ tf.function forward pass + .numpy()"
        ),
        source=str(directory),
        make_call=factory,
        per_event=True,
        max_batch=max_event,
    )


def load_csim_benchmark(project_dir: str | os.PathLike[str]) -> Benchmarked:
    """The hls4ml C-simulation library of a ``qdistill convert`` project, timed from Python.

    The project is copied (without its generated ``hls4ml_prj/``) to a temporary folder and
    compiled there, so the benchmark never rewrites the user's project. One call is the project's
    preprocessing plus :func:`qdistill.firmware.csim.run_csim`: hls4ml's ``ModelGraph.predict``,
    which calls the compiled library once per particle through ctypes. Before timing, the
    library runs the project's golden inputs and is compared with its golden outputs.
    """
    import shutil
    import tempfile

    import numpy as np

    from qdistill.firmware.csim import run_csim
    from qdistill.firmware.project import HLS_DIR, load_project
    from qdistill.student.preprocessing import Preprocessing

    source = load_project(project_dir)
    workdir = tempfile.TemporaryDirectory(prefix="qdistill-bench-csim-")
    copy = Path(workdir.name) / source.path.name
    shutil.copytree(source.path, copy, ignore=shutil.ignore_patterns(HLS_DIR))
    project = load_project(copy)
    preprocess = Preprocessing.load(copy)
    golden_in = project.golden_inputs()
    golden_exact = int(np.sum(run_csim(project, golden_in) == project.golden_outputs()))

    # the default argument keeps the temporary folder, where the library lives, alive
    def factory(features: Features, _workdir: Any = workdir) -> Any:
        return lambda: run_csim(project, preprocess(features))

    return Benchmarked(
        name="qdistillnet_csim",
        label="QDistillNet (hls4ml C simulation)",
        method=(
            "preprocess (NumPy) + qdistill.firmware.csim.run_csim: hls4ml ModelGraph.predict, "
            f"the compiled C-simulation library ({project.meta.backend} backend, g++) called "
            "once per particle through ctypes from Python"
        ),
        source=str(project_dir),
        make_call=factory,
        checks={
            "golden_particles": len(golden_in),
            "golden_exact": golden_exact,
            "golden_match": golden_exact == len(golden_in),
        },
    )
