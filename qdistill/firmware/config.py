"""The hls4ml configuration of a QDistillNet firmware project, derived from the QKeras model.

Fixed choices (the paper's implementation): ``io_parallel``, ``Latency`` strategy, reuse factor 1
(every multiplication in its own logic, a new particle every clock, II = 1).

Precisions (measured on hls4ml 1.3.0, see docs/firmware.md):

* weights, biases and the quantized ReLU outputs come from the QKeras quantizers
  (``config_from_keras_model(granularity="name")`` reads them);
* the model input gets the type of the model's input quantizer. hls4ml's default for the input
  layer is ``fixed<16,6>`` (truncating), which cuts the inputs *before* the QKeras input quantizer
  rounds them — the reason the default configuration agrees with QKeras on only ~60 % of inputs;
* the dense accumulators and outputs stay ``auto``: hls4ml's precision inference sizes them from
  the input and weight widths and the fan-in, so the sums are exact (they are then identical to
  QKeras' float32 logits, which are exact sums of dyadic numbers);
* the final sigmoid is hls4ml's lookup table (:data:`SIGMOID_TABLE_SIZE` entries over [-8, 8),
  one BRAM, as in the paper) and its output is :data:`OUTPUT_PRECISION`.

``bit_exact=True`` is not used: in hls4ml 1.3.0 it sizes the sigmoid table from the logit's
fractional bits (65,536 entries for this network) and sets the sigmoid output to a 127-bit
type, overriding any configured one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from qdistill.errors import QdistillError

IO_TYPE: Final[str] = "io_parallel"
STRATEGY: Final[str] = "Latency"
REUSE_FACTOR: Final[int] = 1
#: Name of the HLS top function and of the hls4ml project inside ``hls4ml_prj/``.
HLS_PROJECT_NAME: Final[str] = "qdistillnet"
#: The per-particle weight leaving the firmware: 8 bits in [0, 1), rounded, saturating at 255/256.
OUTPUT_PRECISION: Final[str] = "ufixed<8,0,RND,SAT>"
#: Entries of hls4ml's sigmoid table over [-8, 8) (hls4ml's default; fits one BRAM).
SIGMOID_TABLE_SIZE: Final[int] = 1024
#: ``--backend`` choices and hls4ml's backend names.
BACKENDS: Final[dict[str, str]] = {"vivado": "Vivado", "vitis": "Vitis"}


@dataclass(frozen=True)
class ModelStructure:
    """Names of the layers the firmware configuration and the reference refer to."""

    input_layer: str  # the Keras InputLayer
    input_quantizer: str  # the first layer: QActivation(quantized_bits)
    logit_layer: str  # the last dense layer, whose output feeds the sigmoid
    sigmoid_layer: str  # Activation("sigmoid"), the model output


def hls4ml_backend(backend: str) -> str:
    """hls4ml's name for ``backend`` (``vivado`` or ``vitis``); QdistillError otherwise."""
    if backend.lower() not in BACKENDS:
        raise QdistillError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    return BACKENDS[backend.lower()]


def model_structure(model: Any) -> ModelStructure:
    """Check that ``model`` is a QDistillNet-like QKeras model and name its key layers.

    Expected: InputLayer → QActivation(quantized_bits) → dense/activation layers → a last dense
    layer → Activation("sigmoid"). Raises QdistillError naming what differs.
    """
    layers = list(model.layers)
    names = [layer.name for layer in layers]
    if "input" in names:
        raise QdistillError(
            "the model has a layer named 'input', a name hls4ml reserves; "
            "rename it (e.g. 'features') when building the model and retrain or re-save it"
        )
    if len(layers) < 4 or type(layers[0]).__name__ != "InputLayer":
        raise QdistillError(f"expected a functional model starting with an InputLayer, got {names}")
    first = layers[1]
    quantizer = getattr(first, "quantizer", None)
    if type(first).__name__ != "QActivation" or type(quantizer).__name__ != "quantized_bits":
        raise QdistillError(
            f"the first layer {first.name!r} must be a QActivation(quantized_bits(...)) input "
            "quantizer that defines the firmware input type; only QDistillNet (qdistill train "
            "--model qdistillnet) is converted, not the float DistillNet"
        )
    last = layers[-1]
    activation = getattr(getattr(last, "activation", None), "__name__", None)
    if type(last).__name__ != "Activation" or activation != "sigmoid":
        raise QdistillError(
            f"the last layer {last.name!r} must be Activation('sigmoid') (the per-particle weight)"
        )
    return ModelStructure(
        input_layer=layers[0].name,
        input_quantizer=first.name,
        logit_layer=layers[-2].name,
        sigmoid_layer=last.name,
    )


def make_hls_config(model: Any, hls4ml: Any, backend: str) -> dict[str, Any]:
    """The hls4ml configuration (hls4ml's own keys) for ``model``; call inside ``hls4ml_session``.

    ``hls4ml`` is the module yielded by :func:`qdistill.firmware.hls4ml_compat.hls4ml_session`;
    ``backend`` is hls4ml's backend name (``Vivado``/``Vitis``).
    """
    structure = model_structure(model)
    config: dict[str, Any] = hls4ml.utils.config_from_keras_model(
        model, granularity="name", backend=backend, default_reuse_factor=REUSE_FACTOR
    )
    config["Model"]["Strategy"] = STRATEGY
    config["Model"]["ReuseFactor"] = REUSE_FACTOR
    layers = config["LayerName"]
    input_type = layers[structure.input_quantizer]["Precision"]["result"]
    layers[structure.input_layer]["Precision"]["result"] = input_type
    sigmoid = layers[structure.sigmoid_layer]
    sigmoid["Precision"]["result"] = OUTPUT_PRECISION
    sigmoid["TableSize"] = SIGMOID_TABLE_SIZE
    return config


def input_precision_string(config: dict[str, Any], structure: ModelStructure) -> str:
    """The firmware input type as written in ``config`` (e.g. ``fixed<12,6,RND_CONV,SAT,0>``)."""
    return str(config["LayerName"][structure.input_layer]["Precision"]["result"])
