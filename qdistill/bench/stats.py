"""Summary statistics of repeated latency measurements: median and spread."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class TimingStats:
    """Summary of repeated timings of one call, all in seconds.

    ``p16``/``p84`` bound the central 68 % of the repeats (the ±1σ band of a Gaussian) and
    ``q25``/``q75`` the interquartile range; percentiles interpolate linearly between repeats.
    """

    median_s: float
    p16_s: float
    p84_s: float
    q25_s: float
    q75_s: float
    min_s: float
    max_s: float
    repeats: int

    def spread(self) -> dict[str, float]:
        """The spread fields as a JSON-ready dict (seconds)."""
        fields = asdict(self)
        return {k: fields[k] for k in ("p16_s", "p84_s", "q25_s", "q75_s", "min_s", "max_s")}


def summarise(seconds: Sequence[float]) -> TimingStats:
    """Median and spread of ``seconds`` (one wall-clock time per repeat, each ≥ 0 and finite).

    Raises ValueError for an empty sequence or a negative or non-finite timing.
    """
    values = np.asarray(seconds, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise ValueError("need at least one timing")
    if not np.isfinite(values).all() or (values < 0).any():
        bad = next(v for v in values.tolist() if not math.isfinite(v) or v < 0)
        raise ValueError(f"timings must be finite and non-negative, got {bad}")
    p16, q25, median, q75, p84 = np.percentile(values, [16, 25, 50, 75, 84])
    return TimingStats(
        median_s=float(median),
        p16_s=float(p16),
        p84_s=float(p84),
        q25_s=float(q25),
        q75_s=float(q75),
        min_s=float(values.min()),
        max_s=float(values.max()),
        repeats=int(values.size),
    )
