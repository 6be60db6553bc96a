"""The one place that selects Keras 2 (tf-keras) for TensorFlow, QKeras and TF-MOT.

QKeras 0.9.0 and TensorFlow Model Optimization need Keras 2. TensorFlow 2.16+ ships Keras 3 as
``tf.keras`` unless ``TF_USE_LEGACY_KERAS=1`` is set *before TensorFlow is first imported*, so
every module that needs TensorFlow imports it through :func:`import_tensorflow`.
"""

from __future__ import annotations

import os
import warnings
from types import ModuleType

# Benign warnings that tf-keras prints on every QKeras save: QKeras quantizers serialised as
# constraints, and the HDF5 format, which we choose because hls4ml's Keras 2 converter reads it.
_QUIET_WARNINGS = (
    r"The `keras\.constraints\.serialize\(\)` API should only be used",
    r"You are saving your model as an HDF5 file",
)


def configure_environment(threads: int | None = None) -> None:
    """Select legacy Keras and quiet TensorFlow's C++ logging; optionally fix the thread count."""
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    for message in _QUIET_WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=UserWarning)
    if threads is not None:
        os.environ["OMP_NUM_THREADS"] = str(threads)


def import_tensorflow(threads: int | None = None) -> ModuleType:
    """Import TensorFlow with tf-keras selected; ``threads`` pins intra/inter-op parallelism."""
    configure_environment(threads)
    import tensorflow as tf

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
