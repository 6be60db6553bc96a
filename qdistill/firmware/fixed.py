"""Fixed-point arithmetic in NumPy with the semantics of ``ap_fixed`` (the HLS types hls4ml uses).

Values are carried as float64, which is exact for every type up to 53 bits wide; wider types are
refused. Rounding and overflow modes follow the Vivado HLS ``ap_fixed`` documentation (UG902):
``TRN`` rounds towards −∞, ``TRN_ZERO`` towards 0, ``RND`` to nearest with ties towards +∞,
``RND_ZERO``/``RND_INF``/``RND_MIN_INF`` ties towards 0/±∞/−∞, ``RND_CONV`` ties to even;
``WRAP`` drops the high bits, ``SAT`` clips, ``SAT_ZERO`` sets overflows to 0 and ``SAT_SYM``
clips symmetrically.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

_MAX_WIDTH = 53  # float64 mantissa: every value of a narrower type is exact


def _fields(precision: Any) -> tuple[int, int, bool, str, str]:
    """(width, integer bits, signed, rounding mode, saturation mode) of an hls4ml precision type."""
    width = int(precision.width)
    signed = bool(precision.signed)
    integer = int(getattr(precision, "integer", width))
    rounding = str(getattr(precision, "rounding_mode", "TRN"))
    saturation = str(getattr(precision, "saturation_mode", "WRAP"))
    if width > _MAX_WIDTH:
        raise ValueError(f"{precision} is wider than {_MAX_WIDTH} bits; cannot emulate in float64")
    return width, integer, signed, rounding, saturation


def lsb(precision: Any) -> float:
    """Value of the last bit of ``precision`` (2^-fractional bits)."""
    width, integer, *_ = _fields(precision)
    return float(2.0 ** -(width - integer))


def quantize(values: npt.ArrayLike, precision: Any) -> npt.NDArray[np.float64]:
    """Convert ``values`` to the fixed-point type ``precision`` as an ``ap_fixed`` assignment does.

    ``precision`` is an hls4ml ``FixedPrecisionType`` or ``IntegerPrecisionType``; returns float64
    values of the same shape, each exactly representable in ``precision``.
    """
    width, integer, signed, rounding, saturation = _fields(precision)
    frac = width - integer
    # one new array, then in place: this runs on every value of the firmware emulator. float32
    # arrays stay float32 (the emulator's fast path, which proves its values fit 24 bits).
    dtype = np.float32 if getattr(values, "dtype", None) == np.float32 else np.float64
    scaled = np.asarray(np.multiply(values, 2.0**frac, dtype=dtype))
    if rounding == "TRN":
        raw = np.floor(scaled, out=scaled)
    elif rounding == "TRN_ZERO":
        raw = np.trunc(scaled, out=scaled)
    elif rounding == "RND":
        scaled += 0.5
        raw = np.floor(scaled, out=scaled)
    elif rounding in ("RND_ZERO", "RND_INF", "RND_MIN_INF"):
        floor = np.floor(scaled)
        half = scaled - floor == 0.5
        nearest = np.floor(scaled + 0.5)
        if rounding == "RND_ZERO":
            raw = np.where(half, np.trunc(scaled), nearest)
        elif rounding == "RND_INF":
            raw = np.where(half, np.where(scaled > 0, floor + 1, floor), nearest)
        else:
            raw = np.where(half, floor, nearest)
    elif rounding == "RND_CONV":
        raw = np.rint(scaled, out=scaled)  # IEEE round-half-to-even
    else:
        raise ValueError(f"unknown rounding mode {rounding!r}")

    lo = -(2.0 ** (width - 1)) if signed else 0.0
    hi = 2.0 ** (width - 1) - 1 if signed else 2.0**width - 1
    if saturation == "WRAP":
        raw -= lo
        np.mod(raw, 2.0**width, out=raw)
        raw += lo
    elif saturation == "SAT":
        np.maximum(raw, lo, out=raw)  # np.clip costs 20 us of Python per call
        np.minimum(raw, hi, out=raw)
    elif saturation == "SAT_ZERO":
        raw = np.where((raw < lo) | (raw > hi), 0.0, raw)
    elif saturation == "SAT_SYM":
        np.maximum(raw, -hi if signed else lo, out=raw)
        np.minimum(raw, hi, out=raw)
    else:
        raise ValueError(f"unknown saturation mode {saturation!r}")
    raw *= 2.0**-frac
    return raw if raw.ndim else raw[()]
