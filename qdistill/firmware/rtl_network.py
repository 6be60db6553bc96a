"""The fixed-point network of an hls4ml project, read from its ModelGraph and traced with da4ml.

:func:`extract_network` reads every layer's constants and types from the hls4ml ``ModelGraph``
(after hls4ml's own precision passes, so ``bit_exact=True`` types are the ones used), producing a
plain :class:`NetworkSpec`. :func:`trace_network` replays the C simulation's arithmetic on da4ml
symbolic fixed-point variables (its functional tracing API) and returns da4ml ``CombLogic``, from
which da4ml writes pipelined Verilog. The arithmetic follows hls4ml 1.3.0's
``nnet_dense_latency.h``, ``nnet_batchnorm.h`` and ``nnet_activation.h`` (see docs/rtl.md).
"""

from __future__ import annotations

import ctypes
import ctypes.util
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from qdistill.errors import QdistillError
from qdistill.firmware.rtl_fixed import FixedType, cast_traced, cast_values

SIGMOID_INPUT_RANGE = 16.0  # hls4ml's sigmoid table spans [-8, 8): index = x * N / 16 + N / 2


@dataclass
class DenseSpec:
    """``res = (result_t)(sum_i (accum_t)(x_i * w_ij) + (accum_t) b_j)``, weights (n_in, n_out)."""

    name: str
    weights: NDArray[np.float64]
    bias: NDArray[np.float64]
    accum: FixedType
    result: FixedType


@dataclass
class ScaleSpec:
    """hls4ml BatchNormalization (also ApplyAlpha): ``res = (result_t)(x * scale + bias)``."""

    name: str
    scale: NDArray[np.float64]
    bias: NDArray[np.float64]
    result: FixedType


@dataclass
class ActivationSpec:
    """Element-wise ``relu`` or ``linear``, then the conversion to ``result``."""

    name: str
    kind: str
    result: FixedType


@dataclass
class SigmoidSpec:
    """hls4ml's sigmoid table: ``table[clamp(int(x * N / 16) + N / 2, 0, N - 1)]``.

    ``table`` holds the N entries already converted to ``table_t`` and then to ``result_t``.
    """

    name: str
    table: NDArray[np.float64]
    result: FixedType


LayerSpec = DenseSpec | ScaleSpec | ActivationSpec | SigmoidSpec


@dataclass
class NetworkSpec:
    """A chain of layers from ``n_inputs`` inputs of type ``input_type``."""

    n_inputs: int
    input_type: FixedType
    layers: list[LayerSpec] = field(default_factory=list)

    @property
    def n_outputs(self) -> int:
        for layer in reversed(self.layers):
            if isinstance(layer, DenseSpec):
                return int(layer.weights.shape[1])
        return self.n_inputs

    def with_weight(self, layer_index: int, i: int, j: int, value: float) -> NetworkSpec:
        """A copy with one dense weight replaced (used to show that a test can fail)."""
        layers = list(self.layers)
        dense = layers[layer_index]
        if not isinstance(dense, DenseSpec):
            raise QdistillError(f"layer {layer_index} ({dense.name}) is not a dense layer")
        weights = dense.weights.copy()
        weights[i, j] = value
        layers[layer_index] = replace(dense, weights=weights)
        return replace(self, layers=layers)


def _type_of(layer: Any, attr: str) -> FixedType:
    named = layer.get_attr(attr)
    if named is None:
        raise QdistillError(f"layer {layer.name}: hls4ml graph has no {attr}")
    return FixedType.from_hls(named.precision, f"layer {layer.name} {attr}")


def _result_type(layer: Any) -> FixedType:
    return FixedType.from_hls(layer.get_output_variable().type.precision, f"layer {layer.name}")


def _weight_values(layer: Any, name: str) -> NDArray[np.float64]:
    """A weight array as the C simulation holds it: printed by hls4ml, read back, converted."""
    var = layer.weights[name]
    t = FixedType.from_hls(var.type.precision, f"layer {layer.name} {name}")
    if getattr(var, "precision_fmt", ""):
        printed = np.array([float(s) for s in var], dtype=np.float64)  # the text hls4ml writes
    else:  # no print format (should not happen after conversion): the values themselves
        printed = np.asarray(var.data, dtype=np.float64).ravel()
    return cast_values(printed.reshape(var.data.shape), t)


def _libm_expf() -> Any:
    """glibc's ``expf``: what ``std::exp(float)`` calls in the C simulation, for an exact table."""
    name = ctypes.util.find_library("m")
    if name is None:
        return None
    fn = ctypes.CDLL(name).expf
    fn.restype, fn.argtypes = ctypes.c_float, [ctypes.c_float]
    return fn


def sigmoid_table(table_size: int, table_t: FixedType, result_t: FixedType) -> NDArray[np.float64]:
    """The N table entries of hls4ml's ``init_sigmoid_table`` as ``result_t`` values.

    Mirrors the C code's float arithmetic: ``in_val`` in float, ``std::exp`` in float,
    ``1 + exp`` in float, ``1.0 / (...)`` in double, returned as float, then ``table_t``.
    """
    ii = np.arange(table_size, dtype=np.float64)
    in_val = (2 * 8.0 * (ii - table_size / 2.0) / table_size).astype(np.float32)
    expf = _libm_expf()
    if expf is not None:
        exp = np.array([expf(float(-x)) for x in in_val], dtype=np.float32)
    else:  # no libm found: NumPy's float32 exp (may differ from glibc in the last ulp)
        exp = np.exp(-in_val)
    denominator = (np.float32(1) + exp).astype(np.float32)
    value = (1.0 / denominator.astype(np.float64)).astype(np.float32).astype(np.float64)
    return cast_values(cast_values(value, table_t), result_t)


def extract_network(hls_model: Any) -> NetworkSpec:
    """Read an hls4ml ``ModelGraph`` (io_parallel, a chain of supported layers) into a spec."""
    layers = list(hls_model.get_layers())
    if not layers or layers[0].class_name != "Input":
        raise QdistillError("the hls4ml model does not start with an Input layer")
    first = layers[0]
    n_inputs = int(np.prod(first.get_output_variable().shape))
    spec = NetworkSpec(n_inputs=n_inputs, input_type=_result_type(first))
    previous = first.name
    for layer in layers[1:]:
        if list(layer.inputs) != [previous]:
            raise QdistillError(
                f"layer {layer.name} does not follow {previous}: only a chain of layers is "
                "supported for RTL"
            )
        previous = layer.name
        spec.layers.append(_layer_spec(layer))
    return spec


def _layer_spec(layer: Any) -> LayerSpec:
    cls = layer.class_name
    if cls == "Dense":
        if layer.get_attr("activation", "linear") not in ("linear", None):
            raise QdistillError(f"layer {layer.name}: fused dense activation is not supported")
        accum = _type_of(layer, "accum_t")
        if accum.saturation != "WRAP":
            raise QdistillError(
                f"layer {layer.name}: accum_t {accum} saturates; its partial sums would depend on "
                "the addition order, so only WRAP accumulators are supported for RTL"
            )
        weights = _weight_values(layer, "weight")
        n_in, n_out = int(layer.get_attr("n_in")), int(layer.get_attr("n_out"))
        bias = _weight_values(layer, "bias").reshape(n_out)
        return DenseSpec(
            name=layer.name,
            weights=weights.reshape(n_in, n_out),
            bias=cast_values(bias, accum),
            accum=accum,
            result=_result_type(layer),
        )
    if cls in ("BatchNormalization", "ApplyAlpha"):
        return ScaleSpec(
            name=layer.name,
            scale=_weight_values(layer, "scale").ravel(),
            bias=_weight_values(layer, "bias").ravel(),
            result=_result_type(layer),
        )
    if cls in ("Activation", "ReLU", "QActivation"):
        kind = str(layer.get_attr("activation", "")).lower()
        if kind in ("relu", "linear"):
            return ActivationSpec(name=layer.name, kind=kind, result=_result_type(layer))
        if kind == "sigmoid":
            table_size = int(layer.get_attr("table_size"))
            if table_size % 16:
                raise QdistillError(
                    f"layer {layer.name}: sigmoid table_size {table_size} is not a multiple of 16"
                )
            table = sigmoid_table(table_size, _type_of(layer, "table_t"), _result_type(layer))
            return SigmoidSpec(name=layer.name, table=table, result=_result_type(layer))
        raise QdistillError(
            f"layer {layer.name}: activation {kind!r} is not supported for RTL "
            "(supported: relu, linear, sigmoid)"
        )
    raise QdistillError(
        f"layer {layer.name}: hls4ml layer class {cls} is not supported for RTL "
        "(supported: Dense, BatchNormalization, ApplyAlpha, Activation relu/linear/sigmoid)"
    )


# --- tracing -------------------------------------------------------------------------------------


def _dense(x: list[Any], spec: DenseSpec, fva: Any, solver_options: dict[str, Any]) -> list[Any]:
    n_in, n_out = spec.weights.shape
    f_data = max(v.kif[2] for v in x)
    f_weight = max((-int(np.log2(_lsb(w))) for w in spec.weights.ravel() if w != 0), default=0)
    if f_data + f_weight <= spec.accum.fractional:
        # Every product is exact in accum_t and the WRAP sum is modular, so one exact constant
        # matrix-vector product (da4ml's adder-graph optimisation) equals the C loop.
        sums = fva(np.array(x, dtype=object), solver_options) @ spec.weights
        acc = [sums[j] + float(spec.bias[j]) for j in range(n_out)]
    else:  # products lose bits in accum_t: truncate each, as the C loop does
        acc = []
        for j in range(n_out):
            total: Any = float(spec.bias[j])
            for i in range(n_in):
                w = float(spec.weights[i, j])
                if w != 0.0:
                    total = cast_traced(x[i] * w, spec.accum) + total
            acc.append(total)
    acc = [_as_variable(a, x[0]) for a in acc]
    return [cast_traced(cast_traced(a, spec.accum), spec.result) for a in acc]


def _lsb(w: float) -> float:
    """The weight of the lowest set bit of a dyadic number."""
    m, e = np.frexp(abs(w))
    bits = 0
    while m != int(m):
        m *= 2
        bits += 1
    return 2.0 ** (e - bits)


def _as_variable(value: Any, like: Any) -> Any:
    if hasattr(value, "kif"):
        return value
    return like.from_const(float(value), hwconf=like.hwconf)


def _sigmoid(v: Any, spec: SigmoidSpec) -> Any:
    n = len(spec.table)
    half = n // 2
    y = v * (n / SIGMOID_INPUT_RANGE)
    k, i, f = y.kif
    if f > 0:  # C's float-to-int conversion truncates toward zero
        if y.low < 0:
            y = y.msb_mux(y + (1.0 - 2.0**-f), y)
        k, i, _ = y.kif
        y = y.quantize(k, i, 0, "WRAP", "TRN")
    lo, hi = _trimmed_index_range(spec.table)
    if y.low < lo - half:
        y = y.max_of(float(lo - half))
    if y.high > hi - half:
        y = y.min_of(float(hi - half))
    if y.low == y.high:
        return y.from_const(float(spec.table[int(y.low) + half]), hwconf=y.hwconf)
    keys = np.arange(int(y.low), int(y.high) + 1, int(y.step))
    return y.lookup(spec.table[keys + half].copy())


def _trimmed_index_range(table: NDArray[np.float64]) -> tuple[int, int]:
    """The narrowest [lo, hi] such that clamping the index to it changes no table output."""
    n = len(table)
    lo = 0
    while lo + 1 < n and table[lo + 1] == table[0]:
        lo += 1
    hi = n - 1
    while hi - 1 > lo and table[hi - 1] == table[n - 1]:
        hi -= 1
    return lo, hi


def trace_network(spec: NetworkSpec, latency_cutoff: float) -> Any:
    """Trace ``spec`` with da4ml into its ``CombLogic`` (``latency_cutoff`` in adder levels)."""
    from da4ml.trace import FixedVariableArray, HWConfig, comb_trace

    hwconf = HWConfig(1, -1, latency_cutoff)
    solver_options: dict[str, Any] = {}
    k, i, f = spec.input_type.kif
    shape = (spec.n_inputs,)
    inp = FixedVariableArray.from_kif(
        np.full(shape, k), np.full(shape, i), np.full(shape, f), hwconf, 0.0, solver_options
    )
    x = [inp[j] for j in range(spec.n_inputs)]
    for layer in spec.layers:
        if isinstance(layer, DenseSpec):
            x = _dense(x, layer, FixedVariableArray, solver_options)
        elif isinstance(layer, ScaleSpec):
            x = [
                cast_traced(_as_variable(v * float(s) + float(b), v), layer.result)
                for v, s, b in zip(x, layer.scale, layer.bias, strict=True)
            ]
        elif isinstance(layer, ActivationSpec):
            if layer.kind == "relu":
                x = [v.relu() for v in x]
            x = [cast_traced(v, layer.result) for v in x]
        else:
            x = [_sigmoid(v, layer) for v in x]
    return comb_trace(inp, FixedVariableArray(np.array(x, dtype=object), solver_options))


def emulate(spec: NetworkSpec, inputs: NDArray[np.floating], latency_cutoff: float) -> Any:
    """Bit-exact software run of the traced logic (da4ml's interpreter), shape (n, n_outputs)."""
    comb = trace_network(spec, latency_cutoff)
    return comb.predict(np.ascontiguousarray(inputs, dtype=np.float64))
