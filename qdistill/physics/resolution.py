"""Response, resolution, bootstrap uncertainties and the improvement over a reference weighting.

Response of an observable X (missing pT, jet pT): (X − X_gen)/X_gen. Resolution: half the
interquartile range of the responses, (q75 − q25)/2 (the paper's definition, robust to tails).
Uncertainties come from a bootstrap over *events*: every resample draws events with replacement
and takes all responses of the drawn events, so the several jets of one event move together, and
the same draws are used for every weighting so that differences between weightings are paired.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from qdistill.errors import QdistillError

N_BOOTSTRAP: Final[int] = 200
#: Seed of the bootstrap resampling unless one is given.
DEFAULT_BOOTSTRAP_SEED: Final[int] = 0


def response(x: npt.ArrayLike, x_gen: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """(X − X_gen)/X_gen elementwise; raises QdistillError if any X_gen ≤ 0."""
    xr = np.asarray(x, dtype=np.float64)
    xg = np.asarray(x_gen, dtype=np.float64)
    if xr.shape != xg.shape:
        raise QdistillError(f"X has shape {xr.shape} but X_gen has {xg.shape}")
    if (xg <= 0).any():
        raise QdistillError("the response (X − X_gen)/X_gen needs X_gen > 0")
    return (xr - xg) / xg


def resolution(responses: npt.ArrayLike) -> float:
    """Half the interquartile range (q75 − q25)/2 of the responses (n,); NaN when n = 0."""
    r = np.asarray(responses, dtype=np.float64)
    if r.size == 0:
        return float("nan")
    q25, q75 = np.percentile(r, [25.0, 75.0])
    return float((q75 - q25) / 2)


def improvement(value: float, reference: float) -> float:
    """Relative improvement of a resolution over a reference: (ref − value)/ref (0.1: 10 %)."""
    return (reference - value) / reference


def _spread(values: npt.NDArray[np.float64]) -> float:
    """Standard deviation (ddof 1) of the finite values; NaN with fewer than two."""
    finite = values[np.isfinite(values)]
    return float(np.std(finite, ddof=1)) if len(finite) > 1 else float("nan")


@dataclass(frozen=True)
class Responses:
    """The responses of one weighting with the event each came from: ``values``, ``event`` (k,)."""

    values: npt.NDArray[np.float64]
    event: npt.NDArray[np.int64]

    @classmethod
    def from_lists(cls, values: list[float], event: list[int]) -> Responses:
        return cls(np.asarray(values, dtype=np.float64), np.asarray(event, dtype=np.int64))


@dataclass(frozen=True)
class ResolutionResult:
    """Resolutions per weighting with bootstrap uncertainties, and improvements over a reference."""

    resolution: dict[str, float]
    uncertainty: dict[str, float]
    improvement: dict[str, float]
    improvement_uncertainty: dict[str, float]
    median: dict[str, float]
    count: dict[str, int]


def bootstrap_resolutions(
    responses: Mapping[str, Responses],
    n_events: int,
    *,
    reference: str | None = "puppi",
    n_resamples: int = N_BOOTSTRAP,
    seed: int = 0,
) -> ResolutionResult:
    """Resolution of each weighting, its bootstrap standard deviation, and the improvement over
    ``reference`` (when present) with its paired bootstrap standard deviation.

    ``responses`` maps a weighting name to its responses and their event indices in
    ``[0, n_events)``. Each of the ``n_resamples`` resamples draws ``n_events`` events with
    replacement (a NumPy generator seeded with ``seed``) and repeats every response as many times
    as its event was drawn.
    """
    if n_events <= 0:
        raise QdistillError("no events to compute resolutions from")
    for name, r in responses.items():
        if r.values.shape != r.event.shape:
            raise QdistillError(f"{name}: responses and event indices differ in length")
        if r.event.size and (r.event.min() < 0 or r.event.max() >= n_events):
            raise QdistillError(f"{name}: event index outside [0, {n_events})")
    rng = np.random.default_rng(seed)
    names = list(responses)
    boot = {name: np.empty(n_resamples) for name in names}
    for b in range(n_resamples):
        counts = np.bincount(rng.integers(0, n_events, n_events), minlength=n_events)
        for name in names:
            r = responses[name]
            boot[name][b] = resolution(np.repeat(r.values, counts[r.event]))
    res = {name: resolution(r.values) for name, r in responses.items()}
    unc = {name: _spread(boot[name]) for name in names}
    imp: dict[str, float] = {}
    imp_unc: dict[str, float] = {}
    if reference is not None and reference in responses and res[reference] > 0:
        for name in names:
            imp[name] = improvement(res[name], res[reference])
            with np.errstate(divide="ignore", invalid="ignore"):  # a resample may have σ = 0
                b_imp = (boot[reference] - boot[name]) / boot[reference]
            imp_unc[name] = _spread(b_imp)
    return ResolutionResult(
        resolution=res,
        uncertainty=unc,
        improvement=imp,
        improvement_uncertainty=imp_unc,
        median={
            n: float(np.median(r.values)) if r.values.size else float("nan")
            for n, r in responses.items()
        },
        count={n: int(r.values.size) for n, r in responses.items()},
    )
