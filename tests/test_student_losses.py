"""Students: each term of the distillation loss (eq. 1) on hand-computed numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qdistill.errors import QdistillError
from qdistill.student.config import LossSettings, reference_high_target_weight
from qdistill.student.losses import DistillationLoss


def _loss(settings: LossSettings, teacher: list[float], truth: list[float], pred: list[float]):
    y_true = np.stack([teacher, truth], axis=1).astype(np.float32)
    y_pred = np.asarray(pred, dtype=np.float32)[:, None]
    return float(DistillationLoss(settings)(y_true, y_pred))


def test_the_default_weighting_is_the_reference_codes() -> None:
    # weightedlossval = 3 in the reference: the 0.96 target weighs 3, as in the test below
    assert LossSettings().high_target_weight == 3.0
    assert _loss(LossSettings(), [0.96, 0.2], [0.0, 0.0], [0.5, 0.5]) == pytest.approx(0.84)


def test_mae_and_mse_to_teacher() -> None:
    teacher, truth, pred = [0.2, 0.9], [0.0, 1.0], [0.5, 0.5]
    # |0.2 − 0.5| = 0.3, |0.9 − 0.5| = 0.4 → mean 0.35; squares 0.09, 0.16 → 0.125
    assert _loss(LossSettings(), teacher, truth, pred) == pytest.approx(0.35, abs=1e-6)
    assert _loss(LossSettings(teacher_term="mse"), teacher, truth, pred) == pytest.approx(
        0.125, abs=1e-6
    )


def test_binary_cross_entropy() -> None:
    # t = 1, p = 0.8: −ln 0.8 = 0.223144; t = 0, p = 0.25: −ln 0.75 = 0.287682
    bce = LossSettings(teacher_term="bce", high_target_weight=1.0)
    value = _loss(bce, [1.0, 0.0], [0.0, 0.0], [0.8, 0.25])
    assert value == pytest.approx((0.2231436 + 0.2876821) / 2, abs=1e-5)


def test_kl_divergence_with_temperature() -> None:
    # τ = 1: KL(0.5 ‖ 0.8) = 0.5 ln(0.5/0.8) + 0.5 ln(0.5/0.2) = 0.223144
    kl1 = _loss(LossSettings(teacher_term="kl"), [0.5], [0.0], [0.8])
    assert kl1 == pytest.approx(0.5 * math.log(0.5 / 0.8) + 0.5 * math.log(0.5 / 0.2), abs=1e-5)
    # τ = 2: 0.8 → σ(ln 4 / 2) = 2/3, 0.5 stays 0.5; τ²·KL = 4·(0.5 ln 0.75 + 0.5 ln 1.5)
    kl2 = _loss(LossSettings(teacher_term="kl", temperature=2.0), [0.5], [0.0], [0.8])
    assert kl2 == pytest.approx(4 * (0.5 * math.log(0.75) + 0.5 * math.log(1.5)), abs=1e-5)


def test_truth_term_beta_and_gamma() -> None:
    # γ·T = 1·0.35; β·S = 0.5·mean(|1 − 0.5|, |0 − 0.5|) = 0.25
    settings = LossSettings(gamma=1.0, beta=0.5, high_target_weight=1.0)
    assert _loss(settings, [0.2, 0.9], [1.0, 0.0], [0.5, 0.5]) == pytest.approx(0.6, abs=1e-6)
    only_truth = LossSettings(gamma=0.0, beta=2.0, truth_term="mse", high_target_weight=1.0)
    assert _loss(only_truth, [0.2, 0.9], [1.0, 0.0], [0.5, 0.5]) == pytest.approx(0.5, abs=1e-6)


def test_high_target_weighting() -> None:
    # target 0.96 ≥ 0.95 gets weight 3: (3·0.46 + 1·0.3) / 2 = 0.84
    settings = LossSettings(high_target_weight=3.0)
    assert _loss(settings, [0.96, 0.2], [0.0, 0.0], [0.5, 0.5]) == pytest.approx(0.84, abs=1e-6)


def test_reference_automatic_weight() -> None:
    # 2 labels in [0, 0.05], 2 in [0.95, 1] → (2 + 2) / 2
    assert reference_high_target_weight([0.0, 0.01, 0.5, 0.97, 1.0]) == 2.0
    with pytest.raises(QdistillError, match=r"0\.95"):
        reference_high_target_weight([0.1, 0.2])


def test_bad_settings_are_clear_errors() -> None:
    with pytest.raises(QdistillError, match="unknown loss term 'huber'"):
        LossSettings(teacher_term="huber")
    with pytest.raises(QdistillError, match="one of them > 0"):
        LossSettings(gamma=0.0, beta=0.0)
    with pytest.raises(QdistillError, match="temperature"):
        LossSettings(temperature=0.0)


def test_loss_serialises() -> None:
    loss = DistillationLoss(LossSettings(teacher_term="kl", temperature=3.0))
    again = DistillationLoss.from_config(loss.get_config())
    assert again.settings == loss.settings
