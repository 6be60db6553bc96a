"""Fixed-point types of an hls4ml project and exact emulations of their ``ap_fixed`` conversions.

Two implementations of the same conversion live here, side by side so that they stay in step:

* :func:`cast_values` converts NumPy floats the way ``ap_fixed`` converts a ``double`` (used for
  weights, biases, table contents and input vectors), through the project's NumPy ``ap_fixed``
  (:mod:`qdistill.firmware.fixed`);
* :func:`cast_traced` applies the same conversion to da4ml ``FixedVariable`` objects, so that the
  traced hardware rounds and saturates exactly as the C simulation does.

Rounding modes: ``TRN`` (floor), ``RND`` (half up), ``RND_CONV`` (half to even); overflow modes:
``WRAP``, ``SAT``, ``SAT_SYM``. Others are refused with a clear error rather than approximated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from qdistill.errors import QdistillError
from qdistill.firmware.fixed import quantize

SUPPORTED_ROUNDING = ("TRN", "RND", "RND_CONV")
SUPPORTED_SATURATION = ("WRAP", "SAT", "SAT_SYM")
FLOAT64_EXACT_BITS = 53  # every value of a type up to this wide is exact in float64
FLOAT32_EXACT_BITS = 24  # ... and in float32


@dataclass(frozen=True)
class FixedType:
    """``ap_fixed<width, integer, rounding, saturation>`` (or ``ap_ufixed`` when not ``signed``)."""

    signed: bool
    width: int
    integer: int
    rounding: str = "TRN"
    saturation: str = "WRAP"

    @property
    def fractional(self) -> int:
        """Fractional bits: the LSB weighs ``2**-fractional``."""
        return self.width - self.integer

    @property
    def kif(self) -> tuple[int, int, int]:
        """da4ml's (keep_negative, integer bits without sign, fractional bits)."""
        return int(self.signed), self.integer - int(self.signed), self.fractional

    @property
    def lsb(self) -> float:
        return 2.0**-self.fractional

    @property
    def low(self) -> float:
        """Most negative value (the SAT_SYM bound is ``-high``)."""
        return -(2.0 ** (self.integer - 1)) if self.signed else 0.0

    @property
    def high(self) -> float:
        """Most positive value."""
        top = self.integer - 1 if self.signed else self.integer
        return 2.0**top - self.lsb

    @property
    def rounding_mode(self) -> str:
        """The rounding mode name, as :func:`qdistill.firmware.fixed.quantize` reads it."""
        return self.rounding

    @property
    def saturation_mode(self) -> str:
        return self.saturation

    def __str__(self) -> str:
        name = "ap_fixed" if self.signed else "ap_ufixed"
        return f"{name}<{self.width},{self.integer},AP_{self.rounding},AP_{self.saturation}>"

    @classmethod
    def from_hls(cls, precision: Any, what: str) -> FixedType:
        """Read an hls4ml fixed or integer precision type; ``what`` names it in errors."""
        width = getattr(precision, "width", None)
        if width is None or not hasattr(precision, "signed"):
            raise QdistillError(f"{what}: precision {precision} is not a fixed-point type")
        integer = getattr(precision, "integer", width)
        rounding = getattr(precision, "rounding_mode", None)
        saturation = getattr(precision, "saturation_mode", None)
        rounding_name = rounding.name if rounding is not None else "TRN"
        saturation_name = saturation.name if saturation is not None else "WRAP"
        if rounding_name not in SUPPORTED_ROUNDING:
            raise QdistillError(
                f"{what}: rounding mode {rounding_name} is not emulated for RTL; use one of "
                f"{', '.join(SUPPORTED_ROUNDING)} in the hls4ml configuration"
            )
        if saturation_name not in SUPPORTED_SATURATION:
            raise QdistillError(
                f"{what}: overflow mode {saturation_name} is not emulated for RTL; use one of "
                f"{', '.join(SUPPORTED_SATURATION)} in the hls4ml configuration"
            )
        if getattr(precision, "saturation_bits", None) not in (None, 0):
            raise QdistillError(f"{what}: saturation bits are not emulated for RTL")
        return cls(bool(precision.signed), int(width), int(integer), rounding_name, saturation_name)


def cast_values(values: NDArray[np.floating] | float, t: FixedType) -> NDArray[np.float64]:
    """Convert values to ``t`` as an ``ap_fixed`` assignment from ``double`` does.

    float64 out; float32 in gives float32 out when ``t`` is at most 24 bits wide (then exact).

    Delegates to :func:`qdistill.firmware.fixed.quantize`, the project's one NumPy ``ap_fixed``.
    Types wider than float64 can hold (e.g. hls4ml's ``ap_ufixed<127,1>`` sigmoid result under
    ``bit_exact``) are accepted only where the conversion is the identity.
    """
    x = np.asarray(values)
    if x.dtype == np.float32 and t.width <= FLOAT32_EXACT_BITS:
        return quantize(x, t)  # every value of t is exact in float32: stay in float32
    x = x.astype(np.float64, copy=False)
    if t.width <= FLOAT64_EXACT_BITS:
        return quantize(x, t)
    scaled = x * 2.0**t.fractional  # exact: a power-of-two scaling
    if np.all(np.floor(scaled) == scaled) and np.all((x >= t.low) & (x <= t.high)):
        return x
    raise QdistillError(
        f"cannot emulate converting these values to {t}: the type is wider than "
        f"{FLOAT64_EXACT_BITS} bits and the values do not already fit it"
    )


def _round_traced(v: Any, f: int, rounding: str) -> Any:
    """Add the offset after which a floor to ``f`` fractional bits rounds as asked."""
    _, _, f_in = v.kif
    if f_in <= f or rounding == "TRN":
        return v
    if rounding == "RND":
        return v + 2.0 ** (-f - 1)
    # RND_CONV: floor(v + half - 1 ulp + keep_lsb * 1 ulp) rounds ties to the even neighbour.
    keep_lsb = v.quantize(0, 1 - f, f)  # the bit weighing 2**-f: 0 or 2**-f
    return v + (2.0 ** (-f - 1) - 2.0**-f_in) + keep_lsb * 2.0 ** (f - f_in)


def cast_traced(v: Any, t: FixedType) -> Any:
    """Convert one traced da4ml ``FixedVariable`` to ``t`` (round first, then wrap or saturate)."""
    k, i, f = t.kif
    if v.low == v.high:  # a constant: convert it in NumPy and return a constant
        value = float(cast_values(float(v.low), t))
        return v.from_const(value, hwconf=v.hwconf)
    v = _round_traced(v, f, t.rounding)
    if t.saturation == "WRAP":
        return v.quantize(k, i, f, "WRAP", "TRN")
    vk, vi, _ = v.kif
    v = v.quantize(vk, vi, f, "WRAP", "TRN")  # floor to f bits without touching the range
    low = -t.high if (t.saturation == "SAT_SYM" and t.signed) else t.low
    if v.low < low:
        v = v.max_of(low)
    if v.high > t.high:
        v = v.min_of(t.high)
    return v.quantize(k, i, f, "WRAP", "TRN")
