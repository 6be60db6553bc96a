"""What defines a student's training, as plain dataclasses (no TensorFlow): the network
(:class:`ModelSpec`), the loss of eq. 1 (:class:`LossSettings`) and the run (:class:`TrainConfig`).

The command line takes its defaults from here, and ``student.json`` stores them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from qdistill.errors import QdistillError
from qdistill.student.preprocessing import INPUT_BITS, check_input_bits

TERMS: Final[tuple[str, ...]] = ("mae", "mse", "bce", "kl")
HIGH_TARGET_THRESHOLD: Final[float] = 0.95
#: ``--high-target-weight auto``: the reference code's automatic weight (computed, then unused).
AUTO: Final[str] = "auto"
#: The weight the reference code trains with: ``weightedlossval`` = 3 (distillnet_config.py), the
#: ``wgt`` that train_distillnet.py passes to its WeightedMAE; calc_datasetweights' value is
#: computed in distillnet_setup.py and discarded.
REFERENCE_HIGH_TARGET_WEIGHT: Final[float] = 3.0
KINDS: Final[tuple[str, ...]] = ("distillnet", "qdistillnet")
DEFAULT_HIDDEN: Final[dict[str, tuple[int, ...]]] = {
    "distillnet": (128, 64),
    "qdistillnet": (64, 32),
}
DEFAULT_BITS: Final[int] = 8
#: Widths a QDistillNet weight or activation may have (the scan and `train` share the range).
MIN_BITS: Final[int] = 2
MAX_BITS: Final[int] = 16
DEFAULT_SPARSITY: Final[float] = 0.75
DEFAULT_RELU_INTEGER_BITS: Final[int] = 2
DEFAULT_LEARNING_RATE: Final[float] = 3e-3
DEFAULT_BATCH_SIZE: Final[int] = 4096
DEFAULT_HOLDOUT_FRACTION: Final[float] = 0.1


@dataclass(frozen=True)
class ModelSpec:
    """What to build: kind, hidden sizes and, for QDistillNet, bit width and target sparsity."""

    kind: str
    hidden: tuple[int, ...]
    bits: int = DEFAULT_BITS
    sparsity: float = DEFAULT_SPARSITY
    relu_integer_bits: int = DEFAULT_RELU_INTEGER_BITS
    batchnorm: bool = True
    #: kernel and bias width; None: ``bits``
    weight_bits: int | None = None
    #: width of the ReLU outputs; None: ``bits``
    activation_bits: int | None = None
    #: width of the FPGA input type ap_fixed<input_bits, 5> (QDistillNet's input quantizer)
    input_bits: int = INPUT_BITS

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise QdistillError(f"unknown model {self.kind!r}; choose one of {list(KINDS)}")
        if not self.hidden or any(h < 1 for h in self.hidden):
            raise QdistillError(f"hidden sizes {list(self.hidden)} must be positive integers")
        for flag, value in (
            ("--weight-bits", self.weight_bits),
            ("--activation-bits", self.activation_bits),
            ("--bits", self.bits),
        ):
            if value is not None and not MIN_BITS <= value <= MAX_BITS:
                raise QdistillError(f"{flag} {value} must be between {MIN_BITS} and {MAX_BITS}")
        check_input_bits(self.input_bits)
        if not 0.0 <= self.sparsity < 1.0:
            raise QdistillError(f"--sparsity {self.sparsity} must be in [0, 1)")
        if not 0 <= self.relu_integer_bits < self.activation_width:
            raise QdistillError(
                f"relu integer bits {self.relu_integer_bits} must be in "
                f"[0, activation bits={self.activation_width})"
            )

    @property
    def weight_width(self) -> int:
        """Bits of every kernel and bias (``weight_bits``, else ``bits``)."""
        return self.bits if self.weight_bits is None else self.weight_bits

    @property
    def activation_width(self) -> int:
        """Bits of every hidden ReLU output (``activation_bits``, else ``bits``)."""
        return self.bits if self.activation_bits is None else self.activation_bits

    @property
    def quantized(self) -> bool:
        return self.kind == "qdistillnet"


def parse_hidden(text: str) -> tuple[int, ...]:
    """Parse ``--hidden 64,32`` into (64, 32)."""
    try:
        sizes = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise QdistillError(f"--hidden {text!r}: give comma-separated sizes, e.g. 64,32") from None
    if not sizes or any(s < 1 for s in sizes):
        raise QdistillError(f"--hidden {text!r}: give comma-separated positive sizes, e.g. 64,32")
    return sizes


@dataclass(frozen=True)
class LossSettings:
    """Settings of eq. 1; stored in ``student.json``."""

    teacher_term: str = "mae"  # T
    truth_term: str = "mae"  # S
    gamma: float = 1.0  # weight of T(teacher, student)
    beta: float = 0.0  # weight of S(truth, student)
    temperature: float = 1.0  # τ of the kl term
    high_target_weight: float = REFERENCE_HIGH_TARGET_WEIGHT  # targets ≥ 0.95 (1 = unweighted)

    def __post_init__(self) -> None:
        for name in (self.teacher_term, self.truth_term):
            if name not in TERMS:
                raise QdistillError(f"unknown loss term {name!r}; choose one of {list(TERMS)}")
        if self.gamma < 0 or self.beta < 0 or self.gamma + self.beta == 0:
            raise QdistillError(
                f"loss weights gamma={self.gamma}, beta={self.beta}: both must be ≥ 0 and "
                "one of them > 0"
            )
        if self.temperature <= 0:
            raise QdistillError(f"temperature {self.temperature} must be > 0")
        if self.high_target_weight <= 0:
            raise QdistillError(f"high-target weight {self.high_target_weight} must be > 0")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TrainConfig:
    """Everything ``qdistill train`` needs; ``auto_high_target_weight`` replaces the loss's
    automatic value (see :func:`reference_high_target_weight`)."""

    spec: ModelSpec
    data: Path
    output: Path
    epochs: int = 10
    batch_size: int = DEFAULT_BATCH_SIZE
    seed: int = 0
    learning_rate: float = DEFAULT_LEARNING_RATE
    validation_data: Path | None = None
    holdout_fraction: float | None = None  # None: 0 with validation_data, else 0.1
    max_particles: int | None = None
    finetune_epochs: int = 1
    loss: LossSettings = field(default_factory=LossSettings)
    auto_high_target_weight: bool = False
    progress: bool = True


def reference_high_target_weight(labels: npt.ArrayLike) -> float:
    """The reference code's automatic weight (``calc_datasetweights``): the number of targets in
    [0, 0.05] or [0.95, 1] divided by the number in [0.95, 1]. ``labels``: (n,) numpy array."""
    y = np.asarray(labels)
    n_low = int(np.sum((y >= 0) & (y <= 1.0 - HIGH_TARGET_THRESHOLD)))
    n_high = int(np.sum((y >= HIGH_TARGET_THRESHOLD) & (y <= 1)))
    if n_high == 0:
        raise QdistillError(
            "no soft label ≥ 0.95: cannot compute the automatic high-target weight; "
            "give --high-target-weight 1 (unweighted) or a number"
        )
    return (n_low + n_high) / n_high


def parse_high_target_weight(text: str) -> float | None:
    """``--high-target-weight``: a positive number, or ``auto`` (returned as None)."""
    if text.strip().lower() == AUTO:
        return None
    try:
        weight = float(text)
    except ValueError:
        raise QdistillError(f"--high-target-weight {text!r}: give a number or 'auto'") from None
    if not weight > 0:
        raise QdistillError(f"--high-target-weight {text!r} must be > 0 (or 'auto')")
    return weight
