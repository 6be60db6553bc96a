"""Latency benchmark (`qdistill bench`): statistics, timing, options, and an end-to-end run.

The end-to-end run happens in a fresh interpreter (``python -m qdistill.cli bench``): one thread
can only be enforced before TensorFlow starts, and this test process may have started it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO
from typer.testing import CliRunner

from qdistill.bench.latency import (
    MIN_REPEATS,
    BenchOptions,
    bench_options,
    format_table,
    parse_batch_sizes,
    speedup_at,
    time_call,
)
from qdistill.bench.stats import summarise
from qdistill.bench.threads import THREAD_ENV_VARS
from qdistill.cli import app
from qdistill.errors import QdistillError

# --- statistics -------------------------------------------------------------------------------


def test_summarise_hand_made_timings() -> None:
    s = summarise([5.0, 1.0, 3.0, 2.0, 4.0])
    assert s.median_s == 3.0
    # linear interpolation between order statistics: p16 = 1 + 0.16·4, p84 = 1 + 0.84·4
    assert s.p16_s == pytest.approx(1.64)
    assert s.p84_s == pytest.approx(4.36)
    assert (s.q25_s, s.q75_s, s.min_s, s.max_s, s.repeats) == (2.0, 4.0, 1.0, 5.0, 5)
    assert summarise([0.004, 0.001, 0.003, 0.002]).median_s == pytest.approx(0.0025)
    one = summarise([0.5])
    assert one.median_s == one.p16_s == one.p84_s == 0.5
    assert set(one.spread()) == {"p16_s", "p84_s", "q25_s", "q75_s", "min_s", "max_s"}


@pytest.mark.parametrize("bad", [[], [1.0, -0.1], [float("nan")], [float("inf")]])
def test_summarise_refuses_bad_timings(bad: list[float]) -> None:
    with pytest.raises(ValueError):
        summarise(bad)


# --- timing and options -----------------------------------------------------------------------


def test_time_call_warmup_repeats_and_budget() -> None:
    calls: list[float] = []

    def call() -> None:
        calls.append(time.perf_counter())

    m = time_call(call, warmup=2, repeats=7, budget_s=60.0)
    assert len(m.seconds) == 7 and len(calls) == 9 and m.warmup_calls == 2
    assert all(t >= 0 for t in m.seconds)

    def slow() -> None:
        time.sleep(0.02)

    # budget used up after the first repeat: still MIN_REPEATS repeats, then stop
    m = time_call(slow, warmup=0, repeats=50, budget_s=0.001)
    assert len(m.seconds) == MIN_REPEATS
    # warm-up also stops after one call once it has used a quarter of the budget
    counted: list[int] = []

    def slow_counted() -> None:
        counted.append(1)
        time.sleep(0.02)

    m = time_call(slow_counted, warmup=5, repeats=4, budget_s=0.04)
    assert len(m.seconds) == MIN_REPEATS and len(counted) == 1 + MIN_REPEATS
    assert m.warmup_calls == 1
    assert min(m.seconds) >= 0.02
    # sleeping uses no CPU: CPU time over wall time far below one core
    assert m.cpu_over_wall < 0.5
    assert len(time_call(slow, warmup=0, repeats=1, budget_s=0.001).seconds) == 1


def test_parse_batch_sizes_and_quick_defaults() -> None:
    assert parse_batch_sizes("100, 1,10,10") == (1, 10, 100)
    with pytest.raises(QdistillError, match="--batch-sizes: 0 is not a positive"):
        parse_batch_sizes("1,0")
    with pytest.raises(QdistillError, match="comma-separated whole numbers"):
        parse_batch_sizes("1,ten")
    quick = bench_options(quick=True)
    assert quick.batch_sizes == (1, 100, 9000) and quick.repeats < BenchOptions().repeats
    assert bench_options(quick=True, repeats=2, batch_sizes="7").batch_sizes == (7,)
    with pytest.raises(QdistillError, match="--repeats"):
        bench_options(repeats=0)


def test_speedup_needs_teacher_and_distillnet_at_9000() -> None:
    rows = [
        {"model": "teacher", "batch_particles": 9000, "seconds_per_batch": 3.0},
        {"model": "distillnet", "batch_particles": 9000, "seconds_per_batch": 0.003},
        {"model": "distillnet", "batch_particles": 100, "seconds_per_batch": 0.001},
        {"model": "qdistillnet", "batch_particles": 9000, "seconds_per_batch": 0.3},
    ]
    assert speedup_at(rows) == pytest.approx(1000.0)
    assert speedup_at(rows[1:]) is None
    assert speedup_at(rows, batch=100) is None


# --- command line: bad options give one line and exit 1 ----------------------------------------


def _error_line(result) -> str:  # type: ignore[no-untyped-def]
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_cli_batch_size_zero(tmp_path: Path) -> None:
    model_dir = tmp_path / "distillnet"
    model_dir.mkdir()
    result = CliRunner().invoke(
        app, ["bench", "-o", str(tmp_path / "out"), "--distillnet", str(model_dir),
              "--batch-sizes", "1,0"],
    )  # fmt: skip
    assert result.exit_code == 1
    assert _error_line(result).startswith("qdistill: error: --batch-sizes: 0 is not a positive")
    assert not (tmp_path / "out").exists()


def test_cli_missing_model_dir(tmp_path: Path) -> None:
    missing = tmp_path / "no_such_teacher"
    result = CliRunner().invoke(
        app, ["bench", "-o", str(tmp_path / "out"), "--teacher", str(missing)]
    )
    assert result.exit_code == 1
    line = _error_line(result)
    assert f"--teacher {missing}: no such directory" in line and "qdistill teacher train" in line
    assert not (tmp_path / "out").exists()


def test_cli_no_model_and_no_reference_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["bench", "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    line = _error_line(result)
    assert "no model to benchmark" in line and "firmware_projects/qdistillnet" in line


def test_no_model_means_the_reference_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qdistill.bench.latency import ModelPaths, reference_paths
    from qdistill.firmware import DEFAULT_PROJECT
    from qdistill.firmware.project import PROJECT_JSON

    monkeypatch.chdir(tmp_path)
    (tmp_path / DEFAULT_PROJECT).mkdir(parents=True)
    (tmp_path / DEFAULT_PROJECT / PROJECT_JSON).write_text("{}")
    project = Path(DEFAULT_PROJECT)
    assert reference_paths() == ModelPaths(qdistillnet=project, project=project)


def test_cli_output_is_a_file(tmp_path: Path) -> None:
    model_dir = tmp_path / "distillnet"
    model_dir.mkdir()
    (tmp_path / "out").write_text("not a folder")
    result = CliRunner().invoke(
        app, ["bench", "-o", str(tmp_path / "out"), "--distillnet", str(model_dir)]
    )
    assert result.exit_code == 1
    assert "exists and is not a directory" in _error_line(result)


# --- end to end, in a fresh interpreter ----------------------------------------------------------


def _subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    for name in THREAD_ENV_VARS:
        env.pop(name, None)  # the benchmark must set them itself
    return env


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny teacher, DistillNet and QDistillNet trained on a small synthetic file."""
    from qdistill.student.config import ModelSpec, TrainConfig
    from qdistill.student.synthetic import write_synthetic_file
    from qdistill.student.train import train_student
    from qdistill.teacher.config import TeacherHyperparameters
    from qdistill.teacher.train import train_teacher

    root = tmp_path_factory.mktemp("bench_models")
    data = root / "synthetic.h5"
    write_synthetic_file(data, n_events=6, particles_per_event=300, seed=1)
    out = {"data": data}
    for kind, hidden, sparsity in (("distillnet", (8, 4), 0.0), ("qdistillnet", (8, 4), 0.0)):
        out[kind] = root / kind
        train_student(
            TrainConfig(
                spec=ModelSpec(kind=kind, hidden=hidden, sparsity=sparsity),
                data=data,
                output=out[kind],
                epochs=1,
                batch_size=512,
                finetune_epochs=0,
                progress=False,
            )
        )
    out["teacher"] = root / "teacher"
    train_teacher(
        data,
        out["teacher"],
        TeacherHyperparameters(k=4, hidden=4, n_blocks=2, edge_layers=1, epochs=1),
        progress=False,
    )
    return out


def test_bench_end_to_end(tiny_models: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "bench"
    cmd = [
        sys.executable, "-m", "qdistill.cli", "bench", "-o", str(out), "--json",
        "--teacher", str(tiny_models["teacher"]),
        "--distillnet", str(tiny_models["distillnet"]),
        "--qdistillnet", str(tiny_models["qdistillnet"]),
        "--batch-sizes", "10,9000,20000", "--repeats", "1", "--warmup", "1",
    ]  # fmt: skip
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env=_subprocess_env(), cwd=REPO, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    printed = json.loads(proc.stdout)  # stdout is one JSON object and nothing else
    saved = json.loads((out / "bench.json").read_text())
    assert printed["rows"] == saved["rows"]

    rows = {(r["model"], r["batch_particles"]): r for r in saved["rows"]}
    # the teacher works per event: 20000 particles is above the largest event it is timed on
    assert set(rows) == {
        *((m, n) for m in ("distillnet", "qdistillnet") for n in (10, 9000, 20000)),
        ("teacher", 10),
        ("teacher", 9000),
    }
    assert [p["batch_particles"] for p in saved["skipped_points"]] == [20000]
    for r in saved["rows"]:
        assert r["repeats"] == 1 and r["seconds_per_batch"] > 0
        assert r["particles_per_second"] == pytest.approx(
            r["batch_particles"] / r["seconds_per_batch"]
        )
        assert r["spread"]["p16_s"] <= r["seconds_per_batch"] <= r["spread"]["p84_s"]
    assert saved["speedup_at_9000"] == pytest.approx(
        rows["teacher", 9000]["seconds_per_batch"] / rows["distillnet", 9000]["seconds_per_batch"]
    )
    # the timed Keras calls compute what the students' own predict computes
    for kind in ("distillnet", "qdistillnet"):
        assert saved["models"][kind]["max_abs_diff_to_predict"] <= 1e-5
    # the csim was not given: skipped, and said so
    assert saved["skipped_models"] == [
        {"model": "qdistillnet_csim", "reason": "not given (--project DIR)"}
    ]
    assert "skipping qdistillnet_csim" in proc.stderr

    threads = saved["threads"]
    assert threads["tensorflow"] == {"intra_op": 1, "inter_op": 1}
    assert threads["env"]["OMP_NUM_THREADS"] == "1"
    assert all(p["num_threads"] == 1 for p in threads["threadpools"])
    assert threads["one_thread"] is True

    assert (out / "latency.png").stat().st_size > 10_000
    assert (out / "latency.pdf").read_bytes()[:5] == b"%PDF-"
    assert sorted(p.name for p in out.iterdir()) == ["bench.json", "latency.pdf", "latency.png"]
    table = format_table(saved)
    assert "teacher" in table and "speed-up at 9000" in table


def test_particle_source_from_event_file(tiny_models: dict[str, Path]) -> None:
    """Particles come from --data; the teacher's 9000-particle event merges real events."""
    from qdistill.bench.inputs import ParticleSource

    source = ParticleSource(tiny_models["data"], max_particles=1000)
    assert source.describe()["kind"] == "file"
    assert source.describe()["particles_read"] == 1200  # whole events of 300 only
    event = source.event(250)
    assert event.shape == (250, 16)
    # the smallest real event with at least 250 candidates, cut to 250: event 0
    from qdistill.data.layout import EventFile

    with EventFile(tiny_models["data"]) as f:
        np.testing.assert_array_equal(event, f.particles("features", 0, 250))
    big = source.event(1000)
    assert big.shape == (1000, 16) and any("merge" in n for n in source.notes)
    assert source.particles(5000).shape == (5000, 16)  # tiled beyond what was read


def test_pin_one_thread_refuses_a_started_tensorflow() -> None:
    code = (
        "from qdistill.keras_backend import import_tensorflow\n"
        "tf = import_tensorflow()\n"
        "tf.constant(1.0) + 1.0\n"
        "from qdistill.bench.threads import pin_one_thread\n"
        "from qdistill.errors import QdistillError\n"
        "try:\n"
        "    pin_one_thread()\n"
        "except QdistillError as exc:\n"
        "    print('refused:', exc)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=_subprocess_env(),
        cwd=REPO, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("refused: TensorFlow already runs with intra-op threads 0")


@pytest.mark.slow
def test_bench_csim_library_and_golden_check(tiny_models: dict[str, Path], tmp_path: Path) -> None:
    """The project's C-simulation library is timed, after a check against its golden outputs."""
    from qdistill.firmware.convert import convert_model
    from qdistill.firmware.project import GOLDEN_OUTPUTS, HLS_DIR

    project = tmp_path / "qdistillnet"
    convert_model(tiny_models["qdistillnet"], project, golden_particles=64)
    # change one golden output: the benchmark must notice that its library differs
    golden = project / GOLDEN_OUTPUTS
    lines = golden.read_text().splitlines()
    lines[0] = repr(float(lines[0]) + 0.5)
    golden.write_text("\n".join(lines) + "\n")
    before = sorted(p.name for p in (project / HLS_DIR).iterdir())

    out = tmp_path / "bench"
    cmd = [
        sys.executable, "-m", "qdistill.cli", "bench", "-o", str(out), "--json",
        "--project", str(project), "--batch-sizes", "1,50", "--repeats", "2", "--warmup", "0",
    ]  # fmt: skip
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env=_subprocess_env(), cwd=REPO, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert [(r["model"], r["batch_particles"], r["repeats"]) for r in result["rows"]] == [
        ("qdistillnet_csim", 1, 2),
        ("qdistillnet_csim", 50, 2),
    ]
    info = result["models"]["qdistillnet_csim"]
    assert (info["golden_particles"], info["golden_exact"], info["golden_match"]) == (64, 63, False)
    assert any("63 of 64 golden outputs" in w for w in result["warnings"])
    assert result["speedup_at_9000"] is None
    assert {s["model"] for s in result["skipped_models"]} == {
        "teacher",
        "distillnet",
        "qdistillnet",
    }
    # the benchmark compiled its own copy: the project's generated folder is untouched
    assert sorted(p.name for p in (project / HLS_DIR).iterdir()) == before


def test_keras_calls_compute_the_same_weights() -> None:
    """Both ways of calling a Keras student give its own predictions, for any batch size."""
    from qdistill.bench.runners import KERAS_CALLS, keras_call_factory
    from qdistill.keras_backend import import_keras

    keras = import_keras()
    keras.utils.set_random_seed(3)
    model = keras.Sequential(
        [keras.Input((16,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(1)]
    )
    x = np.random.default_rng(0).normal(size=(37, 16)).astype(np.float32)
    expected = model.predict(x * 2, verbose=0).reshape(-1)
    for how in KERAS_CALLS:
        factory = keras_call_factory(model, lambda f: f * 2, how)
        np.testing.assert_allclose(factory(x)(), expected, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(factory(x[:1])(), expected[:1], rtol=1e-5, atol=1e-6)
    with pytest.raises(QdistillError, match="--keras-call 'eager'"):
        keras_call_factory(model, lambda f: f, "eager")
