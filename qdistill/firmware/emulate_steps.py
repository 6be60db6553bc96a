"""The emulator's exact array steps and the compiled kernel that runs a whole plan of them.

:mod:`qdistill.firmware.emulate` decides, from the value bounds, which steps evaluate a network
exactly (and in which float type); this module holds those steps and runs them two ways:

* each step is a callable on NumPy arrays (``x @ weights + bias``, ``ap_fixed`` casts through
  :func:`~qdistill.firmware.rtl_fixed.cast_values`, relu, the sigmoid table): the readable
  reference, and the fallback for steps no kernel encodes (int64 sums, products rounded one by one);
* :func:`compile_program` encodes a list of steps as arrays, and :func:`run_program` evaluates it
  with one Numba kernel that keeps a block of particles in the cache from the input cast to the
  output and skips the weights that pruning set to zero. Every product and partial sum of an
  affine step is an integer multiple of its LSB below the type's exact-integer limit (the plan
  proves it), so the kernel's summation order and fused multiply-adds give the same values as the
  NumPy steps; the casts are done in float64, as :func:`~qdistill.firmware.fixed.quantize` does.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import numba
import numpy as np
from numpy.typing import NDArray

from qdistill.firmware.rtl_fixed import (
    FLOAT32_EXACT_BITS,
    FLOAT64_EXACT_BITS,
    FixedType,
    cast_values,
)

Step = Callable[[NDArray[Any]], NDArray[Any]]

#: Particles the kernel carries through the network at a time (its buffers stay in L1/L2).
KERNEL_BLOCK: Final[int] = 256

_AFFINE, _CAST, _RELU, _TABLE = 0, 1, 2, 3
_ROUNDING_CODES: Final = {"TRN": 0, "RND": 1, "RND_CONV": 2}
_SATURATION_CODES: Final = {"WRAP": 0, "SAT": 1, "SAT_SYM": 1}  # SAT_SYM: SAT with low = -high


@dataclass(frozen=True, eq=False)
class Affine:
    """``x @ weights + bias``: weights (n_in, n_out) and bias (n_out,) in the plan's float type.

    A diagonal ``weights`` is BatchNormalization's ``x * scale + bias`` (``diagonal=True``).
    """

    weights: NDArray[Any]
    bias: NDArray[Any]
    diagonal: bool = False

    def __call__(self, x: NDArray[Any]) -> NDArray[Any]:
        if self.diagonal:
            return x * np.diagonal(self.weights) + self.bias
        acc = x @ self.weights
        acc += self.bias
        return acc


@dataclass(frozen=True)
class Cast:
    """Conversion to ``type`` as an ``ap_fixed`` assignment does."""

    type: FixedType

    def __call__(self, x: NDArray[Any]) -> NDArray[Any]:
        return cast_values(x, self.type)


@dataclass(frozen=True)
class Relu:
    """``max(x, 0)``, in place."""

    def __call__(self, x: NDArray[Any]) -> NDArray[Any]:
        return np.maximum(x, 0.0, out=x)


@dataclass(frozen=True, eq=False)
class Table:
    """hls4ml's sigmoid table: index ``trunc(x * per_unit) + n / 2`` clipped to the table."""

    table: NDArray[np.float64]
    per_unit: int

    def __call__(self, x: NDArray[Any]) -> NDArray[np.float64]:
        n = len(self.table)
        index = (x * self.per_unit).astype(np.int64)  # exact product; astype truncates toward 0
        index += n // 2
        np.clip(index, 0, n - 1, out=index)
        return self.table[index]


@dataclass(frozen=True)
class NumpyStep:
    """A step only NumPy runs (int64 sums, products rounded one by one): no kernel encodes it."""

    function: Step
    what: str

    def __call__(self, x: NDArray[Any]) -> NDArray[Any]:
        return self.function(x)


@dataclass(frozen=True, eq=False)
class Program:
    """A list of steps encoded as arrays for :func:`run_program` (``dtype`` of its buffers).

    ``ops`` rows are ``(kind, n_out, first column of ptr, first bias)``, or ``(kind, n_out, cast
    row, 0)``; affine weights are stored by output column (CSC: ``ptr``, ``index``, ``value``)
    without the zeros; ``casts`` rows are ``(2**frac, rounding, saturation, low, high, 2**width,
    2**-frac)`` in the buffers' type.
    """

    dtype: type[np.floating[Any]]
    n_inputs: int
    n_outputs: int
    input_magnitude: float  # the largest |value| of the input type
    input_cast: NDArray[np.float64]
    ops: NDArray[np.int64]
    ptr: NDArray[np.int64]
    index: NDArray[np.int64]
    value: NDArray[Any]
    bias: NDArray[Any]
    casts: NDArray[Any]
    table: NDArray[np.float64]
    width: int  # rows of the widest buffer


def _cast_row(t: FixedType) -> list[float] | None:
    if t.rounding not in _ROUNDING_CODES or t.saturation not in _SATURATION_CODES or t.width > 53:
        return None
    low = -(2.0 ** (t.width - 1)) if t.signed else 0.0
    high = 2.0 ** (t.width - 1) - 1 if t.signed else 2.0**t.width - 1
    if t.saturation == "SAT_SYM" and t.signed:
        low = -high
    rounding, saturation = _ROUNDING_CODES[t.rounding], _SATURATION_CODES[t.saturation]
    return [2.0**t.fractional, rounding, saturation, low, high, 2.0**t.width, 2.0**-t.fractional]


def compile_program(
    steps: list[Step], input_type: FixedType, n_inputs: int, dtype: type[np.floating[Any]]
) -> Program | None:
    """Encode ``steps`` (after the input conversion to ``input_type``) for the kernel.

    Returns None when a step has no encoding (:class:`NumpyStep`, a table before the last step,
    a rounding or overflow mode the kernel lacks): the NumPy steps then run instead.
    """
    exact_bits = FLOAT32_EXACT_BITS if dtype is np.float32 else FLOAT64_EXACT_BITS
    input_cast = _cast_row(input_type)
    if input_cast is None or input_type.width > exact_bits:
        return None
    ops: list[list[int]] = []
    ptr: list[NDArray[np.int64]] = []
    index: list[NDArray[np.int64]] = []
    value: list[NDArray[Any]] = []
    bias: list[NDArray[Any]] = []
    casts: list[list[float]] = []
    table = np.zeros(1)
    width = n = n_inputs
    n_ptr = n_index = n_bias = 0
    for k, step in enumerate(steps):
        if isinstance(step, Affine):
            w = np.asarray(step.weights)
            columns = [np.flatnonzero(w[:, j]) for j in range(w.shape[1])]
            counts = np.array([len(c) for c in columns], dtype=np.int64)
            ptr.append(n_index + np.concatenate([[0], np.cumsum(counts)[:-1]]))
            rows = np.concatenate([*columns, np.zeros(0, np.int64)]).astype(np.int64)
            index.append(rows)
            value.append(np.concatenate([w[c, j] for j, c in enumerate(columns)]).astype(dtype))
            bias.append(np.asarray(step.bias).astype(dtype))
            n = w.shape[1]
            ops.append([_AFFINE, n, n_ptr, n_bias])
            n_ptr, n_index, n_bias = n_ptr + n, n_index + len(rows), n_bias + n
        elif isinstance(step, Cast):
            row = _cast_row(step.type)
            if row is None or step.type.width > exact_bits:  # the buffers hold every value
                return None
            ops.append([_CAST, n, len(casts), 0])
            casts.append(row)
        elif isinstance(step, Relu):
            ops.append([_RELU, n, 0, 0])
        elif isinstance(step, Table) and k == len(steps) - 1:
            ops.append([_TABLE, n, step.per_unit, 0])
            table = np.asarray(step.table, dtype=np.float64)
        else:
            return None
        width = max(width, n)
    end = np.array([n_index], dtype=np.int64)  # the last column's end
    return Program(
        dtype=dtype,
        n_inputs=n_inputs,
        n_outputs=n,
        input_magnitude=max(abs(input_type.low), abs(input_type.high)),
        input_cast=np.array(input_cast),
        ops=np.array(ops, dtype=np.int64).reshape(-1, 4),
        ptr=np.concatenate([*ptr, end]),
        index=np.concatenate([*index, np.zeros(0, np.int64)]),
        value=np.concatenate([*value, np.zeros(0, dtype)]).astype(dtype),
        bias=np.concatenate([*bias, np.zeros(0, dtype)]).astype(dtype),
        casts=np.array(casts, dtype=dtype).reshape(-1, 7),
        table=table,
        width=width,
    )


def run_program(
    program: Program, x: NDArray[np.float64], limit: float = math.inf, block: int = KERNEL_BLOCK
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Outputs (n, n_outputs) of ``program`` for float64 inputs (n, n_inputs), and a mask of the
    rows it did not evaluate: those of blocks with an input above ``limit`` in magnitude (the
    box in which the program is exact; a power of two on the input grid, so that the converted
    inputs of the other blocks lie in it too). Raises ValueError on a non-finite row."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    out = np.zeros((len(x), program.n_outputs), dtype=np.float64)
    skipped = np.zeros(-(-len(x) // block), dtype=np.bool_)
    buffers = np.zeros((2, program.width, block), dtype=program.dtype)
    # the box holds the whole input type: every finite input converts into it
    bound = sys.float_info.max if limit >= program.input_magnitude else limit
    bad = _kernel(
        x, program.input_cast, bound, program.ops, program.ptr, program.index, program.value,
        program.bias, program.casts, program.table, buffers, out, skipped,
    )  # fmt: skip
    if bad >= 0:
        raise ValueError(f"row {bad} is NaN or infinite")
    return out, np.repeat(skipped, block)[: len(x)]


@numba.njit(cache=True, inline="always")
def _cast(v: float, c: Any) -> float:
    """``ap_fixed`` conversion of one float64 (the rules of qdistill.firmware.fixed.quantize)."""
    s = v * c[0]
    if c[1] == 0:
        r = np.floor(s)
    elif c[1] == 1:
        r = np.floor(s + 0.5)
    else:
        r = np.rint(s)  # half to even
    if c[2] == 0:
        r -= c[3]
        r -= np.floor(r / c[5]) * c[5]
        r += c[3]
    else:
        r = min(max(r, c[3]), c[4])
    return r * c[6]


@numba.njit(cache=True, fastmath={"reassoc", "contract"})
def _affine(src, dst, ptr, index, value, bias, first_column, first_bias, width):  # type: ignore[no-untyped-def]
    """dst[j] = bias[j] + sum over the non-zero weights of column j of w * src[row]: full rows,
    so that the loops over particles run over contiguous memory and vectorise."""
    block = src.shape[1]
    for j in range(width):
        out = dst[j]
        bj = bias[first_bias + j]
        for p in range(block):
            out[p] = bj
        for e in range(ptr[first_column + j], ptr[first_column + j + 1]):
            w = value[e]
            row = src[index[e]]
            for p in range(block):
                out[p] += w * row[p]


@numba.njit(cache=True)
def _cast_rows(values, width, m, c):  # type: ignore[no-untyped-def]
    """values[:width, :m] = _cast(values[:width, :m]) in place, one branch-free loop per mode
    so that it vectorises.

    ``c`` is in the type of ``values``: truncation and half-to-even rounding of a value held
    exactly, its saturation and the power-of-two rescalings are exact in that type (a program
    holds only types narrower than its mantissa); the other modes go through float64.
    """
    scale, low, high, inverse = c[0], c[3], c[4], c[6]
    if c[2] != 0 and c[1] == 0:
        for j in range(width):
            for p in range(m):
                values[j, p] = min(max(np.floor(values[j, p] * scale), low), high) * inverse
    elif c[2] != 0 and c[1] == 2:
        for j in range(width):
            for p in range(m):
                values[j, p] = min(max(np.rint(values[j, p] * scale), low), high) * inverse
    else:
        for j in range(width):
            for p in range(m):
                values[j, p] = _cast(np.float64(values[j, p]), c)


@numba.njit(cache=True)
def _load_inputs(x, start, m, c, bound, src):  # type: ignore[no-untyped-def]
    """src[i, p] = _cast(x[start + p, i]) for p < m, in one pass over x (one loop per mode, as
    _cast_rows); returns how many of those inputs are NaN or outside [-bound, bound]."""
    n_in = x.shape[1]
    scale, low, high, inverse = c[0], c[3], c[4], c[6]
    outside = 0
    if c[2] != 0 and c[1] == 0:
        for p in range(m):
            for i in range(n_in):
                v = x[start + p, i]
                outside += not (-bound <= v <= bound)
                src[i, p] = min(max(np.floor(v * scale), low), high) * inverse
    elif c[2] != 0 and c[1] == 2:
        for p in range(m):
            for i in range(n_in):
                v = x[start + p, i]
                outside += not (-bound <= v <= bound)
                src[i, p] = min(max(np.rint(v * scale), low), high) * inverse
    else:
        for p in range(m):
            for i in range(n_in):
                v = x[start + p, i]
                outside += not (-bound <= v <= bound)
                src[i, p] = _cast(v, c)
    return outside


# reassoc and contract: every partial sum is exact (see the module docstring), so any order and
# fused multiply-adds give the same values, and the inner loops over particles vectorise.
@numba.njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def _kernel(  # type: ignore[no-untyped-def]
    x, input_cast, bound, ops, ptr, index, value, bias, casts, table, buffers, out, skipped
):
    """Evaluate the program on x block by block; return the first non-finite row or -1."""
    n, n_in = x.shape
    block = buffers.shape[2]
    for b in range(skipped.shape[0]):
        start = b * block
        m = min(block, n - start)
        src = buffers[0]
        dst = buffers[1]
        if _load_inputs(x, start, m, input_cast, bound, src):
            for p in range(m):  # a non-finite input is an error; others leave the box
                for i in range(n_in):
                    if not math.isfinite(x[start + p, i]):
                        return start + p
            skipped[b] = True
            continue
        for k in range(ops.shape[0]):
            kind, width, a, c = ops[k, 0], ops[k, 1], ops[k, 2], ops[k, 3]
            if kind == 0:
                _affine(src, dst, ptr, index, value, bias, a, c, width)
                src, dst = dst, src
            elif kind == 1:
                _cast_rows(src, width, m, casts[a])
            elif kind == 2:
                for j in range(width):
                    for p in range(block):
                        if src[j, p] < 0:
                            src[j, p] = 0
            else:
                half, last = table.shape[0] // 2, table.shape[0] - 1
                for j in range(width):
                    for p in range(m):
                        t = int(np.float64(src[j, p]) * a) + half  # int() truncates toward 0
                        out[start + p, j] = table[min(max(t, 0), last)]
        if ops.shape[0] == 0 or ops[ops.shape[0] - 1, 0] != 3:
            for j in range(out.shape[1]):
                for p in range(m):
                    out[start + p, j] = src[j, p]
    return -1
