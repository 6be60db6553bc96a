"""Students: architectures, parameter counts, pruning to the requested sparsity, BN folding,
preprocessing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from qdistill.errors import QdistillError
from qdistill.features import INDEX, N_FEATURES
from qdistill.keras_backend import import_tensorflow

import_tensorflow(1)
import qkeras  # noqa: E402
import tensorflow_model_optimization as tfmot  # noqa: E402
import tf_keras as keras  # noqa: E402

from qdistill.student import models  # noqa: E402
from qdistill.student.config import ModelSpec, parse_hidden  # noqa: E402
from qdistill.student.preprocessing import (  # noqa: E402
    INPUT_BITS,
    INPUT_INTEGER_BITS,
    Preprocessing,
    fit_preprocessing,
    fpga_input_type,
)


def _dense_units(model) -> list[int]:
    return [layer.units for layer in model.layers if hasattr(layer, "units")]


def test_distillnet_architecture() -> None:
    model = models.build_distillnet()
    assert _dense_units(model) == [128, 64, 1]
    names = [type(layer).__name__ for layer in model.layers]
    assert names == [
        "InputLayer",
        "Dense",
        "Activation",
        "Dense",
        "Activation",
        "BatchNormalization",
        "Dense",
        "Activation",
    ]
    # 16·128+128 + 128·64+64 + 4·64 (BN) + 64+1
    assert model.count_params() == 2176 + 8256 + 256 + 65 == 10753
    assert models.n_parameters((128, 64)) == 10753
    assert models.build_distillnet(batchnorm=False).count_params() == 10753 - 256
    assert model.layers[-1].get_config()["activation"] == "sigmoid"


def test_qdistillnet_architecture_and_quantizers() -> None:
    model = models.build_qdistillnet()
    assert _dense_units(model) == [64, 32, 1]
    first = model.layers[1]
    assert isinstance(first, qkeras.QActivation)
    assert first.quantizer.bits == INPUT_BITS and first.quantizer.integer == INPUT_INTEGER_BITS
    assert fpga_input_type()["ap_type"] == "ap_fixed<16,5>"
    for layer in model.layers:
        if isinstance(layer, qkeras.QDense):
            assert layer.kernel_quantizer_internal.bits == 8
            assert layer.bias_quantizer_internal.bits == 8
    relus = [
        layer
        for layer in model.layers
        if isinstance(layer, qkeras.QActivation) and layer.name[:4] == "relu"
    ]
    assert [str(r.quantizer) for r in relus] == ["quantized_relu(8,2)"] * 2
    # 16·64+64 + 64·32+32 + 4·32 (BN) + 32+1
    assert model.count_params() == 1088 + 2080 + 128 + 33 == 3329
    custom = models.build_qdistillnet((32, 16), bits=6)
    assert _dense_units(custom) == [32, 16, 1]
    assert custom.count_params() == models.n_parameters((32, 16))
    # weights and activations with their own widths, the same through fold_batchnorm
    spec = ModelSpec("qdistillnet", (32, 16), weight_bits=4, activation_bits=6)
    for model in (models.build(spec), models.fold_batchnorm(models.build(spec), spec)[0]):
        dense = [layer for layer in model.layers if isinstance(layer, qkeras.QDense)]
        assert {layer.kernel_quantizer_internal.bits for layer in dense} == {4}
        relus = [layer for layer in model.layers if layer.name.startswith("relu")]
        assert [str(r.quantizer) for r in relus] == ["quantized_relu(6,2)"] * 2
    with pytest.raises(QdistillError, match="activation bits=2"):
        ModelSpec("qdistillnet", (8,), activation_bits=2)  # relu integer bits 2 do not fit


def test_model_spec_validation() -> None:
    with pytest.raises(QdistillError, match="unknown model"):
        ModelSpec("bignet", (8,))
    with pytest.raises(QdistillError, match="--sparsity"):
        ModelSpec("qdistillnet", (8,), sparsity=1.0)
    assert parse_hidden("64, 32") == (64, 32)
    with pytest.raises(QdistillError, match="--hidden"):
        parse_hidden("64,x")


@pytest.mark.parametrize("sparsity", [0.75, 0.5])
def test_pruning_reaches_requested_sparsity(sparsity: float) -> None:
    keras.utils.set_random_seed(1)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(512, N_FEATURES)).astype(np.float32)
    y = rng.uniform(size=(512, 1)).astype(np.float32)
    steps = 2 * (512 // 64)
    model = models.add_pruning(models.build_qdistillnet(), sparsity, steps)
    model.compile(optimizer="adam", loss="mae")
    model.fit(
        x,
        y,
        batch_size=64,
        epochs=2,
        verbose=0,
        callbacks=[tfmot.sparsity.keras.UpdatePruningStep()],
    )
    stripped = models.strip_pruning(model)
    assert not any("prune" in layer.name for layer in stripped.layers)
    per_layer = models.kernel_sparsity(stripped)
    # counted zeros of the stripped kernels: 16×64 and 64×32 are pruned, the output is not
    assert per_layer["dense1"] == pytest.approx(sparsity, abs=1 / 1024)
    assert per_layer["dense2"] == pytest.approx(sparsity, abs=1 / 2048)
    assert per_layer["output_dense"] == 0.0
    assert models.hidden_sparsity(stripped) == pytest.approx(sparsity, abs=1e-3)


def test_batchnorm_fold_is_exact_in_float() -> None:
    keras.utils.set_random_seed(2)
    rng = np.random.default_rng(2)
    spec = ModelSpec("qdistillnet", (64, 32), bits=16)
    model = models.build_qdistillnet(spec.hidden, spec.bits, spec.relu_integer_bits)
    bn = model.get_layer(models.BN_NAME)
    gamma, beta = rng.uniform(0.5, 2, 32), rng.normal(0, 0.3, 32)
    mean, var = rng.uniform(0, 1, 32), rng.uniform(0.05, 0.5, 32)
    bn.set_weights([gamma, beta, mean, var])
    kernel, bias = model.get_layer(models.OUTPUT_DENSE).get_weights()
    folded, int_bits = models.fold_batchnorm(model, spec)
    assert models.BN_NAME not in [layer.name for layer in folded.layers]
    s = gamma / np.sqrt(var + bn.epsilon)
    fk, fb = folded.get_layer(models.OUTPUT_DENSE).get_weights()
    np.testing.assert_allclose(fk, kernel * s[:, None], rtol=1e-6)
    np.testing.assert_allclose(fb, bias + (beta - mean * s) @ kernel, rtol=1e-5, atol=1e-6)
    assert 2.0 ** int_bits[0] > np.abs(fk).max()
    # with 16-bit weights the folded model reproduces the unfolded one closely
    x = rng.normal(size=(256, N_FEATURES)).astype(np.float32)
    np.testing.assert_allclose(folded(x).numpy(), model(x, training=False).numpy(), atol=2e-3)
    assert folded.count_params() == models.n_parameters((64, 32), batchnorm=False) == 3201


def test_preprocessing_standardises_clips_and_roundtrips(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(1000, N_FEATURES)).astype(np.float32)
    x[:, INDEX["dz"]] *= 100.0
    x[0, INDEX["dz"]] = 1e6  # an outlier
    x[:, INDEX["pid_photon"]] = 1.0
    pre = fit_preprocessing(x)
    out = pre(x)
    assert out.dtype == np.float32 and out.shape == x.shape
    assert np.abs(out).max() <= pre.clip < 2**INPUT_INTEGER_BITS
    assert out[0, INDEX["dz"]] == pre.clip
    np.testing.assert_array_equal(out[:, INDEX["pid_photon"]], 1.0)  # one-hot passes unchanged
    assert abs(float(out[1:, INDEX["eta"]].mean())) < 0.01
    pre.save(tmp_path)
    saved = json.loads((tmp_path / "preprocessing.json").read_text())
    assert saved["fpga_input_type"]["ap_type"] == "ap_fixed<16,5>"
    np.testing.assert_array_equal(Preprocessing.load(tmp_path)(x), out)
    with pytest.raises(QdistillError, match="shape"):
        pre(x[:, :15])
