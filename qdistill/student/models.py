"""The two students (paper, section 2) as Keras 2 (tf-keras) models, and their pruning helpers.

DistillNet (float, CPU):
    16 → Dense(128) → ReLU → Dense(64) → ReLU → BatchNormalization → Dense(1) → sigmoid
    (10,753 parameters, 10,625 of them trainable).

QDistillNet (QKeras, FPGA), built for training:
    16 → QActivation(quantized_bits(16, 4, alpha=1))      the FPGA input type ap_fixed<16,5>
       → QDense(64) → QActivation(quantized_relu(activation_bits, relu_integer_bits))
       → QDense(32) → QActivation(quantized_relu(activation_bits, relu_integer_bits))
       → BatchNormalization → QDense(1) → Activation("sigmoid")
with kernels and biases quantized_bits(weight_bits, 0, alpha=1) (both widths 8 by default). hls4ml
1.3's Keras-2 converter has no handler for QKeras' QDenseBatchnorm, and a separate
BatchNormalization layer would be a float scale-and-shift with its own precision in the firmware;
so after training :func:`fold_batchnorm` folds the batch norm into the output QDense (BN sits
between a ReLU and that Dense, so the fold is exact: W′ = diag(s)·W, b′ = b + t·W with s = γ/√(σ² +
ε), t = β − μ·s), and the output layer is fine-tuned quantization-aware with the folded weights.
The deployed model has QKeras layers only, plus the final float sigmoid (a table in hls4ml).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any, Final

import numpy as np

from qdistill.features import N_FEATURES
from qdistill.keras_backend import keras, qkeras, tfmot
from qdistill.student.config import (
    DEFAULT_BITS,
    DEFAULT_HIDDEN,
    DEFAULT_RELU_INTEGER_BITS,
    ModelSpec,
)
from qdistill.student.preprocessing import INPUT_BITS, INPUT_INTEGER_BITS

BN_NAME: Final[str] = "batchnorm"
#: Batch-norm moving-average momentum: 0.9, PyTorch's default (momentum 0.1 in its convention),
#: which the reference DistillNet code used; Keras' 0.99 lags far behind on short trainings.
BN_MOMENTUM: Final[float] = 0.9
OUTPUT_DENSE: Final[str] = "output_dense"
INPUT_QUANT: Final[str] = "input_quant"


def hidden_dense_name(i: int) -> str:
    """Name of the i-th hidden dense layer (0-based)."""
    return f"dense{i + 1}"


def weight_quantizer(bits: int, integer: int = 0) -> Any:
    """Kernel/bias quantizer: ``bits`` total with ``integer`` integer bits besides the sign."""
    return qkeras.quantized_bits(bits, integer, alpha=1)


def input_quantizer(bits: int = INPUT_BITS) -> Any:
    """The quantizer defining the FPGA input type (see :mod:`qdistill.student.preprocessing`)."""
    return qkeras.quantized_bits(bits, INPUT_INTEGER_BITS, alpha=1)


def build_distillnet(
    hidden: Sequence[int] = DEFAULT_HIDDEN["distillnet"], batchnorm: bool = True
) -> Any:
    """DistillNet, float: Dense → ReLU per hidden layer, BatchNormalization, Dense(1), sigmoid."""
    inputs = keras.Input(shape=(N_FEATURES,), name="inputs")
    x = inputs
    for i, size in enumerate(hidden):
        x = keras.layers.Dense(size, name=hidden_dense_name(i))(x)
        x = keras.layers.Activation("relu", name=f"relu{i + 1}")(x)
    if batchnorm:
        x = keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name=BN_NAME)(x)
    x = keras.layers.Dense(1, name=OUTPUT_DENSE)(x)
    outputs = keras.layers.Activation("sigmoid", name="sigmoid")(x)
    return keras.Model(inputs, outputs, name="distillnet")


def build_qdistillnet(
    hidden: Sequence[int] = DEFAULT_HIDDEN["qdistillnet"],
    bits: int = DEFAULT_BITS,
    relu_integer_bits: int = DEFAULT_RELU_INTEGER_BITS,
    batchnorm: bool = True,
    output_integer_bits: tuple[int, int] = (0, 0),
    activation_bits: int | None = None,
    input_bits: int = INPUT_BITS,
) -> Any:
    """QDistillNet; ``batchnorm=False`` builds the deployed (folded) form.

    ``bits`` is the width of kernels and biases, and of the ReLU outputs unless
    ``activation_bits`` is given; ``input_bits`` is the width of the FPGA input type.
    ``output_integer_bits`` = (kernel, bias) integer bits of the
    output QDense (the folded batch norm can scale its weights beyond ±1).
    """
    relu_bits = bits if activation_bits is None else activation_bits
    inputs = keras.Input(shape=(N_FEATURES,), name="inputs")
    x = qkeras.QActivation(input_quantizer(input_bits), name=INPUT_QUANT)(inputs)
    for i, size in enumerate(hidden):
        x = qkeras.QDense(
            size,
            kernel_quantizer=weight_quantizer(bits),
            bias_quantizer=weight_quantizer(bits),
            name=hidden_dense_name(i),
        )(x)
        relu = qkeras.quantized_relu(relu_bits, relu_integer_bits)
        x = qkeras.QActivation(relu, name=f"relu{i + 1}")(x)
    if batchnorm:
        x = keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name=BN_NAME)(x)
    k_int, b_int = output_integer_bits
    x = qkeras.QDense(
        1,
        kernel_quantizer=weight_quantizer(bits, k_int),
        bias_quantizer=weight_quantizer(bits, b_int),
        name=OUTPUT_DENSE,
    )(x)
    outputs = keras.layers.Activation("sigmoid", name="sigmoid")(x)
    return keras.Model(inputs, outputs, name="qdistillnet")


def build(spec: ModelSpec) -> Any:
    """The training-time model of ``spec`` (unpruned, with batch norm unless switched off)."""
    if spec.quantized:
        return build_qdistillnet(
            spec.hidden,
            spec.weight_width,
            spec.relu_integer_bits,
            spec.batchnorm,
            activation_bits=spec.activation_width,
            input_bits=spec.input_bits,
        )
    return build_distillnet(spec.hidden, spec.batchnorm)


def n_parameters(hidden: Sequence[int], batchnorm: bool = True) -> int:
    """Parameter count of a 16 → hidden… → 1 student (batch norm: 4 numbers a channel)."""
    sizes = [N_FEATURES, *hidden, 1]
    dense = sum(a * b + b for a, b in itertools.pairwise(sizes))
    return dense + (4 * hidden[-1] if batchnorm else 0)


# --- pruning -----------------------------------------------------------------------------------


def pruning_schedule(sparsity: float, total_steps: int) -> Any:
    """PolynomialDecay from 0 to ``sparsity``, from ~10 % to ~70 % of ``total_steps``.

    The first steps train dense (pruning random weights is pointless); the last ~30 % train at
    the final sparsity. ``end_step − begin_step`` is a multiple of the update frequency so that
    the last update lands exactly on the target sparsity.
    """
    frequency = max(1, min(100, total_steps // 20))
    begin = (int(0.1 * total_steps) // frequency) * frequency
    ramp = max(frequency, (int(0.6 * total_steps) // frequency) * frequency)
    return tfmot.sparsity.keras.PolynomialDecay(
        initial_sparsity=0.0,
        final_sparsity=sparsity,
        begin_step=begin,
        end_step=begin + ramp,
        power=3,
        frequency=frequency,
    )


def add_pruning(model: Any, sparsity: float, total_steps: int) -> Any:
    """Wrap the hidden dense layers with ``prune_low_magnitude`` (output layer left dense).

    The TF-MOT pattern: ``clone_model`` with a clone function that returns the layers themselves
    (sharing their weights with ``model``) or their pruning wrappers.
    """
    schedule = pruning_schedule(sparsity, total_steps)

    def wrap(layer: Any) -> Any:
        if layer.name.startswith("dense"):
            return tfmot.sparsity.keras.prune_low_magnitude(layer, pruning_schedule=schedule)
        return layer

    return keras.models.clone_model(model, clone_function=wrap)


def strip_pruning(model: Any) -> Any:
    """Remove the pruning wrappers, leaving the masked (zeroed) weights in plain layers."""
    return tfmot.sparsity.keras.strip_pruning(model)


def kernel_sparsity(model: Any) -> dict[str, float]:
    """Fraction of exactly-zero kernel entries of every dense layer, by layer name."""
    out = {}
    for layer in model.layers:
        kernel = getattr(layer, "kernel", None)
        if kernel is not None:
            k = np.asarray(kernel.numpy())
            out[layer.name] = float(np.mean(k == 0.0))
    return out


def hidden_sparsity(model: Any) -> float:
    """Overall zero fraction of all hidden-layer kernels together."""
    zeros = total = 0
    for layer in model.layers:
        if layer.name.startswith("dense") and getattr(layer, "kernel", None) is not None:
            k = np.asarray(layer.kernel.numpy())
            zeros += int(np.sum(k == 0.0))
            total += k.size
    return zeros / total if total else 0.0


# --- batch-norm folding ------------------------------------------------------------------------


def integer_bits_for(values: np.ndarray) -> int:
    """Smallest integer-bit count (besides the sign) so quantized_bits covers ``max|values|``."""
    peak = float(np.max(np.abs(values))) if values.size else 0.0
    return 0 if peak < 1.0 else math.floor(math.log2(peak)) + 1


def fold_batchnorm(model: Any, spec: ModelSpec) -> tuple[Any, tuple[int, int]]:
    """QDistillNet without its batch norm, folded into the output QDense (exact in float).

    Returns the new model (same weights elsewhere) and the (kernel, bias) integer bits chosen for
    the folded output layer.
    """
    bn = model.get_layer(BN_NAME)
    out = model.get_layer(OUTPUT_DENSE)
    gamma, beta, mean, var = (np.asarray(w, dtype=np.float64) for w in bn.get_weights())
    s = gamma / np.sqrt(var + bn.epsilon)
    t = beta - mean * s
    kernel, bias = (np.asarray(w, dtype=np.float64) for w in out.get_weights())
    folded_kernel = kernel * s[:, None]
    folded_bias = bias + t @ kernel
    int_bits = (integer_bits_for(folded_kernel), integer_bits_for(folded_bias))
    folded = build_qdistillnet(
        spec.hidden,
        spec.weight_width,
        spec.relu_integer_bits,
        batchnorm=False,
        output_integer_bits=int_bits,
        activation_bits=spec.activation_width,
        input_bits=spec.input_bits,
    )
    for layer in folded.layers:
        if layer.name == OUTPUT_DENSE:
            layer.set_weights([folded_kernel.astype(np.float32), folded_bias.astype(np.float32)])
        elif layer.get_weights():
            layer.set_weights(model.get_layer(layer.name).get_weights())
    return folded, int_bits
