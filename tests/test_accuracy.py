"""The paper's histogram accuracy and ROC AUC on hand-made numbers."""

from __future__ import annotations

import numpy as np
import pytest

from qdistill.errors import QdistillError
from qdistill.metrics import histogram_accuracy, roc_auc


def test_histogram_accuracy_hand_computed() -> None:
    bins = np.array([0.0, 0.5, 1.0])
    # counts: weights (3, 1), reference (1, 3): ratios 1/3 and 1/3
    assert histogram_accuracy([0.1, 0.2, 0.3, 0.9], [0.1, 0.6, 0.7, 0.9], bins) == pytest.approx(
        1 / 3
    )
    # counts (2, 2) vs (2, 2): identical
    assert histogram_accuracy([0.1, 0.2, 0.8, 0.9], [0.3, 0.4, 0.6, 0.7], bins) == 1.0
    # counts (0, 2) vs (1, 1): ratios 0 / 1 and 1 / 2
    assert histogram_accuracy([0.6, 0.7], [0.1, 0.9], bins) == pytest.approx(0.25)


def test_histogram_accuracy_rejects_mismatched_lengths() -> None:
    with pytest.raises(QdistillError, match="shape"):
        histogram_accuracy([0.1, 0.2], [0.1])


def test_roc_auc_hand_computed() -> None:
    assert roc_auc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert roc_auc([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1]) == 0.0
    # pairs (pos, neg): 0.5>0.1, 0.5=0.5 (one half), 0.3>0.1, 0.3<0.5: (2 + 0.5) / 4
    assert roc_auc([0, 0, 1, 1], [0.1, 0.5, 0.5, 0.3]) == pytest.approx(0.625)
    assert np.isnan(roc_auc([1, 1], [0.2, 0.3]))


def test_roc_auc_with_sample_weights_hand_computed() -> None:
    truth, score = [0, 0, 1, 1], [0.1, 0.5, 0.5, 0.3]
    assert roc_auc(truth, score, sample_weight=[1, 1, 1, 1]) == pytest.approx(0.625)
    # pairs weighted by w_pos * w_neg: (1 + 0.5 * 3 + 1 + 0) / (2 * 4)
    assert roc_auc(truth, score, sample_weight=[1, 3, 1, 1]) == pytest.approx(0.4375)
    with pytest.raises(QdistillError, match="sample weights"):
        roc_auc(truth, score, sample_weight=[1, 1])
