"""The workarounds qdistill needs around hls4ml 1.3.0, in one place.

**Keras 2 models.** hls4ml 1.3.0 asks ``import keras; keras.__version__ >= '3.0'`` in
``convert_from_keras_model``, ``config_from_keras_model`` and its writer (``write_yml``
registers a YAML representer for ``keras.models.Model``), and picks its Keras 3 parser when the
answer is yes. With TensorFlow 2.21 the installed ``keras`` is Keras 3, while a QKeras model is a
Keras 2 (``tf_keras``) model, so the Keras 3 path fails on it. Every check is a function-local
``import keras``; none happens when hls4ml is imported. So, only while hls4ml works,
:func:`hls4ml_session` makes the name ``keras`` resolve to ``tf_keras`` (in ``sys.modules``) and
restores the previous binding afterwards. hls4ml's own Keras 2 converter (``keras_v2_to_hls``)
then handles the QKeras layers as it always has.

hls4ml also prints its progress ("Interpreting Model", "Writing HLS project", …) on standard
output; inside the session that is dropped (``QDISTILL_VERBOSE=1``: sent to standard error), so
commands print only qdistill's own lines and ``--json`` output stays clean.

**Tracing without recompiling.** ``ModelGraph.trace`` recompiles the project on every call;
:func:`trace_compiled` traces with the library already compiled (with trace hooks).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

from qdistill.keras_backend import import_tensorflow, verbose


@contextlib.contextmanager
def hls4ml_session() -> Iterator[ModuleType]:
    """Yield the ``hls4ml`` module with ``keras`` bound to ``tf_keras`` and its prints quiet.

    Use for every hls4ml call (config, conversion, write, compile, predict, trace):

    >>> with hls4ml_session() as hls4ml:
    ...     config = hls4ml.utils.config_from_keras_model(model, granularity="name")
    """
    import_tensorflow()
    import tf_keras

    missing = object()
    previous = sys.modules.get("keras", missing)
    sys.modules["keras"] = tf_keras
    try:
        with contextlib.ExitStack() as stack:
            sink = sys.stderr if verbose() else stack.enter_context(open(os.devnull, "w"))
            stack.enter_context(contextlib.redirect_stdout(sink))
            import hls4ml

            yield hls4ml
    finally:
        if previous is missing:
            del sys.modules["keras"]
        else:
            sys.modules["keras"] = previous  # type: ignore[assignment]


def trace_compiled(hls_model: Any, x: Any) -> tuple[Any, dict[str, Any]]:
    """``hls_model.trace(x)`` without the recompilation ``ModelGraph.trace`` always starts.

    hls4ml 1.3.0's ``trace`` sets ``config.trace_output`` and calls ``compile()`` every time
    (another ~5 s of g++). ``hls_model`` must already be compiled with ``config.trace_output``
    set (as :meth:`qdistill.firmware.project.FirmwareProject.build_hls_model` does with
    ``trace=True``); its library then already has the trace hooks. Call inside
    :func:`hls4ml_session`. Returns (outputs, {layer name: outputs}).
    """
    if not hls_model.config.trace_output or hls_model._top_function_lib is None:
        raise RuntimeError("compile the model with config.trace_output = True first")
    hls_model.compile = lambda: None  # an instance attribute shadows the method for this call
    try:
        return hls_model.trace(x)  # type: ignore[no-any-return]
    finally:
        del hls_model.compile
