"""The generic distillation loss of the paper's eq. 1, as a Keras 2 (tf-keras) loss.

This module defines a Keras class, so importing it imports TensorFlow (through
:mod:`qdistill.keras_backend`); its settings live in :mod:`qdistill.student.config`.

    L = α·S(ŷ, y) + β·S(ŷ, y′) + γ·T(y, y′)

with ŷ the truth, y the teacher's soft label and y′ the student's output. α·S(ŷ, y) does not
depend on the student, so only β and γ are exposed. The paper (eq. 2) uses β = 0, γ = 1 and
T = mean absolute error. S and T are each one of :data:`TERMS`:

* ``mae``: |t − p|
* ``mse``: (t − p)²
* ``bce``: −t·log p − (1 − t)·log(1 − p)
* ``kl``:  τ²·KL(Bernoulli(t_τ) ‖ Bernoulli(p_τ)), where x_τ = σ(logit(x) / τ) softens a
  probability with the temperature τ (Hinton et al.; τ = 1 is the plain binary KL divergence).

Optionally, as in the reference DistillNet code (``WeightedMAE``), every particle whose target is
in [0.95, 1] gets the weight ``high_target_weight`` (per term, on that term's target); the loss is
the batch mean of weight × elementwise term.

The Keras ``y_true`` has shape (batch, 2): column 0 the teacher's soft label, column 1 the truth;
``y_pred`` has shape (batch, 1) or (batch,), a probability in [0, 1].
"""

from __future__ import annotations

from typing import Any, Final

from qdistill.errors import QdistillError
from qdistill.keras_backend import keras, tf
from qdistill.student.config import HIGH_TARGET_THRESHOLD, TERMS, LossSettings

_EPS: Final[float] = 1e-7


def elementwise(term: str, target: Any, pred: Any, temperature: float = 1.0) -> Any:
    """One loss term per particle; ``target`` and ``pred`` are float tensors of shape (n,)."""
    if term == "mae":
        return tf.abs(target - pred)
    if term == "mse":
        return tf.square(target - pred)
    p = tf.clip_by_value(pred, _EPS, 1.0 - _EPS)
    if term == "bce":
        t = target
        return -(t * tf.math.log(p) + (1.0 - t) * tf.math.log(1.0 - p))
    if term == "kl":
        t = tf.clip_by_value(target, _EPS, 1.0 - _EPS)
        t_soft = tf.sigmoid(_logit(t) / temperature)
        p_soft = tf.sigmoid(_logit(p) / temperature)
        t_soft = tf.clip_by_value(t_soft, _EPS, 1.0 - _EPS)
        p_soft = tf.clip_by_value(p_soft, _EPS, 1.0 - _EPS)
        kl = t_soft * tf.math.log(t_soft / p_soft) + (1.0 - t_soft) * tf.math.log(
            (1.0 - t_soft) / (1.0 - p_soft)
        )
        return temperature**2 * kl
    raise QdistillError(f"unknown loss term {term!r}; choose one of {list(TERMS)}")


def _logit(p: Any) -> Any:
    return tf.math.log(p) - tf.math.log(1.0 - p)


def _weights(target: Any, high_target_weight: float) -> Any:
    if high_target_weight == 1.0:
        return tf.ones_like(target)
    high = tf.logical_and(target >= HIGH_TARGET_THRESHOLD, target <= 1.0)
    return tf.where(high, high_target_weight, 1.0)


@keras.utils.register_keras_serializable(package="qdistill")
class DistillationLoss(keras.losses.Loss):
    """β·S(truth, student) + γ·T(teacher, student), batch mean; see the module docstring."""

    def __init__(self, settings: LossSettings | None = None, name: str = "distillation", **kw: Any):
        super().__init__(name=name, **kw)
        self.settings = settings or LossSettings()

    def call(self, y_true: Any, y_pred: Any) -> Any:
        s = self.settings
        y_true = tf.cast(y_true, tf.float32)
        pred = tf.reshape(tf.cast(y_pred, tf.float32), [-1])
        teacher, truth = y_true[:, 0], y_true[:, 1]
        total = tf.zeros_like(pred)
        if s.gamma:
            term = elementwise(s.teacher_term, teacher, pred, s.temperature)
            total += s.gamma * _weights(teacher, s.high_target_weight) * term
        if s.beta:
            term = elementwise(s.truth_term, truth, pred, s.temperature)
            total += s.beta * _weights(truth, s.high_target_weight) * term
        return total  # Keras averages over the batch (reduction SUM_OVER_BATCH_SIZE)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "settings": self.settings.to_json()}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> DistillationLoss:
        settings = LossSettings(**config.pop("settings"))
        return cls(settings=settings, **config)
