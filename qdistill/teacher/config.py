"""The teacher's hyperparameters as a plain dataclass (no TensorFlow), stored in teacher.json.

The command line takes its defaults from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from qdistill.errors import SettingError

#: Neighbours per candidate in the paper's teacher.
DEFAULT_K: Final[int] = 20
#: Fraction of the training events held out for metrics without a validation file.
DEFAULT_VALIDATION_FRACTION: Final[float] = 0.2


@dataclass(frozen=True)
class TeacherHyperparameters:
    """Everything that defines a training run besides the data (stored in teacher.json)."""

    k: int = DEFAULT_K
    hidden: int = 64
    n_blocks: int = 2
    edge_layers: int = 2
    epochs: int = 10
    learning_rate: float = 2e-3
    events_per_step: int = 1
    neutral_weight: float = 1.0
    mae_weight: float = 1.0
    pt_weight_power: float = 1.0
    edge_standardisation: bool = True
    seed: int = 0

    def check(self) -> None:
        """SettingError naming the first out-of-range field."""
        for name, low in (
            ("k", 1),
            ("hidden", 2),
            ("n_blocks", 2),
            ("edge_layers", 1),
            ("epochs", 1),
            ("events_per_step", 1),
        ):
            if getattr(self, name) < low:
                raise SettingError(name, f"must be at least {low} (got {getattr(self, name):g})")
        for name in ("learning_rate", "neutral_weight"):
            if not getattr(self, name) > 0:
                raise SettingError(name, f"must be positive (got {getattr(self, name):g})")
        if not self.mae_weight >= 0:
            raise SettingError("mae_weight", f"must be zero or positive (got {self.mae_weight:g})")
        if not 0 <= self.pt_weight_power <= 2:
            raise SettingError(
                "pt_weight_power", f"must be between 0 and 2 (got {self.pt_weight_power:g})"
            )
