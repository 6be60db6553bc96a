"""The design space of a scan: QDistillNet widths, sparsity and hidden sizes, one point a network.

Every point is checked by building its :class:`~qdistill.student.config.ModelSpec` (the same
checks as ``qdistill train``), so a bad grid fails before any cluster or training starts.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass
from typing import Any

from qdistill.errors import QdistillError
from qdistill.student.config import ModelSpec, parse_hidden


@dataclass(frozen=True)
class ScanPoint:
    """One QDistillNet of the scan."""

    weight_bits: int
    activation_bits: int
    input_bits: int
    sparsity: float
    hidden: tuple[int, ...]

    @property
    def name(self) -> str:
        """A folder name that identifies the point, e.g. ``w6_a6_i10_s75_h64-32``."""
        return (
            f"w{self.weight_bits}_a{self.activation_bits}_i{self.input_bits}"
            f"_s{round(self.sparsity * 100):02d}_h{'-'.join(map(str, self.hidden))}"
        )

    def model_spec(self) -> ModelSpec:
        """The student to train (raises QdistillError naming the bad width or sparsity)."""
        return ModelSpec(
            "qdistillnet",
            self.hidden,
            bits=self.weight_bits,
            sparsity=self.sparsity,
            weight_bits=self.weight_bits,
            activation_bits=self.activation_bits,
            input_bits=self.input_bits,
        )

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "hidden": list(self.hidden), "name": self.name}


@dataclass(frozen=True)
class ScanGrid:
    """The Cartesian product of the listed values (the defaults: 12 points around the paper's
    QDistillNet, 8-bit weights and activations, 64/32, 75 % pruned)."""

    weight_bits: tuple[int, ...] = (4, 6, 8)
    activation_bits: tuple[int, ...] = (6, 8)
    input_bits: tuple[int, ...] = (10, 16)
    sparsity: tuple[float, ...] = (0.75,)
    hidden: tuple[tuple[int, ...], ...] = ((64, 32),)

    def points(self) -> list[ScanPoint]:
        """Every point, each checked; raises QdistillError for an empty or invalid grid."""
        for flag, values in (
            ("--weight-bits", self.weight_bits),
            ("--activation-bits", self.activation_bits),
            ("--input-bits", self.input_bits),
            ("--sparsity", self.sparsity),
            ("--hidden", self.hidden),
        ):
            if not values:
                raise QdistillError(f"{flag}: the grid needs at least one value")
        points = [
            ScanPoint(w, a, i, s, h)
            for w, a, i, s, h in itertools.product(
                self.weight_bits, self.activation_bits, self.input_bits, self.sparsity, self.hidden
            )
        ]
        for point in points:
            point.model_spec()
        names = [p.name for p in points]
        if len(set(names)) != len(names):
            raise QdistillError("the grid lists a value twice; give each value once")
        return points


def parse_ints(text: str, flag: str) -> tuple[int, ...]:
    """``"4,6,8"`` → (4, 6, 8); a clear error naming ``flag`` otherwise."""
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise QdistillError(f"{flag} {text!r}: give comma-separated integers, e.g. 4,6,8") from None


def parse_floats(text: str, flag: str) -> tuple[float, ...]:
    """``"0.5,0.75"`` → (0.5, 0.75); a clear error naming ``flag`` otherwise."""
    try:
        return tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise QdistillError(
            f"{flag} {text!r}: give comma-separated numbers, e.g. 0.5,0.75"
        ) from None


def parse_hidden_options(values: list[str]) -> tuple[tuple[int, ...], ...]:
    """Repeated ``--hidden 64,32 --hidden 32,16`` → ((64, 32), (32, 16))."""
    return tuple(parse_hidden(v) for v in values)


def format_values(values: tuple[float, ...] | tuple[int, ...]) -> str:
    """(4, 6, 8) → ``"4,6,8"``: how a grid axis is written on the command line."""
    return ",".join(map(str, values))
