"""Per-particle weight metrics used by every stage: the histogram accuracy (figure 3), ROC AUC."""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from qdistill.errors import QdistillError

#: Bins of the per-particle weight histograms of the paper's figure 3: 20 bins on [0, 1].
WEIGHT_BINS: Final[npt.NDArray[np.float64]] = np.linspace(0.0, 1.0, 21)


def histogram_accuracy(
    weights: npt.ArrayLike,
    reference: npt.ArrayLike,
    bins: npt.ArrayLike = WEIGHT_BINS,
) -> float:
    """The paper's accuracy metric: agreement of two per-particle weight histograms, in [0, 1].

    Both weight arrays, shape (n,), are histogrammed in ``bins``; in each bin where either is
    non-empty the ratio of the smaller count to the larger is taken (so over- and
    under-prediction count alike and 1 means identical), and the ratios are averaged over bins.
    """
    w = np.asarray(weights, dtype=np.float64)
    r = np.asarray(reference, dtype=np.float64)
    if w.shape != r.shape:
        raise QdistillError(f"weights have shape {w.shape} but the reference has {r.shape}")
    return accuracy_from_counts(weight_histogram(w, bins), weight_histogram(r, bins))


def weight_histogram(
    weights: npt.ArrayLike, bins: npt.ArrayLike = WEIGHT_BINS
) -> npt.NDArray[np.int64]:
    """Counts of per-particle weights (n,) in ``bins``, weights clipped to [0, 1] first.

    The last bin is closed, so a weight of exactly 1 counts in it (not in an overflow).
    """
    w = np.clip(np.asarray(weights, dtype=np.float64), 0.0, 1.0)
    counts, _ = np.histogram(w, bins=bins)
    return counts.astype(np.int64)


def accuracy_from_counts(counts: npt.ArrayLike, reference_counts: npt.ArrayLike) -> float:
    """:func:`histogram_accuracy` from histograms already filled (same bins), shape (bins,) each.

    For weights histogrammed while streaming through a file, event block by event block.
    """
    h_w = np.asarray(counts, dtype=np.float64)
    h_r = np.asarray(reference_counts, dtype=np.float64)
    if h_w.shape != h_r.shape:
        raise QdistillError(f"histograms have {h_w.shape} and {h_r.shape} bins; they must agree")
    filled = (h_w + h_r) > 0
    if not filled.any():
        raise QdistillError("cannot compute the histogram accuracy of empty weight arrays")
    lo = np.minimum(h_w, h_r)[filled]
    hi = np.maximum(h_w, h_r)[filled]
    return float(np.mean(lo / hi))


def edge_bin_ratios(counts: npt.ArrayLike, reference_counts: npt.ArrayLike) -> tuple[float, float]:
    """The reference DistillNet code's accuracy: N / N_reference in the first bin ([0, 0.05] of
    :data:`WEIGHT_BINS`) and in the last ([0.95, 1]); NaN where the reference bin is empty.

    From histograms (bins,) each, filled as :func:`weight_histogram` does; 1 is a perfect match,
    above 1 too many weights in that bin (data_helpers.py, ``ratiofirst``/``ratiolast``).
    """
    h_w = np.asarray(counts, dtype=np.float64)
    h_r = np.asarray(reference_counts, dtype=np.float64)
    if h_w.shape != h_r.shape or h_w.size == 0:
        raise QdistillError(f"histograms have {h_w.shape} and {h_r.shape} bins; they must agree")
    with np.errstate(divide="ignore", invalid="ignore"):
        first = h_w[0] / h_r[0] if h_r[0] > 0 else np.nan
        last = h_w[-1] / h_r[-1] if h_r[-1] > 0 else np.nan
    return float(first), float(last)


def roc_auc(
    truth: npt.ArrayLike,
    score: npt.ArrayLike,
    threshold: float = 0.5,
    sample_weight: npt.ArrayLike | None = None,
) -> float:
    """ROC AUC of ``score`` for the binary label ``truth > threshold`` (shape (n,) each).

    Ties count one half (the Mann–Whitney definition). With ``sample_weight`` (n,), e.g. the
    candidates' pT, each candidate counts with its weight. Returns NaN when one class is empty.
    """
    from sklearn.metrics import roc_auc_score

    y = np.asarray(truth, dtype=np.float64) > threshold
    s = np.asarray(score, dtype=np.float64)
    if y.shape != s.shape:
        raise QdistillError(f"truth has shape {y.shape} but the scores have {s.shape}")
    w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    if w is not None and w.shape != s.shape:
        raise QdistillError(f"sample weights have shape {w.shape} but the scores have {s.shape}")
    if y.all() or not y.any():
        return float("nan")
    return float(roc_auc_score(y, s, sample_weight=w))
