"""Bit-exact emulation of a firmware project's fixed-point network on many particles at once.

The arithmetic comes from the :class:`~qdistill.firmware.rtl_network.NetworkSpec` that
``qdistill rtl`` extracts from the hls4ml ``ModelGraph`` (its layer docstrings state the C
simulation's semantics); casts are :func:`~qdistill.firmware.rtl_fixed.cast_values`. This module
only decides *how* to evaluate each layer exactly on many particles at once:

* **Dense** ``res = (result_t)(sum_i (accum_t)(x_i * w_ij) + b_j)``. When every product is exact
  in ``accum_t`` (input fractional bits + weight fractional bits <= accum fractional bits) the
  per-product cast only wraps, and a wrapping sum is modular, so one matrix product gives the C
  loop's result. It runs in float64 BLAS when every partial sum is an integer multiple of the
  product LSB below 2**53 in magnitude (bounded from the input range and ``sum_i |w_ij|``), which
  makes it exact whatever the summation order; otherwise in int64 (bound < 2**63), wrapped to the
  accumulator width in integers. When products lose bits in ``accum_t`` each product is cast on
  its own (an (n, n_in, n_out) array), as the C loop does.
* **Scale** (BatchNormalization) in float64 where the exact result fits 53 bits.
* **relu/linear** element-wise, **sigmoid** as table indexing with the C code's index formula.

A conversion is skipped only where it provably changes no value (the value bounds, tracked per
element through the network, lie inside the target type on its LSB grid), and relu is folded
into a following saturating unsigned conversion, which maps every negative value to 0 anyway.

The resulting steps (:mod:`qdistill.firmware.emulate_steps`) run in one compiled Numba kernel
when each has an encoding there, else as NumPy array operations; both give the same values.
"""

from __future__ import annotations

import contextlib
import functools
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
from numpy.typing import NDArray

from qdistill.errors import QdistillError
from qdistill.firmware.emulate_steps import (
    Affine,
    Cast,
    NumpyStep,
    Relu,
    Step,
    Table,
    compile_program,
    run_program,
)
from qdistill.firmware.rtl_fixed import (
    FLOAT32_EXACT_BITS,
    FLOAT64_EXACT_BITS,
    FixedType,
    cast_values,
)
from qdistill.firmware.rtl_network import (
    SIGMOID_INPUT_RANGE,
    ActivationSpec,
    DenseSpec,
    NetworkSpec,
    ScaleSpec,
    SigmoidSpec,
    extract_network,
)

if TYPE_CHECKING:
    from qdistill.firmware.project import FirmwareProject

#: Particles evaluated at a time: small enough that the intermediates stay in the CPU cache.
DEFAULT_BLOCK: Final[int] = 1024
#: Elements of the (block, n_in, n_out) product array of a dense layer whose products round.
PRODUCT_ELEMENTS: Final[int] = 1 << 21
FLOAT64_LIMIT: Final[float] = 2.0**FLOAT64_EXACT_BITS
FLOAT32_LIMIT: Final[float] = 2.0**FLOAT32_EXACT_BITS
INT64_LIMIT: Final[float] = 2.0**63
MAX_REPORTED_MISMATCHES: Final[int] = 10


@dataclass(frozen=True)
class Arithmetic:
    """The float type a plan computes in and the integers (in LSBs) it holds exactly."""

    name: str
    dtype: type[np.floating[Any]]
    limit: float


FLOAT64: Final = Arithmetic("float64", np.float64, FLOAT64_LIMIT)
#: Twice the BLAS speed; used on the blocks whose inputs lie in a box where every sum fits 24 bits.
FLOAT32: Final = Arithmetic("float32", np.float32, FLOAT32_LIMIT)


class _NotExactError(QdistillError):
    """A layer cannot be evaluated exactly in the arithmetic asked for."""


def _refuse(arith: Arithmetic, message: str) -> _NotExactError | QdistillError:
    """float64 refusals reach the user; float32 ones only mean "no fast path here"."""
    return _NotExactError(message) if arith is FLOAT32 else QdistillError(message)


def _as_exact(values: NDArray[np.float64], arith: Arithmetic, what: str) -> NDArray[np.floating]:
    converted = values.astype(arith.dtype)
    if not np.array_equal(converted, values):
        raise _refuse(arith, f"{what} are not exact in {arith.name}")
    return converted


@dataclass(frozen=True)
class Bounds:
    """Inclusive per-element bounds of a layer's values and their LSB exponent (2**-frac)."""

    frac: int
    low: NDArray[np.float64]
    high: NDArray[np.float64]

    @property
    def magnitude(self) -> NDArray[np.float64]:
        """Largest |value| per element."""
        return np.maximum(np.abs(self.low), np.abs(self.high))


def _type_bounds(t: FixedType, n: int) -> Bounds:
    return Bounds(t.fractional, np.full(n, t.low), np.full(n, t.high))


def fraction_bits(values: NDArray[np.float64]) -> int:
    """The fewest fractional bits (>= 0) that represent every (dyadic) value exactly."""
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[v != 0]
    if v.size == 0:
        return 0
    # the lowest set bit of a float's mantissa: frexp gives m in [0.5, 1), m * 2**53 is an integer
    mantissa, exponent = np.frexp(np.abs(v))
    ints = (mantissa * 2.0**53).astype(np.int64)
    trailing = np.array([(int(i) & -int(i)).bit_length() - 1 for i in ints])
    return max(0, int(np.max(53 - trailing - exponent)))


def _cast_step(b: Bounds, t: FixedType) -> tuple[Step | None, Bounds]:
    """The conversion of values with bounds ``b`` to ``t`` (None where it changes no value)."""
    low_t = -t.high if (t.signed and t.saturation == "SAT_SYM") else t.low
    if b.frac <= t.fractional and b.low.min() >= low_t and b.high.max() <= t.high:
        return None, b
    if t.saturation == "WRAP":
        after = _type_bounds(t, len(b.low))
    else:  # rounding and saturation are monotone: the bounds convert to the new bounds
        after = Bounds(t.fractional, cast_values(b.low, t), cast_values(b.high, t))
    return Cast(t), after


def _wrap_integers(acc: NDArray[np.int64], t: FixedType) -> NDArray[np.int64]:
    """``t``'s WRAP of integer sums in units of its LSB (two's complement of ``t.width`` bits)."""
    low = -(1 << (t.width - 1)) if t.signed else 0
    return ((acc - low) & ((1 << t.width) - 1)) + low


@dataclass(frozen=True)
class LayerPlan:
    """How one layer is evaluated: ``path`` is float64, int64 or table; casts kept or skipped."""

    name: str
    kind: str
    path: str
    products_exact: bool = True
    casts: list[str] = field(default_factory=list)
    bound_bits: float = 0.0  # log2 of the largest integer the path must hold exactly


def _dense_plan(
    layer: DenseSpec, b: Bounds, arith: Arithmetic = FLOAT64
) -> tuple[list[Step], Bounds, LayerPlan]:
    accum, fa = layer.accum, layer.accum.fractional
    w, bias = np.asarray(layer.weights, np.float64), np.asarray(layer.bias, np.float64)
    fw = fraction_bits(w)
    mag = b.magnitude
    products_exact = b.frac + fw <= fa
    # exact interval of each sum (before any wrap): sum_i of w_ij * x_i over x_i in [low, high]
    low = np.minimum(w * b.low[:, None], w * b.high[:, None]).sum(axis=0) + bias
    high = np.maximum(w * b.low[:, None], w * b.high[:, None]).sum(axis=0) + bias
    steps: list[Step] = []
    if products_exact:
        # every partial sum is a multiple of 2**-(frac + fw), the total of 2**-fa; in accum LSBs:
        bound = float(np.max(np.abs(w).T @ mag + np.abs(bias))) * 2.0**fa
        path = arith.name if bound < arith.limit else "int64"
        if path == arith.name:
            w_a = _as_exact(w, arith, f"layer {layer.name}: weights")
            bias_a = _as_exact(bias, arith, f"layer {layer.name}: biases")

            steps.append(Affine(w_a, bias_a))
        elif arith is FLOAT32:
            raise _NotExactError(f"layer {layer.name}: sums need 2**{np.log2(bound):.1f} LSBs")
        else:
            if bound >= INT64_LIMIT or accum.width > FLOAT64_EXACT_BITS:
                raise QdistillError(
                    f"layer {layer.name}: sums of up to 2**{np.log2(bound):.0f} accumulator LSBs "
                    f"in {accum} cannot be emulated exactly in 64-bit integers"
                )
            scale_x = 2.0**b.frac
            w_int = (w * 2.0 ** (fa - b.frac)).astype(np.int64)  # exact: fw <= fa - frac
            b_int = (bias * 2.0**fa).astype(np.int64)

            def dense(x: NDArray[np.float64]) -> NDArray[np.float64]:
                acc = (x * scale_x).astype(np.int64) @ w_int + b_int
                return _wrap_integers(acc, accum) * 2.0**-fa

            steps.append(NumpyStep(dense, "int64 sums"))
        fits = bool(np.all(low >= accum.low) and np.all(high <= accum.high))
        if path == arith.name or fits:  # the sums as they are: the accum cast below wraps them
            after = Bounds(fa, low, high)
        else:  # already wrapped into accum_t in integers
            after = _type_bounds(accum, w.shape[1])
    elif arith is FLOAT32:
        raise _NotExactError(f"layer {layer.name}: products round in {accum}")
    else:
        dense, path, bound = _rounded_products_dense(layer, b, fw)
        steps.append(NumpyStep(dense, "products rounded one by one"))
        after = _type_bounds(accum, w.shape[1])
    casts = []
    for t in (accum, layer.result):
        cast, after = _cast_step(after, t)
        if cast is not None:
            steps.append(cast)
            casts.append(str(t))
    plan = LayerPlan(layer.name, "dense", path, products_exact, casts, float(np.log2(bound)))
    return steps, after, plan


def _rounded_products_dense(layer: DenseSpec, b: Bounds, fw: int) -> tuple[Step, str, float]:
    """A dense layer whose products lose bits in ``accum_t``: each product is cast on its own,
    as hls4ml's loop does. Returns the step, its path (float64 or int64) and the sum bound."""
    accum, fa = layer.accum, layer.accum.fractional
    w, bias = np.asarray(layer.weights, np.float64), np.asarray(layer.bias, np.float64)
    mag = b.magnitude
    product_bits = float(np.log2(max(float(np.max(mag)), 2.0**-1074)) + b.frac)
    product_bits += float(np.log2(max(float(np.max(np.abs(w))), 2.0**-1074)) + fw)
    if product_bits >= FLOAT64_EXACT_BITS or accum.width > FLOAT64_EXACT_BITS:
        raise QdistillError(
            f"layer {layer.name}: products of {product_bits:.0f} bits rounded into {accum} "
            "cannot be emulated exactly in float64"
        )
    n_in, n_out = w.shape
    bound = n_in * 2.0 ** (accum.width - 1) + float(np.max(np.abs(bias))) * 2.0**fa
    path = "float64" if bound < FLOAT64_LIMIT else "int64"
    rows = max(1, PRODUCT_ELEMENTS // (n_in * n_out))

    def dense(x: NDArray[np.float64]) -> NDArray[np.float64]:
        out = np.empty((len(x), n_out))
        for r0 in range(0, len(x), rows):
            products = cast_values(x[r0 : r0 + rows, :, None] * w[None], accum)
            if path == "float64":
                out[r0 : r0 + rows] = cast_values(products.sum(axis=1) + bias, accum)
            else:
                ints = (products * 2.0**fa).astype(np.int64).sum(axis=1)
                ints += (bias * 2.0**fa).astype(np.int64)
                out[r0 : r0 + rows] = _wrap_integers(ints, accum) * 2.0**-fa
        return out

    return dense, path, bound


def _scale_plan(
    layer: ScaleSpec, b: Bounds, arith: Arithmetic = FLOAT64
) -> tuple[list[Step], Bounds, LayerPlan]:
    scale, bias = np.asarray(layer.scale, np.float64), np.asarray(layer.bias, np.float64)
    frac = max(b.frac + fraction_bits(scale), fraction_bits(bias))
    bound = float(np.max(b.magnitude * np.abs(scale) + np.abs(bias))) * 2.0**frac
    if bound >= arith.limit:
        raise _refuse(
            arith,
            f"layer {layer.name}: x * scale + bias needs 2**{np.log2(bound):.0f} LSBs, more than "
            f"{arith.name} holds exactly; narrow the BatchNormalization types",
        )
    lows, highs = b.low * scale + bias, b.high * scale + bias
    after = Bounds(frac, np.minimum(lows, highs), np.maximum(lows, highs))
    scale_a = _as_exact(scale, arith, f"layer {layer.name}: scales")
    bias_a = _as_exact(bias, arith, f"layer {layer.name}: biases")
    affine = Affine(np.diag(scale_a), bias_a, diagonal=True)
    cast, after = _cast_step(after, layer.result)
    steps = [affine] if cast is None else [affine, cast]
    casts = [] if cast is None else [str(layer.result)]
    return steps, after, LayerPlan(layer.name, "scale", arith.name, True, casts, np.log2(bound))


def _activation_plan(
    layer: ActivationSpec, b: Bounds, last: bool, arith: Arithmetic = FLOAT64
) -> tuple[list[Step], Bounds, LayerPlan]:
    """relu (folded into a following unsigned saturating cast unless it gives the outputs: the
    cast alone returns -0.0 for small negative values) or linear, then the result cast."""
    t = layer.result
    if t.width > FLOAT32_EXACT_BITS and arith is FLOAT32:
        raise _NotExactError(f"layer {layer.name}: {t} is wider than float32 holds")
    steps: list[Step] = []
    if layer.kind == "relu":
        b = Bounds(b.frac, np.maximum(b.low, 0.0), np.maximum(b.high, 0.0))
        folded = not t.signed and t.saturation != "WRAP" and not last
        if not folded:
            steps.append(Relu())
    cast, after = _cast_step(b, t)
    if layer.kind == "relu" and not steps and cast is None:  # nothing would clamp at 0: keep relu
        steps.append(Relu())
    if cast is not None:
        steps.append(cast)
    casts = [] if cast is None else [str(t)]
    return steps, after, LayerPlan(layer.name, layer.kind, arith.name, True, casts)


def _sigmoid_plan(
    layer: SigmoidSpec, b: Bounds, arith: Arithmetic = FLOAT64
) -> tuple[list[Step], Bounds, LayerPlan]:
    table = np.asarray(layer.table, np.float64)  # float64 whatever the arithmetic: it is output
    n = len(table)
    per_unit = n // int(SIGMOID_INPUT_RANGE)  # n / 16: an integer (extract_network checks it)
    if float(np.max(b.magnitude)) * per_unit * 2.0**b.frac >= arith.limit:
        raise _refuse(arith, f"layer {layer.name}: sigmoid inputs too wide to index exactly")

    m = len(b.low)
    after = Bounds(fraction_bits(table), np.full(m, table.min()), np.full(m, table.max()))
    return [Table(table, per_unit)], after, LayerPlan(layer.name, "sigmoid", "table")


@functools.cache
def _blas_threads() -> Any:
    """threadpoolctl's controller of NumPy's BLAS, made once (0.03 ms a limit instead of 0.7)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _compile(
    spec: NetworkSpec, bounds: Bounds, arith: Arithmetic
) -> tuple[list[Step], list[LayerPlan], int]:
    """Exact steps of ``spec`` for inputs within ``bounds``, their plans and the output count."""
    all_steps: list[Step] = []
    plans: list[LayerPlan] = []
    for k, layer in enumerate(spec.layers):
        if isinstance(layer, DenseSpec):
            steps, bounds, plan = _dense_plan(layer, bounds, arith)
        elif isinstance(layer, ScaleSpec):
            steps, bounds, plan = _scale_plan(layer, bounds, arith)
        elif isinstance(layer, ActivationSpec):
            last = k == len(spec.layers) - 1
            steps, bounds, plan = _activation_plan(layer, bounds, last, arith)
        else:
            steps, bounds, plan = _sigmoid_plan(layer, bounds, arith)
        all_steps += steps
        plans.append(plan)
    return all_steps, plans, len(bounds.low)


def _float32_plan(spec: NetworkSpec) -> tuple[float, list[Step], list[LayerPlan]] | None:
    """The widest input box [-2**m, 2**m] in which the whole network is exact in float32.

    Returns (2**m, steps, plans), or None when no box of at least one input LSB works.
    """
    t = spec.input_type
    if t.width > FLOAT32_EXACT_BITS:
        return None
    top = max(abs(t.low), abs(t.high))
    limit = 2.0 ** int(np.ceil(np.log2(top))) if top > 0 else 0.0
    while limit >= 2.0**-t.fractional:
        low, high = max(t.low, -limit), min(t.high, limit)
        box = Bounds(t.fractional, np.full(spec.n_inputs, low), np.full(spec.n_inputs, high))
        try:
            steps, plans, _ = _compile(spec, box, FLOAT32)
        except _NotExactError:
            limit /= 2
            continue
        return limit, steps, plans
    return None


class Emulator:
    """A :class:`NetworkSpec` compiled into exact array steps; call :meth:`run` on inputs.

    Two compilations of the same layers: float64 (int64 where needed) for any input of the input
    type, and float32 for the blocks whose inputs all lie within ``float32_input_limit`` in
    magnitude, a box derived from the same bounds analysis so that every sum there fits 24 bits.
    Each runs in the Numba kernel of :mod:`~qdistill.firmware.emulate_steps` when all its steps
    have an encoding (``compiled``), else as NumPy steps; ``compiled=False`` forces NumPy.
    ``block`` is the NumPy steps' particles at a time (the kernel's is ``KERNEL_BLOCK``).
    """

    def __init__(
        self, spec: NetworkSpec, block: int = DEFAULT_BLOCK, compiled: bool = True
    ) -> None:
        if block < 1:
            raise QdistillError(f"block must be a positive number of particles, not {block}")
        self.spec = spec
        self.block = block
        bounds = _type_bounds(spec.input_type, spec.n_inputs)
        self._steps, self.plans, self.n_outputs = _compile(spec, bounds, FLOAT64)
        fast = _float32_plan(spec)
        self.float32_input_limit: float | None = None if fast is None else fast[0]
        self._fast_steps: list[Step] = [] if fast is None else fast[1]
        self.float32_plans: list[LayerPlan] = [] if fast is None else fast[2]
        n_in, t = spec.n_inputs, spec.input_type
        self._program = compile_program(self._steps, t, n_in, np.float64) if compiled else None
        self._fast_program = (
            compile_program(self._fast_steps, t, n_in, np.float32) if compiled and fast else None
        )
        self.float32_particles = 0  # particles the last run() evaluated in float32

    @property
    def dense_paths(self) -> list[str]:
        """The arithmetic (float64 or int64) chosen for each dense layer, in order."""
        return [p.path for p in self.plans if p.kind == "dense"]

    @property
    def compiled(self) -> list[str]:
        """The plans that run in the Numba kernel: ``float32``, ``float64``, both or none."""
        programs = (("float32", self._fast_program), ("float64", self._program))
        return [name for name, program in programs if program is not None]

    def run(self, inputs: NDArray[np.floating]) -> NDArray[np.float64]:
        """Outputs (n, n_outputs) float64 for inputs (n, n_inputs).

        Inputs are converted to the input type first, as the C simulation converts the doubles
        it is given; NaN or infinite inputs are refused.
        """
        x = np.asarray(inputs)
        if x.ndim != 2 or x.shape[1] != self.spec.n_inputs:
            raise QdistillError(
                f"emulator inputs have shape {x.shape}; expected (n, {self.spec.n_inputs})"
            )
        self.float32_particles = 0
        # one BLAS thread: the block matrices are too small for threads to pay (they cost 8x here)
        with _blas_threads().limit(limits=1, user_api="blas"):
            if self._fast_program is None:
                out = np.empty((len(x), self.n_outputs), dtype=np.float64)
                self._run_blocks(x, out)
                return out
            assert self.float32_input_limit is not None
            out, rest = self._run_program(self._fast_program, x, self.float32_input_limit)
            self.float32_particles = len(x) - int(np.count_nonzero(rest))
            if self.float32_particles < len(x):
                if self._program is not None:
                    out[rest] = self._run_program(self._program, x[rest], np.inf)[0]
                else:
                    self._run_blocks(x[rest], out, rest)
        return out

    @staticmethod
    def _run_program(
        program: Any, x: NDArray[np.floating], limit: float
    ) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
        try:
            return run_program(program, np.asarray(x, dtype=np.float64), limit)
        except ValueError as error:  # the kernel's one refusal: a non-finite input row
            raise QdistillError(
                f"emulator input {error}; the firmware needs finite inputs"
            ) from None

    def _run_blocks(
        self,
        x: NDArray[np.floating],
        out: NDArray[np.float64],
        rows: NDArray[np.bool_] | None = None,
    ) -> None:
        """NumPy steps on ``x``; results go to ``out`` (or to its ``rows`` when given)."""
        results = out if rows is None else np.empty((len(x), self.n_outputs))
        use_fast = self._fast_program is None  # else x holds only rows outside the float32 box
        for start in range(0, len(x), self.block):
            chunk = np.asarray(x[start : start + self.block], dtype=np.float64)
            if not np.isfinite(chunk).all():
                bad = start + int(np.flatnonzero(~np.isfinite(chunk).all(axis=1))[0])
                raise QdistillError(
                    f"emulator input row {bad} is NaN or infinite; the firmware needs finite inputs"
                )
            y = cast_values(chunk, self.spec.input_type)
            steps = self._steps
            limit = self.float32_input_limit
            if use_fast and limit is not None and len(y) and float(np.max(np.abs(y))) <= limit:
                y = y.astype(np.float32)  # exact: the input type is at most 24 bits wide
                steps = self._fast_steps
                self.float32_particles += len(y)
            for step in steps:
                y = step(y)
            results[start : start + len(chunk)] = y
        if rows is not None:
            out[rows] = results


def emulate_network(
    spec: NetworkSpec, inputs: NDArray[np.floating], block: int = DEFAULT_BLOCK
) -> NDArray[np.float64]:
    """Bit-exact outputs of ``spec`` (the C simulation's) for inputs (n, n_inputs) → (n, n_out)."""
    return Emulator(spec, block).run(inputs)


# --- projects ------------------------------------------------------------------------------------


def project_network(project: FirmwareProject) -> NetworkSpec:
    """The fixed-point network of a firmware project, from its hls4ml model (not compiled)."""
    from qdistill.firmware.hls4ml_compat import hls4ml_session

    project.hls_config()  # a clear error first when hls4ml_config.json is missing or bad
    hm = project.build_hls_model()
    with hls4ml_session():
        return extract_network(hm)


@dataclass
class ProjectEmulator:
    """A project's emulator with the project's own preprocessing and input quantizer."""

    project: FirmwareProject
    emulator: Emulator
    _preprocess: Any = field(default=None, repr=False)

    @classmethod
    def load(cls, project: FirmwareProject, block: int = DEFAULT_BLOCK) -> ProjectEmulator:
        """Extract the project's network and compile it (the hls4ml conversion takes seconds).

        The preprocessing is read first, so a project without one fails before the conversion.
        """
        from qdistill.student.preprocessing import Preprocessing

        preprocess = Preprocessing.load(project.path)
        return cls(project, Emulator(project_network(project), block), preprocess)

    def firmware_inputs(self, features: NDArray[np.floating]) -> NDArray[np.float64]:
        """Raw features (n, 16) → the firmware's inputs: preprocessing, then QKeras' quantizer."""
        from qdistill.firmware.reference import quantize_inputs
        from qdistill.student.preprocessing import Preprocessing

        x = np.asarray(features)
        if x.ndim == 2 and not np.isfinite(x).all():
            bad = int(np.flatnonzero(~np.isfinite(x).all(axis=1))[0])
            raise QdistillError(f"feature row {bad} is NaN or infinite; fix or drop the particle")
        if self._preprocess is None:
            self._preprocess = Preprocessing.load(self.project.path)
        if len(x) == 0:
            return np.zeros((0, self.emulator.spec.n_inputs))
        model, structure = self.project.keras_model(), self.project.structure()
        return quantize_inputs(model, structure, self._preprocess(x))

    def run_inputs(self, inputs: NDArray[np.floating]) -> NDArray[np.float64]:
        """Outputs (n,) for firmware inputs (n, 16) (already preprocessed and quantized)."""
        return self.emulator.run(inputs).reshape(len(inputs), -1)[:, 0]

    def run_features(self, features: NDArray[np.floating]) -> NDArray[np.float64]:
        """Outputs (n,) for raw features (n, 16): preprocessing, input quantizer, emulator."""
        return self.run_inputs(self.firmware_inputs(features))


@dataclass
class GoldenCheck:
    """The emulator on a project's golden inputs; ``to_json()`` is ``qdistill emulate --json``."""

    project: str
    particles: int
    golden_exact: int
    golden_match: bool
    seconds: float
    particles_per_second: float
    dense_paths: list[str]
    compiled_plans: list[str]  # the plans (float32, float64) that run in the Numba kernel
    float32_input_limit: float | None  # blocks with every |input| <= this run in float32
    mismatches: list[dict[str, float]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def check_golden(emulator: ProjectEmulator) -> GoldenCheck:
    """Run the golden inputs through ``emulator``; count outputs bit-identical to the golden ones.

    The speed is measured on the golden inputs repeated to at least 100,000 particles.
    """
    project = emulator.project
    inputs, expected = project.golden_inputs(), project.golden_outputs()
    if len(inputs) != len(expected):
        raise QdistillError(
            f"{project.path}: {len(inputs)} golden inputs but {len(expected)} golden outputs; "
            "rerun `qdistill convert`"
        )
    outputs = emulator.run_inputs(inputs)
    same = outputs == expected
    bad = np.flatnonzero(~same)[:MAX_REPORTED_MISMATCHES]
    mismatches = [
        {"index": int(i), "emulator": float(outputs[i]), "golden": float(expected[i])} for i in bad
    ]
    repeated = np.tile(inputs, (max(1, -(-100_000 // max(1, len(inputs)))), 1))
    t0 = time.perf_counter()
    emulator.run_inputs(repeated)
    seconds = time.perf_counter() - t0
    n = len(inputs)
    return GoldenCheck(
        project=str(project.path),
        particles=n,
        golden_exact=int(np.sum(same)),
        golden_match=bool(np.all(same)),
        seconds=round(seconds, 4),
        particles_per_second=round(len(repeated) / seconds, 1) if seconds > 0 else 0.0,
        dense_paths=emulator.emulator.dense_paths,
        compiled_plans=emulator.emulator.compiled,
        float32_input_limit=emulator.emulator.float32_input_limit,
        mismatches=mismatches,
    )


# --- event files ---------------------------------------------------------------------------------

WEIGHTS_LAYOUT: Final[str] = "qdistill-firmware-weights"
WEIGHTS_LAYOUT_VERSION: Final[int] = 1
WEIGHTS_DATASET: Final[str] = "particles/firmware_weight"
#: Particles read, preprocessed, quantized and emulated at a time for an event file.
FILE_BLOCK: Final[int] = 1 << 18


@dataclass
class FileRun:
    """``qdistill emulate --data``: the firmware outputs of every particle of an event file.

    ``emulate_seconds`` counts the emulator alone; ``total_seconds`` also reading, preprocessing,
    the QKeras input quantizer and writing.
    """

    data: str
    output: str | None
    events: int
    particles: int
    emulate_seconds: float
    total_seconds: float
    particles_per_second: float  # emulator alone
    end_to_end_particles_per_second: float
    float32_particles: int  # evaluated on the float32 path (the rest in float64/int64)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def emulate_file(
    emulator: ProjectEmulator,
    data: str | os.PathLike[str],
    output: str | os.PathLike[str] | None = None,
    *,
    block: int = FILE_BLOCK,
    progress: bool = True,
) -> FileRun:
    """Firmware outputs of every particle of the event file ``data``, written to ``output``.

    ``output`` (HDF5, written atomically: nothing is left behind on an error) holds
    ``/particles/firmware_weight`` (n_particles,) float64 in file order and
    ``/events/n_particles`` to split it into events. NaN or infinite features stop the run with
    the offending particle's index.
    """
    import h5py

    from qdistill.atomic import atomic_path
    from qdistill.data.layout import EventFile
    from qdistill.progress import progress_bar

    data = Path(data)
    if output is not None and Path(output).resolve() == data.resolve():
        raise QdistillError(f"-o {output} would overwrite the event file; choose another path")
    t_start = time.perf_counter()
    emulate_seconds = 0.0
    float32_particles = 0
    with EventFile(data) as events, contextlib.ExitStack() as stack:
        n = events.n_particles
        dataset: Any = None
        if output is not None:
            out = stack.enter_context(h5py.File(stack.enter_context(atomic_path(output)), "w"))
            dataset = _weights_dataset(out, emulator, data, np.diff(events.offsets))
        bar = stack.enter_context(progress_bar(enabled=progress, with_loss=False, unit="particles"))
        task = bar.add_task(f"emulating {data.name}", total=n)
        for start in range(0, n, block):
            features = events.particles("features", start, min(start + block, n))
            finite = np.isfinite(features).all(axis=1)
            if not finite.all():
                bad = start + int(np.flatnonzero(~finite)[0])
                raise QdistillError(
                    f"{data}: particle {bad} has NaN or infinite features; fix or regenerate "
                    "the file"
                )
            inputs = emulator.firmware_inputs(features)
            t0 = time.perf_counter()
            weights = emulator.run_inputs(inputs)
            emulate_seconds += time.perf_counter() - t0
            float32_particles += emulator.emulator.float32_particles
            if dataset is not None:
                dataset[start : start + len(weights)] = weights
            bar.advance(task, len(weights))
        n_events = events.n_events
    total = time.perf_counter() - t_start
    return FileRun(
        data=str(data),
        output=None if output is None else str(output),
        events=n_events,
        particles=n,
        emulate_seconds=round(emulate_seconds, 4),
        total_seconds=round(total, 3),
        particles_per_second=round(n / emulate_seconds, 1) if emulate_seconds > 0 else 0.0,
        end_to_end_particles_per_second=round(n / total, 1) if total > 0 else 0.0,
        float32_particles=float32_particles,
    )


def _weights_dataset(
    out: Any, emulator: ProjectEmulator, data: Path, particles_per_event: NDArray[np.int64]
) -> Any:
    """Lay out an open HDF5 weights file; return its (empty) per-particle weight dataset."""
    n = int(particles_per_event.sum())
    out.attrs.update(
        {
            "layout": WEIGHTS_LAYOUT,
            "layout_version": WEIGHTS_LAYOUT_VERSION,
            "project": str(emulator.project.path),
            "data": str(data),
            "output_type": emulator.project.meta.output_type,
        }
    )
    out.create_dataset("events/n_particles", data=particles_per_event)
    return out.create_dataset(
        WEIGHTS_DATASET,
        shape=(n,),
        dtype="f8",
        chunks=(min(max(n, 1), 1 << 16),),
        compression="gzip",
        shuffle=True,
    )


def read_weights(path: str | os.PathLike[str]) -> NDArray[np.float64]:
    """Per-particle firmware weights (n_particles,) of a file written by :func:`emulate_file`."""
    import h5py

    path = Path(path)
    if not path.is_file():
        raise QdistillError(f"{path}: no such file (write one with `qdistill emulate --data`)")
    with h5py.File(path, "r") as f:
        if f.attrs.get("layout") != WEIGHTS_LAYOUT:
            raise QdistillError(f"{path}: not a {WEIGHTS_LAYOUT} file")
        return np.asarray(f[WEIGHTS_DATASET][:], dtype=np.float64)
