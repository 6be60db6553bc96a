"""Firmware: hls4ml conversion, the project layout, the bit-exact C simulation and its golden check.

One tiny project (a QDistillNet-shaped QKeras model with random 75 %-sparse 8-bit weights, 256
golden particles from a small event file) is converted and compiled once for the module.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO
from typer.testing import CliRunner

from qdistill import manifest
from qdistill.cli import app
from qdistill.data.layout import Event, EventWriter
from qdistill.errors import QdistillError
from qdistill.features import N_FEATURES
from qdistill.keras_backend import import_tensorflow

import_tensorflow(1)
import tf_keras as keras  # noqa: E402
from qkeras import QActivation, QDense, quantized_bits, quantized_relu  # noqa: E402
from qkeras.utils import load_qmodel  # noqa: E402

from qdistill.firmware import REFERENCE_PROJECTS  # noqa: E402
from qdistill.firmware.convert import convert_model  # noqa: E402
from qdistill.firmware.csim import check_project, run_csim  # noqa: E402
from qdistill.firmware.project import FirmwareProject, load_project  # noqa: E402
from qdistill.firmware.reference import quantize_inputs  # noqa: E402

N_GOLDEN = 256
runner = CliRunner()

# A fixed affine "preprocessing" for the test events (the real one is the student's).
_SHIFT = np.linspace(-1.0, 1.0, N_FEATURES, dtype=np.float32)
_SCALE = np.linspace(0.5, 2.0, N_FEATURES, dtype=np.float32)


def preprocess(features: np.ndarray) -> np.ndarray:
    return ((np.asarray(features, np.float32) - _SHIFT) * _SCALE).astype(np.float32)


def write_model_dir(path: Path, seed: int = 0) -> Path:
    """A QDistillNet-shaped QKeras model (deployed form: batch norm folded) in the train layout."""
    rng = np.random.default_rng(seed)
    inputs = keras.Input((N_FEATURES,), name="inputs")
    x = QActivation(quantized_bits(16, 4, alpha=1), name="input_quant")(inputs)
    for i, size in enumerate((64, 32)):
        q = quantized_bits(8, 0, alpha=1)
        x = QDense(size, kernel_quantizer=q, bias_quantizer=q, name=f"dense{i + 1}")(x)
        x = QActivation(quantized_relu(8, 2), name=f"relu{i + 1}")(x)
    x = QDense(
        1,
        kernel_quantizer=quantized_bits(8, 1, alpha=1),
        bias_quantizer=quantized_bits(8, 2, alpha=1),
        name="output_dense",
    )(x)
    model = keras.Model(inputs, keras.layers.Activation("sigmoid", name="sigmoid")(x))
    for layer in model.layers:
        weights = layer.get_weights()
        if weights:
            kernel = rng.normal(0.0, 0.5, weights[0].shape)
            kernel[rng.random(kernel.shape) < 0.75] = 0.0
            layer.set_weights([kernel, rng.normal(0.0, 0.3, weights[1].shape)])
    path.mkdir(parents=True)
    model.save(path / "model.h5")
    (path / "preprocessing.json").write_text("{}\n")
    (path / "student.json").write_text(
        manifest.dumps(manifest.tagged("student", 1, {"model": "qdistillnet"}))
    )
    return path


def write_events(path: Path, n_events: int = 4, per_event: int = 200, seed: int = 1) -> Path:
    rng = np.random.default_rng(seed)
    with EventWriter(path) as writer:
        writer.write(
            [
                Event(
                    features=rng.normal(0.0, 1.5, (per_event, N_FEATURES)).astype(np.float32),
                    p4=np.zeros((per_event, 4), np.float32),
                    truth_fraction=np.zeros(per_event, np.float32),
                    gen_p4=np.zeros((0, 4), np.float32),
                    gen_pdg_id=np.zeros(0, np.int32),
                )
                for _ in range(n_events)
            ]
        )
    return path


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("sources")
    return write_model_dir(root / "model"), write_events(root / "events.h5")


@pytest.fixture(scope="module")
def project(
    sources: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> FirmwareProject:
    model_dir, events = sources
    out = tmp_path_factory.mktemp("projects") / "tiny"
    return convert_model(
        model_dir,
        out,
        golden_data=events,
        golden_particles=N_GOLDEN,
        seed=3,
        preprocess=preprocess,
    )


@pytest.mark.slow
def test_convert_writes_the_project_layout(
    project: FirmwareProject, sources: tuple[Path, Path]
) -> None:
    path = project.path
    for name in ("model.h5", "preprocessing.json", "student.json", "hls4ml_config.json"):
        assert (path / name).is_file(), name
    meta = json.loads((path / "project.json").read_text())
    assert meta["part"] == "xcvu13p-flga2577-2-e" and meta["clock_mhz"] == 240.0
    assert meta["clock_period_ns"] == 4.1667
    assert (meta["io_type"], meta["strategy"], meta["reuse_factor"]) == (
        "io_parallel",
        "Latency",
        1,
    )
    assert meta["input_type"].startswith("fixed<16,5,RND_CONV,SAT")  # quantized_bits(16, 4)
    assert meta["n_golden"] == N_GOLDEN and meta["qdistill_version"]
    assert not list(path.parent.glob(".tiny.*"))  # no temporary left behind

    tcl = (path / "hls4ml_prj" / "project.tcl").read_text()
    assert re.search(r'set part "xcvu13p-flga2577-2-e"', tcl)
    assert re.search(r"set clock_period 4\.1667\b", tcl)
    config = json.loads((path / "hls4ml_config.json").read_text())
    assert config["Model"]["Strategy"] == "Latency" and config["Model"]["ReuseFactor"] == 1
    assert config["LayerName"]["inputs"]["Precision"]["result"] == meta["input_type"]
    assert config["LayerName"]["sigmoid"]["TableSize"] == 1024
    assert config["LayerName"]["dense1"]["Precision"]["weight"].startswith("fixed<8,1")

    # golden inputs: the seeded event sample, preprocessed, through the QKeras input quantizer
    inputs = project.golden_inputs()
    assert inputs.shape == (N_GOLDEN, N_FEATURES)
    _, events = sources
    from qdistill.firmware.golden import sample_event_particles

    features = sample_event_particles(events, N_GOLDEN, seed=3)
    expected = quantize_inputs(project.keras_model(), project.structure(), preprocess(features))
    assert np.array_equal(inputs, expected)
    assert np.all(inputs * 2**11 == np.round(inputs * 2**11))  # 11 fractional bits
    assert not np.array_equal(features[:10], sample_event_particles(events, N_GOLDEN, seed=4)[:10])

    # hls4ml's testbench reads the same vectors
    tb = path / "hls4ml_prj" / "tb_data"
    assert np.array_equal(np.loadtxt(tb / "tb_input_features.dat"), inputs)
    assert np.array_equal(np.loadtxt(tb / "tb_output_predictions.dat"), project.golden_outputs())


@pytest.mark.slow
def test_csim_matches_golden_and_qkeras(project: FirmwareProject) -> None:
    report = check_project(project)
    assert report.particles == N_GOLDEN
    assert report.golden_match and report.golden_exact == N_GOLDEN
    assert report.qkeras_logit_exact_fraction == 1.0
    assert report.qkeras_exact_fraction >= 0.999 and report.max_abs_diff_lsb <= 1.0
    assert report.output_type.startswith("ufixed<8,0,RND,SAT")
    assert report.particles_per_second > 0
    outputs = project.golden_outputs()
    assert outputs.min() >= 0.0 and outputs.max() < 1.0
    assert len(np.unique(outputs)) > 10  # the sample is not all saturated
    # run_csim reuses the compiled library and reproduces the golden outputs
    assert np.array_equal(run_csim(project, project.golden_inputs()[:32]), outputs[:32])
    # unquantized inputs are converted as the QKeras input quantizer does (ties to even, saturate)
    raw = np.random.default_rng(9).uniform(-20, 20, (200, N_FEATURES)).astype(np.float32)
    raw[:100] = np.round(raw[:100] * 2048) / 2048 + 1 / 4096  # exactly half an LSB
    quantized = quantize_inputs(project.keras_model(), project.structure(), raw)
    assert np.array_equal(run_csim(project, raw), run_csim(project, quantized))


def _perturb_one_lsb(project: FirmwareProject, dest: Path) -> Path:
    """Copy ``project`` and move the output layer's most used weight by one LSB of its type."""
    shutil.copytree(project.path, dest, ignore=shutil.ignore_patterns("hls4ml_prj"))
    model = load_qmodel(str(dest / "model.h5"), compile=False)
    hidden = keras.Model(model.inputs, model.get_layer("relu2").output)
    use = np.asarray(hidden.predict(project.golden_inputs(), verbose=0)).mean(axis=0)
    layer = model.get_layer("output_dense")
    kernel, bias = layer.get_weights()
    j = int(np.argmax(use))
    lsb = 2.0**-6  # quantized_bits(8, 1): 6 fractional bits
    kernel[j, 0] += -lsb if kernel[j, 0] >= 0 else lsb
    layer.set_weights([kernel, bias])
    model.save(dest / "model.h5")
    return dest


@pytest.mark.slow
def test_one_lsb_weight_change_fails_the_golden_check(
    project: FirmwareProject, tmp_path: Path
) -> None:
    bad = _perturb_one_lsb(project, tmp_path / "perturbed")
    result = runner.invoke(app, ["csim", str(bad), "--json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["golden_match"] is False and report["golden_exact"] < N_GOLDEN
    # QKeras agrees with the changed firmware: only the golden vectors catch the change
    assert report["qkeras_logit_exact_fraction"] == 1.0
    assert "differs from the golden outputs" in result.stderr

    # --update-golden accepts the changed firmware, loudly, and rewrites the testbench copy too
    before = (bad / "golden" / "outputs.dat").read_text()
    result = runner.invoke(app, ["csim", str(bad), "--json", "--update-golden"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["golden_updated"] is True and report["golden_match"] is True
    assert "WARNING: rewrote the golden outputs" in result.stderr
    after = (bad / "golden" / "outputs.dat").read_text()
    assert after != before
    assert (bad / "hls4ml_prj" / "tb_data" / "tb_output_predictions.dat").read_text() == after


def test_convert_refuses_bad_input_with_one_line(
    sources: tuple[Path, Path], tmp_path: Path
) -> None:
    model_dir, _ = sources
    out = tmp_path / "p"
    cases = [
        (["--part", "xc7z020-clg400-1"], "unknown FPGA part 'xc7z020-clg400-1'; known parts:"),
        (["--clock-mhz", "0"], "clock 0.0 MHz is outside"),
        (["--backend", "quartus"], "unknown backend 'quartus'"),
        (["--golden-data", str(tmp_path / "none.h5")], "no such event file"),
    ]
    for extra, message in cases:
        result = runner.invoke(app, ["convert", str(model_dir), "-o", str(out), *extra])
        assert result.exit_code == 1, extra
        assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
        assert not out.exists()
    other = tmp_path / "notes"
    other.mkdir()
    (other / "keep.txt").write_text("not a project\n")
    result = runner.invoke(app, ["convert", str(model_dir), "-o", str(other)])
    assert result.exit_code == 1 and "exists and is not a firmware project" in result.stderr
    assert (other / "keep.txt").is_file()
    result = runner.invoke(app, ["convert", str(tmp_path / "missing"), "-o", str(out)])
    assert result.exit_code == 1 and "no such model directory" in result.stderr
    assert result.stderr.count("\n") == 1


def test_csim_refuses_a_folder_that_is_not_a_project(tmp_path: Path) -> None:
    result = runner.invoke(app, ["csim", str(tmp_path), "--json"])
    assert result.exit_code == 1 and result.stdout == ""
    assert "not a firmware project" in result.stderr
    with pytest.raises(QdistillError, match="not a firmware project"):
        load_project(tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("reference", REFERENCE_PROJECTS)
def test_committed_reference_project_passes_its_golden_check(reference: str) -> None:
    """The golden check of CI: each committed reference computes its committed golden outputs."""
    report = check_project(load_project(REPO / reference))
    assert report.golden_match
    assert report.particles >= 4096
    assert report.qkeras_logit_exact_fraction == 1.0
    assert report.qkeras_exact_fraction >= 0.999 and report.max_abs_diff_lsb <= 1.0
