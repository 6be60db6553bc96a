"""Held-out performance of a teacher against truth, side by side with PUPPI (metrics.json)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from qdistill.features import CHARGE, PUPPI_WEIGHT
from qdistill.features import pt_gev as candidate_pt_gev
from qdistill.metrics import roc_auc

#: A candidate counts as from the primary collision when its truth fraction exceeds this.
TRUTH_THRESHOLD: Final[float] = 0.5


def weight_metrics(
    truth_fraction: npt.ArrayLike,
    weight: npt.ArrayLike,
    charge: npt.ArrayLike,
    pt_gev: npt.ArrayLike,
) -> dict[str, float | None]:
    """ROC AUC (label: truth fraction > 0.5) and mean absolute error to the truth fraction.

    For neutral candidates (charge 0), charged candidates and all of them; shapes (n,) each.
    Also ``auc_neutral_pt_weighted``: each neutral counts with its ``pt_gev`` (how well the
    neutral momentum, which missing pT and jets see, is classified).
    A figure that is undefined (no candidates, or only one class for the AUC) is None, so that
    metrics.json stays strict JSON.
    """
    y = np.asarray(truth_fraction, dtype=np.float64)
    w = np.asarray(weight, dtype=np.float64)
    neutral = np.asarray(charge) == 0
    out: dict[str, float | None] = {}
    for name, sel in (("neutral", neutral), ("charged", ~neutral), ("all", slice(None))):
        ys, ws = y[sel], w[sel]
        auc = roc_auc(ys, ws, TRUTH_THRESHOLD) if len(ys) else float("nan")
        out[f"auc_{name}"] = auc if np.isfinite(auc) else None
        out[f"mae_{name}"] = float(np.mean(np.abs(ws - ys))) if len(ys) else None
    pt = np.asarray(pt_gev, dtype=np.float64)[neutral]
    auc = roc_auc(y[neutral], w[neutral], TRUTH_THRESHOLD, sample_weight=pt)
    out["auc_neutral_pt_weighted"] = auc if np.isfinite(auc) else None
    return out


def evaluate(
    predict_event: Callable[[npt.NDArray[np.float32]], npt.NDArray[np.float32]],
    features: Sequence[npt.NDArray[np.float32]],
    truth: Sequence[npt.NDArray[np.float32]],
    n_pileup: Sequence[int],
    n_timed: int = 20,
) -> dict[str, Any]:
    """Teacher and PUPPI metrics on held-out events, and the teacher's time per event.

    ``predict_event`` maps one event's (n, 16) features to (n,) weights. The time per event is
    the wall-clock mean over the first ``n_timed`` events (after one warm-up call), graph
    building included, in whatever thread setting the process runs (the CLI uses one thread).
    """
    predict_event(features[0])  # warm-up: traces the TensorFlow function
    preds = []
    times = []
    for i, f in enumerate(features):
        t0 = time.perf_counter()
        preds.append(predict_event(f))
        if i < n_timed:
            times.append(time.perf_counter() - t0)
    x = np.concatenate(features)
    y = np.concatenate(truth)
    w = np.concatenate(preds)
    charge = x[:, CHARGE]
    pt = candidate_pt_gev(x)
    sizes = np.array([len(f) for f in features])
    timed = slice(0, len(times))
    return {
        "truth_threshold": TRUTH_THRESHOLD,
        "n_events": len(features),
        "n_candidates": len(y),
        "n_neutral": int((charge == 0).sum()),
        "mean_pileup": float(np.mean(n_pileup)),
        "teacher": weight_metrics(y, w, charge, pt),
        "puppi": weight_metrics(y, x[:, PUPPI_WEIGHT], charge, pt),
        "inference": {
            "seconds_per_event": float(np.mean(times)),
            "n_events_timed": len(times),
            "mean_candidates_per_event": float(sizes[timed].mean()),
            "mean_pileup": float(np.mean(np.asarray(n_pileup)[timed])),
            "includes": "kNN graph (scipy) + network forward pass",
        },
    }
