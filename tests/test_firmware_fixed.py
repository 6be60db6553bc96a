"""Firmware arithmetic without hls4ml compilation: ap_fixed conversion and the sigmoid table."""

from __future__ import annotations

import numpy as np
import pytest
from hls4ml.model.types import FixedPrecisionType

from qdistill.firmware.fixed import lsb, quantize
from qdistill.firmware.reference import hls_sigmoid, sigmoid_table


def fixed(width: int, integer: int, signed: bool = True, rnd: str = "TRN", sat: str = "WRAP"):
    return FixedPrecisionType(width, integer, signed, rounding_mode=rnd, saturation_mode=sat)


@pytest.mark.parametrize(
    ("rounding", "expected"),
    [
        # inputs: 0.3125 (= 2.5 LSB), -0.3125, 0.375 (= 3 LSB exactly), 0.34 (2.72 LSB)
        ("TRN", [0.25, -0.375, 0.375, 0.25]),
        ("TRN_ZERO", [0.25, -0.25, 0.375, 0.25]),
        ("RND", [0.375, -0.25, 0.375, 0.375]),
        ("RND_ZERO", [0.25, -0.25, 0.375, 0.375]),
        ("RND_INF", [0.375, -0.375, 0.375, 0.375]),
        ("RND_MIN_INF", [0.25, -0.375, 0.375, 0.375]),
        ("RND_CONV", [0.25, -0.25, 0.375, 0.375]),
    ],
)
def test_rounding_modes_follow_ap_fixed(rounding: str, expected: list[float]) -> None:
    t = fixed(7, 4, rnd=rounding)  # LSB 1/8
    assert quantize([0.3125, -0.3125, 0.375, 0.34], t).tolist() == expected


def test_overflow_modes_follow_ap_fixed() -> None:
    values = [8.0, -9.0, 7.875, 100.125]
    assert quantize(values, fixed(7, 4, sat="SAT")).tolist() == [7.875, -8.0, 7.875, 7.875]
    assert quantize(values, fixed(7, 4, sat="WRAP")).tolist() == [-8.0, 7.0, 7.875, 4.125]
    assert quantize(values, fixed(7, 4, sat="SAT_ZERO")).tolist() == [0.0, 0.0, 7.875, 0.0]
    assert quantize([-9.0], fixed(7, 4, sat="SAT_SYM")).tolist() == [-7.875]
    unsigned = fixed(8, 0, signed=False, rnd="RND", sat="SAT")
    assert quantize([1.0, -0.1, 0.5, 0.998], unsigned).tolist() == [255 / 256, 0.0, 0.5, 255 / 256]
    assert lsb(unsigned) == 2.0**-8


def test_sigmoid_table_matches_hls4ml_formula() -> None:
    table_t = fixed(18, 8)  # hls4ml's default table type, 10 fractional bits, truncating
    table = sigmoid_table(1024, table_t)
    # entry i holds sigmoid(16 (i - 512) / 1024) truncated to 1/1024
    x = 16.0 * (np.arange(1024) - 512) / 1024
    assert np.array_equal(table, np.floor(1024 / (1 + np.exp(-x))) / 1024)
    assert table[512] == 0.5


def test_hls_sigmoid_indexes_like_the_cpp_template() -> None:
    table_t, out_t = fixed(18, 8), fixed(8, 0, signed=False, rnd="RND", sat="SAT")
    logits = np.array([0.0, -1 / 128, 1 / 128, 1 / 64 - 1 / 4096, -100.0, 100.0, 1.0])
    out = hls_sigmoid(logits, 1024, table_t, out_t)
    # (int)(x * 64) truncates towards zero: ±1/128 and just below 1/64 all read entry 512
    assert out[:4].tolist() == [0.5, 0.5, 0.5, 0.5]
    assert out[4] == 0.0  # clamped to entry 0: sigmoid(-8) = 0.00034 rounds to 0
    assert out[5] == 255 / 256  # entry 1023, sigmoid(7.984) = 0.99966, saturates at 255/256
    assert out[6] == round(256 / (1 + np.exp(-1.0))) / 256
    with pytest.raises(ValueError, match="16 times a power of two"):
        hls_sigmoid(logits, 1000, table_t, out_t)
