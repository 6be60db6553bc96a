"""The NumPy firmware emulator: bit-exact against the golden outputs, the C simulation and da4ml."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
from typer.testing import CliRunner

from qdistill.cli import app
from qdistill.data.layout import Event, EventWriter
from qdistill.errors import QdistillError
from qdistill.features import N_FEATURES
from qdistill.firmware import DEFAULT_PROJECT, LITE_PROJECT
from qdistill.firmware.emulate import (
    WEIGHTS_DATASET,
    Emulator,
    ProjectEmulator,
    check_golden,
    emulate_network,
    fraction_bits,
    read_weights,
)
from qdistill.firmware.project import HLS_CONFIG_FILE, HLS_DIR, load_project
from qdistill.firmware.rtl_fixed import FixedType, cast_values
from qdistill.firmware.rtl_network import (
    ActivationSpec,
    DenseSpec,
    NetworkSpec,
    ScaleSpec,
    SigmoidSpec,
    emulate,
    sigmoid_table,
)

REFERENCE = Path(__file__).resolve().parents[1] / DEFAULT_PROJECT
runner = CliRunner()


@pytest.fixture(scope="module")
def reference() -> ProjectEmulator:
    """The committed reference project's emulator (one hls4ml conversion, ~10 s)."""
    return ProjectEmulator.load(load_project(REFERENCE))


@pytest.fixture(scope="module")
def compiled(reference: ProjectEmulator, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A copy of the reference project with its C simulation compiled (g++, ~15 s)."""
    pytest.importorskip("qkeras")
    if shutil.which("g++") is None:
        pytest.skip("no g++ for the C simulation")
    copy = tmp_path_factory.mktemp("emulate") / "qdistillnet"
    shutil.copytree(REFERENCE, copy, ignore=shutil.ignore_patterns(HLS_DIR, "rtl"))
    project = load_project(copy)
    project.compiled_hls_model()
    return project


def _events(path: Path, features: np.ndarray, per_event: int) -> Path:
    events = [
        Event(
            features=chunk.astype(np.float32),
            p4=np.zeros((len(chunk), 4), np.float32),
            truth_fraction=np.zeros(len(chunk), np.float32),
            gen_p4=np.zeros((0, 4), np.float32),
            gen_pdg_id=np.zeros(0, np.int32),
        )
        for chunk in np.split(features, range(per_event, len(features), per_event))
    ]
    with EventWriter(path) as writer:
        writer.write(events)
    return path


def _synthetic_features(n: int, seed: int) -> np.ndarray:
    from qdistill.student.synthetic import synthetic_event

    event, _ = synthetic_event(n, np.random.default_rng(seed))
    return event.features


# --- the committed project -----------------------------------------------------------------------


def test_emulator_reproduces_every_golden_output(reference: ProjectEmulator) -> None:
    check = check_golden(reference)
    assert (check.particles, check.golden_exact, check.golden_match) == (4096, 4096, True)
    golden = reference.project.golden_outputs()
    assert len(np.unique(golden)) > 50  # of the 256 values of ufixed<8,0>: not a handful
    assert check.dense_paths == ["float64", "float64", "float64"]
    # |inputs| <= 8 keeps every sum of the reference below 2**24 LSBs: float32 blocks
    assert check.float32_input_limit == 8.0
    assert check.particles_per_second > 0


def test_emulator_reproduces_the_lite_reference() -> None:
    # 8-bit inputs, 4-bit weights and ReLUs, 32/16 hidden, 90 % pruned: other widths, same code
    lite = ProjectEmulator.load(load_project(REFERENCE.parents[1] / LITE_PROJECT))
    check = check_golden(lite)
    assert (check.particles, check.golden_exact) == (4096, 4096)
    assert str(lite.emulator.spec.input_type).startswith("ap_fixed<8,5")
    assert len(np.unique(lite.project.golden_outputs())) > 10


def test_one_lsb_weight_change_disagrees_with_the_golden_outputs(
    reference: ProjectEmulator,
) -> None:
    spec = reference.emulator.spec
    dense_layers = [i for i, layer in enumerate(spec.layers) if isinstance(layer, DenseSpec)]
    last = dense_layers[-1]
    dense = spec.layers[last]
    assert isinstance(dense, DenseSpec)
    inputs = reference.project.golden_inputs()
    # the output layer's input fed most on the golden inputs (many others are rarely non-zero)
    hidden = emulate_network(
        NetworkSpec(spec.n_inputs, spec.input_type, spec.layers[:last]), inputs
    )
    row = int(np.argmax(hidden.mean(axis=0)))
    lsb = 2.0 ** -fraction_bits(dense.weights)
    perturbed = spec.with_weight(last, row, 0, float(dense.weights[row, 0]) + lsb)
    outputs = emulate_network(perturbed, inputs)[:, 0]
    differ = int(np.sum(outputs != reference.project.golden_outputs()))
    assert 0 < differ < len(inputs)


# --- against the C simulation (compiles the reference project) ----------------------------------


@pytest.mark.slow
def test_emulator_equals_c_simulation_over_the_whole_input_range(
    reference: ProjectEmulator, compiled: Any
) -> None:
    from qdistill.firmware.csim import run_csim

    t = reference.emulator.spec.input_type
    rng = np.random.default_rng(7)
    beyond = np.array([t.low - t.lsb, t.low, t.low + t.lsb, 0.0, t.high - t.lsb, t.high])
    beyond = np.concatenate([beyond, [t.high + t.lsb, t.high + 0.5 * t.lsb, t.low - 3.0]])
    corners = np.stack(
        [np.full(N_FEATURES, v) for v in beyond]
        + [rng.choice(beyond, N_FEATURES) for _ in range(2000)]
    )
    uniform = rng.uniform(t.low - 4 * t.lsb, t.high + 4 * t.lsb, (12000, N_FEATURES))
    raw = np.concatenate([corners, uniform])
    # through QKeras' input quantizer (saturating), and as raw doubles the C code converts
    from qdistill.firmware.reference import quantize_inputs

    project = reference.project
    quantized = quantize_inputs(project.keras_model(), project.structure(), raw)
    assert quantized.min() == t.low and quantized.max() == t.high
    for inputs in (quantized, raw, cast_values(raw, t)):
        np.testing.assert_array_equal(reference.run_inputs(inputs), run_csim(compiled, inputs))


@pytest.mark.slow
def test_emulator_equals_c_simulation_on_preprocessed_particles(
    reference: ProjectEmulator, compiled: Any
) -> None:
    from qdistill.firmware.csim import run_csim

    features = _synthetic_features(3000, seed=5)
    inputs = reference.firmware_inputs(features)
    outputs = reference.run_features(features)
    assert reference.emulator.float32_particles > len(features) // 2  # the fast path is checked
    np.testing.assert_array_equal(outputs, run_csim(compiled, inputs))
    assert len(np.unique(outputs)) > 50


# --- the arithmetic paths, against da4ml's interpreter -------------------------------------------


def _dyadic(
    rng: np.random.Generator, shape: tuple[int, ...], scale: float, frac: int
) -> np.ndarray:
    values = np.round(rng.normal(0.0, scale, shape) * 2.0**frac) * 2.0**-frac
    values[rng.random(shape) < 0.3] = 0.0
    return values


def _spec(
    weights: np.ndarray, accum: FixedType, result: FixedType, bias_scale: float
) -> NetworkSpec:
    rng = np.random.default_rng(3)
    n_out = weights.shape[1]
    input_type = FixedType(True, 16, 5, "RND_CONV", "SAT")
    out_t = FixedType(False, 8, 0, "RND", "SAT")
    return NetworkSpec(
        n_inputs=weights.shape[0],
        input_type=input_type,
        layers=[
            DenseSpec(
                "wide", weights, cast_values(rng.normal(0, bias_scale, n_out), accum), accum, result
            ),
            ActivationSpec("relu", "relu", FixedType(False, 10, 4, "RND_CONV", "SAT")),
            DenseSpec(
                "out",
                _dyadic(rng, (n_out, 1), 0.5, 6),
                np.zeros(1),
                FixedType(True, 24, 10),
                FixedType(True, 24, 10),
            ),
            SigmoidSpec("sigmoid", sigmoid_table(1024, FixedType(True, 18, 8), out_t), out_t),
        ],
    )


def _inputs(spec: NetworkSpec, n: int) -> np.ndarray:
    t = spec.input_type
    rng = np.random.default_rng(9)
    return cast_values(rng.uniform(t.low, t.high, (n, spec.n_inputs)), t)


def _exact_dense(layer: DenseSpec, x: np.ndarray, in_frac: int) -> np.ndarray:
    """An independent oracle: one dense layer in Python integers (products exact in accum_t)."""
    t, fa = layer.accum, layer.accum.fractional
    half = 1 << (t.width - 1)
    xs = [[int(v * 2.0**in_frac) for v in row] for row in x]
    ws = [[int(w * 2.0 ** (fa - in_frac)) for w in col] for col in layer.weights.T]
    bs = [int(b * 2.0**fa) for b in layer.bias]
    sums = [
        [
            (sum(a * w for a, w in zip(row, col, strict=True)) + b + half) % (2 * half) - half
            for col, b in zip(ws, bs, strict=True)
        ]
        for row in xs
    ]
    return cast_values(np.array(sums, dtype=np.float64) * 2.0**-fa, layer.result)


def test_wide_weights_force_int64_and_stay_exact() -> None:
    rng = np.random.default_rng(1)
    # 16-bit inputs times weights of ~2**15 with 20 fractional bits: sums pass 2**53 LSBs
    weights = _dyadic(rng, (16, 8), 2.0**15, 20)
    accum = FixedType(True, 44, 13)  # products exact (11 + 20 fractional bits); the sum wraps
    spec = _spec(weights, accum, FixedType(True, 24, 14, "RND", "SAT"), 8.0)
    emulator = Emulator(spec)
    assert emulator.dense_paths == ["int64", "float64"]
    assert emulator.plans[0].bound_bits > 53
    x = _inputs(spec, 400)
    dense = NetworkSpec(spec.n_inputs, spec.input_type, spec.layers[:1])
    assert isinstance(spec.layers[0], DenseSpec)
    expected = _exact_dense(spec.layers[0], x, spec.input_type.fractional)
    np.testing.assert_array_equal(emulate_network(dense, x), expected)
    assert len(np.unique(expected)) > 3000 and expected.min() < -2000 < 2000 < expected.max()
    # da4ml's interpreter is no oracle here: with wrapping sums wider than 32 bits its outputs
    # differ from the integer oracle (measured with da4ml 0.6.0 for ap_fixed<34,5> and wider).
    # A 32-bit accumulator that wraps fits float64, and there the outputs equal da4ml's.
    narrow = _spec(_dyadic(rng, (16, 8), 2.0**3, 16), FixedType(True, 32, 5), accum, 8.0)
    assert Emulator(narrow).dense_paths == ["float64", "float64"]
    assert Emulator(narrow).plans[0].products_exact
    np.testing.assert_array_equal(emulate_network(narrow, x), emulate(narrow, x, latency_cutoff=4))


@pytest.mark.parametrize("accum", [FixedType(True, 20, 2), FixedType(True, 24, 6)], ids=str)
def test_overflowing_accumulators_wrap_like_the_c_code(accum: FixedType) -> None:
    rng = np.random.default_rng(6)
    layer = DenseSpec("d", _dyadic(rng, (16, 6), 1.0, 7), np.zeros(6), accum, accum)
    spec = NetworkSpec(16, FixedType(True, 16, 5, "RND_CONV", "SAT"), [layer])
    x = _inputs(spec, 600)
    expected = _exact_dense(layer, x, 11)
    assert np.mean(np.abs(x @ layer.weights) >= 2.0 ** (accum.integer - 1)) > 0.2  # they wrap
    np.testing.assert_array_equal(emulate_network(spec, x), expected)
    np.testing.assert_array_equal(emulate(spec, x, latency_cutoff=4), expected)


def test_float32_blocks_are_exact_and_used_only_inside_their_input_box() -> None:
    rng = np.random.default_rng(8)
    accum = FixedType(True, 40, 22)  # 18 fractional bits: the products (11 + 7) are exact
    layer = DenseSpec("d", _dyadic(rng, (16, 6), 4.0, 7), np.zeros(6), accum, accum)
    spec = NetworkSpec(16, FixedType(True, 16, 5, "RND_CONV", "SAT"), [layer])
    emulator = Emulator(spec, block=10_000)
    # the largest 2**m with 2**m * max_j sum_i |w_ij| below 2**24 product LSBs (2**-18)
    column_sums = float(np.max(np.abs(layer.weights).sum(axis=0)))
    limit = emulator.float32_input_limit
    assert limit is not None and limit * column_sums * 2.0**18 < 2.0**24
    assert 2 * limit * column_sums * 2.0**18 >= 2.0**24
    inside = cast_values(rng.uniform(-limit, limit, (3000, 16)), spec.input_type)
    np.testing.assert_array_equal(emulator.run(inside), _exact_dense(layer, inside, 11))
    assert emulator.float32_particles == len(inside)
    full = _inputs(spec, 3000)
    expected = _exact_dense(layer, full, 11)
    np.testing.assert_array_equal(emulator.run(full), expected)
    assert emulator.float32_particles == 0
    # outside the box float32 loses bits: the box is what makes the fast path exact
    y = full.astype(np.float32)
    for step in emulator._fast_steps:
        y = step(y)
    assert np.any(y != expected)


def test_products_rounded_into_a_narrow_accumulator_are_cast_one_by_one() -> None:
    rng = np.random.default_rng(2)
    weights = _dyadic(rng, (16, 12), 0.4, 7)
    accum = FixedType(True, 16, 8, "TRN", "WRAP")  # 8 fractional bits < 11 + 7: products round
    spec = _spec(weights, accum, FixedType(True, 12, 6, "RND", "SAT"), 1.0)
    emulator = Emulator(spec)
    assert not emulator.plans[0].products_exact
    x = _inputs(spec, 3000)
    expected = emulate(spec, x, latency_cutoff=4)
    np.testing.assert_array_equal(emulator.run(x), expected)
    # summing the exact products and rounding once would give other outputs
    exact_sum = _spec(weights, FixedType(True, 30, 12, "TRN", "WRAP"), accum, 1.0)
    assert np.any(emulate_network(exact_sum, x) != expected)


def test_batchnorm_scale_and_linear_activation_match_da4ml() -> None:
    rng = np.random.default_rng(4)
    base = _spec(_dyadic(rng, (16, 8), 0.5, 7), FixedType(True, 24, 9), FixedType(True, 14, 6), 0.5)
    scale = ScaleSpec(
        "bn",
        _dyadic(rng, (8,), 1.0, 5),
        _dyadic(rng, (8,), 1.0, 4),
        FixedType(True, 10, 4, "RND_CONV", "SAT"),
    )
    linear = ActivationSpec("lin", "linear", FixedType(True, 9, 3, "TRN", "WRAP"))
    spec = NetworkSpec(
        base.n_inputs, base.input_type, [base.layers[0], scale, linear, *base.layers[1:]]
    )
    x = _inputs(spec, 3000)
    np.testing.assert_array_equal(emulate_network(spec, x), emulate(spec, x, latency_cutoff=4))


@pytest.mark.parametrize("rounding", ["TRN", "RND", "RND_CONV"])
@pytest.mark.parametrize("saturation", ["WRAP", "SAT", "SAT_SYM"])
@pytest.mark.parametrize("signed", [True, False], ids=["signed", "unsigned"])
def test_compiled_kernel_casts_like_the_numpy_steps_and_da4ml(
    rounding: str, saturation: str, signed: bool
) -> None:
    """Every cast mode of the Numba kernel, on values that round in ties and overflow the type."""
    rng = np.random.default_rng(11)
    middle = FixedType(signed, 7, 3, rounding, saturation)  # 4 fractional bits, overflows often
    base = _spec(_dyadic(rng, (16, 8), 0.5, 7), FixedType(True, 30, 9), middle, 0.5)
    linear = ActivationSpec("lin", "linear", FixedType(True, 9, 4, rounding, saturation))
    spec = NetworkSpec(base.n_inputs, base.input_type, [base.layers[0], linear, *base.layers[1:]])
    x = np.concatenate(
        [_inputs(spec, 3000), cast_values(rng.uniform(-0.3, 0.3, (3000, 16)), spec.input_type)]
    )  # the second half inside the float32 box
    emulator = Emulator(spec)
    assert emulator.compiled == ["float32", "float64"]  # both plans run in the kernel
    numpy_steps = Emulator(spec, compiled=False)
    assert numpy_steps.compiled == []
    outputs = emulator.run(x)
    assert 0 < emulator.float32_particles < len(x)  # blocks on both plans
    np.testing.assert_array_equal(outputs, numpy_steps.run(x))
    # the first layer against an independent oracle in Python integers; da4ml's trace is none
    # here: for TRN into ap_fixed<7,3> it truncates partial sums (0.188 -> 0.125, not 0.1875)
    first = NetworkSpec(spec.n_inputs, spec.input_type, spec.layers[:1])
    hidden = emulate_network(first, x)
    assert isinstance(spec.layers[0], DenseSpec)
    np.testing.assert_array_equal(hidden, _exact_dense(spec.layers[0], x, 11))
    low = -middle.high if (signed and saturation == "SAT_SYM") else middle.low
    assert np.any(hidden == middle.high) and np.any(hidden == low)  # saturated or wrapped
    assert len(np.unique(outputs)) > 20


def test_compiled_kernel_refuses_nan_and_leaves_numpy_only_steps_to_numpy() -> None:
    rng = np.random.default_rng(12)
    spec = _spec(_dyadic(rng, (16, 4), 0.5, 7), FixedType(True, 30, 9), FixedType(True, 14, 6), 0.5)
    x = _inputs(spec, 2000)
    x[1500, 7] = np.inf
    with pytest.raises(QdistillError, match="row 1500 is NaN or infinite"):
        Emulator(spec).run(x)
    wide = _spec(
        _dyadic(rng, (16, 8), 2.0**15, 20), FixedType(True, 44, 13), spec.layers[0].result, 8.0
    )
    emulator = Emulator(wide)  # int64 sums, no float32 box: NumPy runs it
    assert emulator.dense_paths[0] == "int64" and emulator.compiled == []


def test_inputs_are_checked() -> None:
    spec = _spec(np.eye(16)[:, :4] * 0.5, FixedType(True, 24, 9), FixedType(True, 14, 6), 0.5)
    with pytest.raises(QdistillError, match=r"expected \(n, 16\)"):
        emulate_network(spec, np.zeros((3, 15)))
    bad = np.zeros((5, 16))
    bad[3, 2] = np.nan
    with pytest.raises(QdistillError, match="row 3 is NaN"):
        emulate_network(spec, bad)
    assert fraction_bits(np.array([0.0, 3.0, -0.375, 2.0**-9])) == 9


# --- command line ---------------------------------------------------------------------------------


def test_cli_emulate_json_checks_golden_and_writes_weights(
    reference: ProjectEmulator, tmp_path: Path
) -> None:
    features = _synthetic_features(1500, seed=8)
    data = _events(tmp_path / "events.h5", features, per_event=300)
    out = tmp_path / "weights.h5"
    result = runner.invoke(
        app, ["emulate", str(REFERENCE), "--data", str(data), "-o", str(out), "--json"]
    )
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["golden_exact"] == report["golden_particles"] == 4096
    assert report["particles"] == 1500 and report["events"] == 5
    assert report["particles_per_second"] > 0
    weights = read_weights(out)
    np.testing.assert_array_equal(weights, reference.run_features(features))
    with h5py.File(out) as f:
        assert f["events/n_particles"][:].tolist() == [300] * 5
        assert f[WEIGHTS_DATASET].shape == (1500,)


def test_cli_emulate_refuses_nan_features_without_leaving_output(tmp_path: Path) -> None:
    features = _synthetic_features(400, seed=9)
    features[250, 3] = np.nan
    data = _events(tmp_path / "nan.h5", features, per_event=100)
    out = tmp_path / "weights.h5"
    result = runner.invoke(
        app, ["emulate", str(REFERENCE), "--data", str(data), "-o", str(out), "--json"]
    )
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("qdistill: error: ") and result.stderr.count("\n") == 1
    assert "particle 250 has NaN" in result.stderr
    assert list(tmp_path.iterdir()) == [data]


def test_cli_emulate_refuses_bad_projects_and_files_in_one_line(tmp_path: Path) -> None:
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["x"] = np.zeros(3)
    no_config = tmp_path / "no_config"
    shutil.copytree(REFERENCE, no_config, ignore=shutil.ignore_patterns(HLS_DIR, "rtl"))
    (no_config / HLS_CONFIG_FILE).unlink()
    out = tmp_path / "w.h5"
    cases = [
        (["--data", str(other), "-o", str(out)], "not a qdistill event file"),
        ([str(no_config)], f"{HLS_CONFIG_FILE}: missing"),
        ([str(tmp_path / "nowhere")], "does not exist"),
        (["-o", str(out)], "-o needs --data"),
    ]
    for args, message in cases:
        result = runner.invoke(app, ["emulate", *args, "--json"])
        assert result.exit_code == 1, args
        assert result.stdout == ""
        assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
        assert not out.exists()
