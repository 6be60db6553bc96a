"""The paper's histogram accuracy and ROC AUC on hand-made numbers."""

from __future__ import annotations

import numpy as np
import pytest

from qdistill.errors import QdistillError
from qdistill.metrics import edge_bin_ratios, histogram_accuracy, roc_auc, weight_histogram


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


def test_edge_bin_ratios_are_the_reference_codes_accuracy() -> None:
    # teacher: 4 weights in [0, 0.05], 2 in [0.95, 1]; student: 3 and 3
    teacher = weight_histogram([0.0, 0.01, 0.02, 0.04, 0.5, 0.97, 1.0])
    student = weight_histogram([0.0, 0.03, 0.049, 0.5, 0.6, 0.96, 0.99, 1.0])
    assert edge_bin_ratios(student, teacher) == pytest.approx((0.75, 1.5))
    first, last = edge_bin_ratios(student, weight_histogram([0.5]))
    assert np.isnan(first) and np.isnan(last)  # an empty reference bin has no ratio
