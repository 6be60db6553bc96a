"""What the latency benchmark times: one inference call per model, from features to weights.

Every timed call takes raw float32 features of shape (N, 16) and returns the N weights as a NumPy
array, so the model's own preprocessing and the copies in and out of the framework are part of
the latency, as they are for a user of the model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from qdistill.errors import QdistillError
from qdistill.features import N_FEATURES
from qdistill.keras_backend import import_tensorflow

Features = npt.NDArray[np.float32]
#: Given a batch, return the zero-argument call that runs one inference on it.
CallFactory = Callable[[Features], Callable[[], Any]]


@dataclass(frozen=True)
class Benchmarked:
    """One model under test.

    ``name`` is its key in bench.json (``teacher``, ``distillnet``, ``qdistillnet``,
    ``qdistillnet_csim``); ``method`` says in words what one timed call does. ``per_event``: a
    batch is one event (the teacher builds a graph of the event's particles), not a set of
    independent particles; ``max_batch`` (particles) caps the batch sizes it is timed at.
    """

    name: str
    label: str
    method: str
    source: str
    make_call: CallFactory
    per_event: bool = False
    max_batch: int | None = None
    #: The model's own prediction function (features → weights), to check that the timed call
    #: computes the same weights; None when the timed call is that function.
    reference: Callable[[Features], Any] | None = None
    #: Checks made while loading (e.g. agreement with golden outputs), recorded in bench.json.
    checks: dict[str, Any] = field(default_factory=dict)


#: How the Keras students are called, and what one timed call does in each case.
KERAS_CALLS: Final[dict[str, str]] = {
    "function": (
        "preprocess (NumPy) + tf.function(model(x, training=False)) with input signature "
        "[None, 16] float32 (one graph for every batch size, traced in warm-up) + .numpy()"
    ),
    "predict_on_batch": "preprocess (NumPy) + model.predict_on_batch(x) (tf-keras)",
}
DEFAULT_KERAS_CALL: Final[str] = "function"


def keras_call_factory(
    model: Any, preprocess: Callable[[Features], Features], how: str = DEFAULT_KERAS_CALL
) -> CallFactory:
    """Call factory for a Keras (tf-keras or QKeras) per-particle model; ``how`` in KERAS_CALLS.

    ``function`` (the default) runs the model inside one ``tf.function`` whose input signature
    leaves the batch size open, so every batch size reuses one graph: the per-batch latency of
    a deployed model. ``predict_on_batch`` adds tf-keras' per-call data-adapter set-up, which
    dominates small batches (compared in docs/bench.md).
    """
    if how not in KERAS_CALLS:
        raise QdistillError(f"--keras-call {how!r}: choose one of {list(KERAS_CALLS)}")
    tf = import_tensorflow(threads=1)
    if how == "predict_on_batch":

        def pob_factory(features: Features) -> Callable[[], Any]:
            return lambda: np.asarray(model.predict_on_batch(preprocess(features))).reshape(-1)

        return pob_factory

    infer = tf.function(
        lambda x: model(x, training=False),
        input_signature=[tf.TensorSpec([None, N_FEATURES], tf.float32)],
    )

    def factory(features: Features) -> Callable[[], Any]:
        def call() -> Any:
            x = tf.convert_to_tensor(preprocess(features))
            return np.asarray(infer(x)).reshape(-1)

        return call

    return factory
