"""The QKeras reference the C simulation is checked against, with hls4ml's sigmoid table emulated.

The firmware computes the logit (the last dense layer's output) exactly as QKeras does, then looks
the sigmoid up in a table. QKeras' own float sigmoid differs from that table by up to a couple of
output LSBs, so the reference here is: QKeras' logits, then a bit-exact NumPy emulation of
``nnet::sigmoid`` from hls4ml 1.3.0 (``templates/vivado/nnet_utils/nnet_activation.h``)::

    table[i] = table_t(1.0 / (1 + std::exp(-(float)(16.0 * (i - N/2.0) / N))))    // float exp
    index    = clamp((int)(x * N / 16) + 8 * N / 16, 0, N - 1)   // ap_fixed → int truncates to 0
    y        = result_t(table[index])

``std::exp`` on a ``float`` is glibc's ``expf``; NumPy's float64 ``exp`` rounded to float32 gives
the correctly rounded value, which ``expf`` (error < 0.502 ULP) returns except in rare ties, and a
one-ULP float difference changes the stored table entry only if it crosses a table-type LSB.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from qdistill.firmware.config import ModelStructure
from qdistill.firmware.fixed import quantize


def sigmoid_table(table_size: int, table_t: Any) -> npt.NDArray[np.float64]:
    """hls4ml's sigmoid table: ``table_size`` entries of ``table_t`` over inputs [-8, 8)."""
    i = np.arange(table_size, dtype=np.float64)
    x = (2 * 8.0 * (i - table_size / 2.0) / table_size).astype(np.float32)
    e = np.exp(-x.astype(np.float64)).astype(np.float32)  # expf
    denominator = (np.float32(1.0) + e).astype(np.float32)  # float addition
    value = 1.0 / denominator.astype(np.float64)  # 1.0 is a double: double division
    return quantize(value, table_t)


def hls_sigmoid(
    logits: npt.ArrayLike, table_size: int, table_t: Any, result_t: Any
) -> npt.NDArray[np.float64]:
    """Emulate ``nnet::sigmoid`` on exact fixed-point ``logits`` (any shape) → ``result_t`` values.

    ``data * N / 16`` is exact in ``ap_fixed`` when N/16 is a power of two (hls4ml's tables are);
    the conversion to ``int`` truncates towards zero like a C cast.
    """
    if table_size % 16 or (table_size // 16) & (table_size // 16 - 1):
        raise ValueError(f"sigmoid table size {table_size} is not 16 times a power of two")
    x = np.asarray(logits, dtype=np.float64)
    index = np.trunc(x * (table_size // 16)).astype(np.int64) + 8 * table_size // 16
    index = np.clip(index, 0, table_size - 1)
    return quantize(sigmoid_table(table_size, table_t)[index], result_t)


def qkeras_logits(model: Any, structure: ModelStructure, inputs: npt.ArrayLike) -> np.ndarray:
    """QKeras' logits (``structure.logit_layer``'s output) for ``inputs`` (n, 16) → (n,)."""
    from qdistill.keras_backend import import_keras

    keras = import_keras()
    sub = keras.Model(model.inputs, model.get_layer(structure.logit_layer).output)
    x = np.asarray(inputs, dtype=np.float32)
    return np.asarray(sub.predict(x, batch_size=4096, verbose=0), dtype=np.float64).reshape(-1)


def qkeras_outputs(model: Any, inputs: npt.ArrayLike) -> np.ndarray:
    """QKeras' own outputs (float sigmoid) for ``inputs`` (n, 16) → (n,) float64."""
    x = np.asarray(inputs, dtype=np.float32)
    return np.asarray(model.predict(x, batch_size=4096, verbose=0), dtype=np.float64).reshape(-1)


def quantize_inputs(model: Any, structure: ModelStructure, inputs: npt.ArrayLike) -> np.ndarray:
    """Apply the model's input quantizer (QKeras itself) to preprocessed inputs (n, 16) → float64.

    These are the exact fixed-point values the firmware receives.
    """
    from qdistill.keras_backend import import_keras

    keras = import_keras()
    sub = keras.Model(model.inputs, model.get_layer(structure.input_quantizer).output)
    x = np.asarray(inputs, dtype=np.float32)
    return np.asarray(sub.predict(x, batch_size=4096, verbose=0), dtype=np.float64)
