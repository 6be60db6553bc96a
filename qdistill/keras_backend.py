"""The one place that selects Keras 2 (tf-keras) for TensorFlow, QKeras and TF-MOT.

QKeras 0.9.0 and TensorFlow Model Optimization need Keras 2. TensorFlow 2.16+ ships Keras 3 as
``tf.keras`` unless ``TF_USE_LEGACY_KERAS=1`` is set *before TensorFlow is first imported*, so
every module that needs TensorFlow imports it through :func:`import_tensorflow`, or uses the
lazy modules :data:`tf`, :data:`keras`, :data:`qkeras` and :data:`tfmot` of this module, which
import on first attribute access. So importing a stage never starts TensorFlow by itself, and the
first caller (a command with ``--threads``, a benchmark pinned to one thread) sets it up.

TensorFlow's C++ start-up lines (oneDNN, "Could not find cuda drivers", "failed call to cuInit",
absl's "All log messages before absl::InitializeLog()") are written straight to file descriptor 2
while the library loads and its devices are listed, before any log level applies. They are
harmless on a CPU machine, so that window runs with descriptor 2 sent to /dev/null; Python errors
still propagate as exceptions. ``QDISTILL_VERBOSE=1`` keeps every line.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

#: Set to 1 to see TensorFlow's start-up logging and hls4ml's prints.
VERBOSE_ENV = "QDISTILL_VERBOSE"

# Benign warnings that tf-keras prints on every QKeras save: QKeras quantizers serialised as
# constraints, and the HDF5 format, which we choose because hls4ml's Keras 2 converter reads it.
_QUIET_WARNINGS = (
    r"The `keras\.constraints\.serialize\(\)` API should only be used",
    r"You are saving your model as an HDF5 file",
)


def configure_environment(threads: int | None = None) -> None:
    """Select legacy Keras and quiet TensorFlow's C++ logging; optionally fix the thread count."""
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    if not verbose():
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    for message in _QUIET_WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=UserWarning)
    if threads is not None:
        os.environ["OMP_NUM_THREADS"] = str(threads)


def verbose() -> bool:
    """True when the user asked for the libraries' own output (``QDISTILL_VERBOSE=1``)."""
    return os.environ.get(VERBOSE_ENV, "").strip().lower() in ("1", "true", "yes", "on")


@contextlib.contextmanager
def _quiet_native_stderr() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null for the block (no-op when verbose)."""
    if verbose():
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(devnull)
        os.close(saved)


def import_tensorflow(threads: int | None = None) -> ModuleType:
    """Import TensorFlow with tf-keras selected; ``threads`` pins intra/inter-op parallelism."""
    configure_environment(threads)
    first_import = "tensorflow" not in sys.modules
    with _quiet_native_stderr() if first_import else contextlib.nullcontext():
        import tensorflow as tf

        if first_import:
            tf.config.list_physical_devices()  # probes CUDA now, inside the quiet window

    if threads is not None:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:
            pass  # already initialised: the first caller's setting stays in force
    return tf


def import_keras() -> ModuleType:
    """Return the Keras 2 module (``tf_keras``) that QKeras and TF-MOT build on."""
    import_tensorflow()
    import tf_keras

    return tf_keras


def load_qkeras_model(path: str | os.PathLike[str]) -> Any:
    """Load a QKeras ``model.h5`` (uncompiled) without tf-keras' unseeded-initializer warning.

    Loading rebuilds every layer, and QKeras' ``QInitializer`` draws its initializer several
    times while doing so; an unseeded ``HeNormal`` (QDense's default) then warns. The drawn
    values are overwritten by the stored weights at once, so a fixed seed changes nothing.
    """
    keras = import_keras()
    from qkeras.utils import load_qmodel

    class LoadTimeHeNormal(keras.initializers.HeNormal):  # type: ignore[misc, name-defined]
        def __init__(self, seed: int | None = None) -> None:
            super().__init__(seed=0 if seed is None else seed)

    return load_qmodel(str(path), custom_objects={"HeNormal": LoadTimeHeNormal}, compile=False)


class LazyModule:
    """A module imported on first attribute access (``tf.float32`` imports TensorFlow then).

    ``loader`` defaults to importing ``name`` after :func:`import_tensorflow`.
    """

    def __init__(self, name: str, loader: Callable[[], ModuleType] | None = None) -> None:
        self._name = name
        self._loader = loader
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        if self._module is None:
            if self._loader is None:
                import_tensorflow()
                self._module = importlib.import_module(self._name)
            else:
                self._module = self._loader()
        return getattr(self._module, attr)

    def __repr__(self) -> str:
        state = "loaded" if self._module is not None else "not yet imported"
        return f"<lazy module {self._name} ({state})>"


#: TensorFlow, tf-keras, QKeras and TF-MOT, each imported (Keras 2 selected) when first used.
tf: Any = LazyModule("tensorflow", import_tensorflow)
keras: Any = LazyModule("tf_keras", import_keras)
qkeras: Any = LazyModule("qkeras")
tfmot: Any = LazyModule("tensorflow_model_optimization")
