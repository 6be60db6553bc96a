"""``qdistill data info``: a summary of an event file, read in bounded memory."""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
from typing import Any, Final

import numpy as np

from qdistill import features
from qdistill.data.layout import EventFile
from qdistill.data.puppi import PuppiParameters, neutral_pt_cut_gev
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
    "puppi_auc_neutral_above_cut",
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
    breakdown in neutral pT bins, and ``puppi_auc_neutral_above_cut``: the AUC over the neutrals
    whose pT is above PUPPI's neutral cut of their region and event (the only ones PUPPI can
    keep: :func:`qdistill.data.puppi.neutral_pt_cut_gev` with the file's PUPPI parameters),
    ``truth_available``, ``has_soft_labels``, ``source_layout`` and ``missing`` (what an importer
    did not find in its source), ``attrs``. Truth-based figures are None when the file
    carries no truth. Raises QdistillError on NaN or infinite features.
    """
    with EventFile(path) as events:
        n = np.diff(events.offsets)
        has_truth = events.truth_available
        pv_fraction, aucs = _truth_figures(events, has_truth)
        attrs = {k: _plain(v) for k, v in events.attrs.items() if k != "feature_names"}
        return {
            "path": str(events.path),
            "events": events.n_events,
            "particles": events.n_particles,
            "features": list(features.FEATURE_NAMES),
            "mean_particles_per_event": float(n.mean()) if len(n) else 0.0,
            "max_particles_per_event": int(n.max()) if len(n) else 0,
            "truth_available": has_truth,
            "pv_fraction": pv_fraction,
            **aucs,
            "has_soft_labels": events.has_soft_labels,
            # what an importer could not find in its source (e.g. no vertices in a Delphes file)
            "source_layout": attrs.get("source_layout", "qdistill"),
            "missing": list(attrs.get("missing", [])),
            "attrs": attrs,
        }


def _truth_figures(events: EventFile, has_truth: bool) -> tuple[float | None, dict[str, Any]]:
    """Checks every feature row for NaN; with truth, the primary-vertex energy share and PUPPI's
    neutral AUCs (``puppi_auc_neutral``, ``…_pt_weighted``, ``…_by_pt_gev``, ``…_above_cut``)."""
    e_total = e_pv = 0.0
    neutral_w: list[np.ndarray] = []
    neutral_t: list[np.ndarray] = []
    neutral_pt: list[np.ndarray] = []
    neutral_cut: list[np.ndarray] = []
    params = _puppi_parameters(events.attrs)
    n_vertices = np.asarray(events.h5["events/n_pileup"][:], dtype=np.int64) + 1
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
        rows = start + np.flatnonzero(neutral)
        event = np.searchsorted(events.offsets, rows, side="right") - 1
        neutral_cut.append(
            neutral_pt_cut_gev(feats[neutral, features.ETA], n_vertices[event], params)
        )
    auc = auc_pt_weighted = auc_by_pt = auc_above_cut = None
    if has_truth and neutral_w:
        w, t, pt = (np.concatenate(a) for a in (neutral_w, neutral_t, neutral_pt))
        above = pt > np.concatenate(neutral_cut)
        auc = _finite_or_none(roc_auc(t, w))
        auc_above_cut = _finite_or_none(roc_auc(t[above], w[above])) if above.any() else None
        auc_pt_weighted = _finite_or_none(roc_auc(t, w, sample_weight=pt))
        auc_by_pt = {
            f"{lo:g}-{hi:g}": _finite_or_none(roc_auc(t[m], w[m]))
            for lo, hi in itertools.pairwise(PT_BINS_GEV)
            if (m := (pt >= lo) & (pt < hi)).any()
        }
    pv_fraction = (e_pv / e_total) if has_truth and e_total > 0 else None
    return pv_fraction, {
        "puppi_auc_neutral": auc,
        "puppi_auc_neutral_pt_weighted": auc_pt_weighted,
        "puppi_auc_neutral_by_pt_gev": auc_by_pt,
        "puppi_auc_neutral_above_cut": auc_above_cut,
    }


def _puppi_parameters(attrs: dict[str, Any]) -> PuppiParameters:
    """The PUPPI parameters a generated file records (the defaults for other files)."""
    recorded = attrs.get("puppi_parameters")
    if not isinstance(recorded, str | bytes):
        return PuppiParameters()
    known = {f.name for f in dataclasses.fields(PuppiParameters)}
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in json.loads(recorded).items()}
    return PuppiParameters(**{k: v for k, v in values.items() if k in known})


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
