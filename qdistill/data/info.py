"""``qdistill data info``: a summary of an event file, read in bounded memory."""

from __future__ import annotations

import itertools
import os
from typing import Any, Final

import numpy as np

from qdistill import features
from qdistill.data.layout import EventFile
from qdistill.errors import QdistillError
from qdistill.metrics import roc_auc

_BLOCK_ROWS: Final[int] = 1 << 20
#: Neutral-candidate pT bins (GeV) for the PUPPI AUC breakdown.
PT_BINS_GEV: Final[tuple[float, ...]] = (0.0, 1.0, 2.0, 5.0, float("inf"))

#: The figures of :func:`data_info` that ``qdistill data info`` shows as a table, in order.
SUMMARY_KEYS: Final[tuple[str, ...]] = (
    "events",
    "particles",
    "mean_particles_per_event",
    "max_particles_per_event",
    "truth_available",
    "pv_fraction",
    "puppi_auc_neutral",
    "puppi_auc_neutral_pt_weighted",
    "has_soft_labels",
    "source_layout",
    "missing",
)


def data_info(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Summary of the event file ``path`` as a JSON-ready dict.

    Keys: ``events``, ``particles``, ``features`` (the 16 names), ``mean_particles_per_event``,
    ``max_particles_per_event``, ``pv_fraction`` (energy-weighted share of candidate energy from
    the primary collision), ``puppi_auc_neutral`` (ROC AUC of the PUPPI weight for neutral
    candidates, label truth_fraction > 0.5), the same with each candidate weighted by its pT
    (``puppi_auc_neutral_pt_weighted``: how well the neutral momentum is classified) and its
    breakdown in neutral pT bins,
    ``truth_available``, ``has_soft_labels``, ``source_layout`` and ``missing`` (what an importer
    did not find in its source), ``attrs``. Truth-based figures are None when the file
    carries no truth. Raises QdistillError on NaN or infinite features.
    """
    with EventFile(path) as events:
        n = np.diff(events.offsets)
        has_truth = events.truth_available
        e_total = e_pv = 0.0
        neutral_w: list[np.ndarray] = []
        neutral_t: list[np.ndarray] = []
        neutral_pt: list[np.ndarray] = []
        for start in range(0, events.n_particles, _BLOCK_ROWS):
            stop = min(start + _BLOCK_ROWS, events.n_particles)
            feats = events.particles("features", start, stop)
            if not np.isfinite(feats).all():
                row = start + int(np.flatnonzero(~np.isfinite(feats).all(axis=1))[0])
                raise QdistillError(
                    f"{events.path}: NaN or infinite features (first at candidate {row}); "
                    "regenerate or re-import the file"
                )
            if not has_truth:
                continue
            truth = events.particles("truth_fraction", start, stop)
            energy = events.particles("p4", start, stop)[:, 3].astype(np.float64)
            e_total += float(energy.sum())
            e_pv += float((energy * truth).sum())
            neutral = feats[:, features.CHARGE] == 0
            neutral_w.append(feats[neutral, features.PUPPI_WEIGHT])
            neutral_t.append(truth[neutral])
            neutral_pt.append(features.pt_gev(feats[neutral]))
        auc = auc_pt_weighted = auc_by_pt = None
        if has_truth and neutral_w:
            w, t, pt = (np.concatenate(a) for a in (neutral_w, neutral_t, neutral_pt))
            auc = _finite_or_none(roc_auc(t, w))
            auc_pt_weighted = _finite_or_none(roc_auc(t, w, sample_weight=pt))
            auc_by_pt = {
                f"{lo:g}-{hi:g}": _finite_or_none(roc_auc(t[m], w[m]))
                for lo, hi in itertools.pairwise(PT_BINS_GEV)
                if (m := (pt >= lo) & (pt < hi)).any()
            }
        attrs = {k: _plain(v) for k, v in events.attrs.items() if k != "feature_names"}
        return {
            "path": str(events.path),
            "events": events.n_events,
            "particles": events.n_particles,
            "features": list(features.FEATURE_NAMES),
            "mean_particles_per_event": float(n.mean()) if len(n) else 0.0,
            "max_particles_per_event": int(n.max()) if len(n) else 0,
            "truth_available": has_truth,
            "pv_fraction": (e_pv / e_total) if has_truth and e_total > 0 else None,
            "puppi_auc_neutral": auc,
            "puppi_auc_neutral_pt_weighted": auc_pt_weighted,
            "puppi_auc_neutral_by_pt_gev": auc_by_pt,
            "has_soft_labels": events.has_soft_labels,
            # what an importer could not find in its source (e.g. no vertices in a Delphes file)
            "source_layout": attrs.get("source_layout", "qdistill"),
            "missing": list(attrs.get("missing", [])),
            "attrs": attrs,
        }


def _finite_or_none(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, bytes):
        return value.decode()
    return value
