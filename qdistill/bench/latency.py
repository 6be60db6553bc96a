"""Single-thread CPU inference latency against particle batch size (the paper's figure 5).

For each model and batch size N: ``warmup`` untimed calls, then up to ``repeats`` timed calls
(``time.perf_counter``, garbage collection off), stopping early once a point has used
``budget_s`` seconds and has at least :data:`MIN_REPEATS` repeats. Each point keeps the median
and the spread (16th/84th percentiles and quartiles) of its repeats, and the ratio of process CPU
time to wall time over them: about 1 when one core does the work, clearly above 1 if a framework
ran threads in parallel despite the settings.
"""

from __future__ import annotations

import gc
import importlib.metadata
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import numpy as np

from qdistill import __version__, manifest
from qdistill.bench.inputs import ParticleSource
from qdistill.bench.runners import DEFAULT_KERAS_CALL, KERAS_CALLS, Benchmarked
from qdistill.bench.stats import summarise
from qdistill.bench.threads import cpu_affinity, limited_threadpools
from qdistill.errors import QdistillError

#: bench_latency.json is a manifest (qdistill.manifest) of this kind.
RESULT_KIND: Final[str] = "bench_latency"
RESULT_VERSION: Final[int] = 1
BENCH_JSON: Final[str] = "bench.json"

DEFAULT_BATCH_SIZES: Final[tuple[int, ...]] = (1, 10, 100, 1000, 9000, 90000)
QUICK_BATCH_SIZES: Final[tuple[int, ...]] = (1, 100, 9000)
DEFAULT_REPEATS: Final[int] = 20
QUICK_REPEATS: Final[int] = 5
DEFAULT_WARMUP: Final[int] = 3
QUICK_WARMUP: Final[int] = 1
DEFAULT_BUDGET_S: Final[float] = 20.0
#: Fewest timed repeats a point gets, whatever the time budget (unless ``repeats`` is smaller).
MIN_REPEATS: Final[int] = 3
#: Share of a point's time budget after which warm-up stops (it always makes one call).
WARMUP_BUDGET_FRACTION: Final[float] = 0.25
#: Largest event the teacher is timed on, in particles: it works per event, and events at
#: pileup 140 have up to 9000 candidates (paper); larger batches are not one event.
MAX_EVENT_PARTICLES: Final[int] = 9000
#: Batch size (particles) of the headline speed-up, the largest event: the teacher's time for
#: one such event over DistillNet's for as many particles (bench.json's ``speedup_at_9000``).
SPEEDUP_BATCH: Final[int] = MAX_EVENT_PARTICLES
#: A point whose CPU time exceeds its wall time by more than this factor ran on several cores.
CPU_OVER_WALL_LIMIT: Final[float] = 1.25
#: Particles used to check that a timed call computes the model's own predictions.
_CHECK_PARTICLES: Final[int] = 256
_CHECK_TOLERANCE: Final[float] = 1e-5


@dataclass(frozen=True)
class BenchOptions:
    """Batch sizes (particles), repeats and warm-up calls per point, time budget per point (s)."""

    batch_sizes: tuple[int, ...] = DEFAULT_BATCH_SIZES
    repeats: int = DEFAULT_REPEATS
    warmup: int = DEFAULT_WARMUP
    budget_s: float = DEFAULT_BUDGET_S
    seed: int = 0
    keras_call: str = DEFAULT_KERAS_CALL

    def validate(self) -> None:
        """Raise QdistillError naming the first bad option."""
        if not self.batch_sizes:
            raise QdistillError("--batch-sizes is empty; give e.g. 1,10,100,1000,9000,90000")
        bad = [n for n in self.batch_sizes if n < 1]
        if bad:
            raise QdistillError(
                f"--batch-sizes: {bad[0]} is not a positive number of particles; "
                "give e.g. 1,10,100,1000,9000,90000"
            )
        if self.repeats < 1:
            raise QdistillError(f"--repeats must be at least 1, got {self.repeats}")
        if self.warmup < 0:
            raise QdistillError(f"--warmup must be 0 or more, got {self.warmup}")
        if not self.budget_s > 0:
            raise QdistillError(f"--budget-seconds must be positive, got {self.budget_s}")
        if self.keras_call not in KERAS_CALLS:
            raise QdistillError(
                f"--keras-call {self.keras_call!r}: choose one of {list(KERAS_CALLS)}"
            )


def parse_batch_sizes(text: str) -> tuple[int, ...]:
    """``"1,10,100"`` → ``(1, 10, 100)`` (sorted, duplicates dropped); QdistillError if bad."""
    try:
        sizes = [int(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        raise QdistillError(
            f"--batch-sizes {text!r}: give comma-separated whole numbers of particles, "
            "e.g. 1,10,100,1000,9000,90000"
        ) from None
    options = BenchOptions(batch_sizes=tuple(sizes))
    options.validate()
    return tuple(sorted(set(sizes)))


def bench_options(
    *,
    batch_sizes: str | None = None,
    repeats: int | None = None,
    warmup: int | None = None,
    budget_s: float | None = None,
    seed: int = 0,
    quick: bool = False,
    keras_call: str | None = None,
) -> BenchOptions:
    """Options from the command line: what is not given takes the default (or the quick one)."""
    options = BenchOptions(
        batch_sizes=(
            parse_batch_sizes(batch_sizes)
            if batch_sizes is not None
            else (QUICK_BATCH_SIZES if quick else DEFAULT_BATCH_SIZES)
        ),
        repeats=repeats if repeats is not None else (QUICK_REPEATS if quick else DEFAULT_REPEATS),
        warmup=warmup if warmup is not None else (QUICK_WARMUP if quick else DEFAULT_WARMUP),
        budget_s=budget_s if budget_s is not None else DEFAULT_BUDGET_S,
        seed=seed,
        keras_call=keras_call if keras_call is not None else DEFAULT_KERAS_CALL,
    )
    options.validate()
    return options


@dataclass(frozen=True)
class Measurement:
    """Wall-clock time of each timed repeat (s), CPU time over wall time across them, and the
    number of warm-up calls made."""

    seconds: tuple[float, ...]
    cpu_over_wall: float
    warmup_calls: int


def time_call(call: Callable[[], Any], warmup: int, repeats: int, budget_s: float) -> Measurement:
    """Time ``call``: up to ``warmup`` untimed calls, then up to ``repeats`` timed ones.

    Warm-up stops after one call once warm-up has used :data:`WARMUP_BUDGET_FRACTION` of
    ``budget_s`` (a call that long is past any tracing or cache effect); the timed calls stop
    once they have used ``budget_s`` seconds and at least ``min(MIN_REPEATS, repeats)`` are done.
    """
    warm_start = time.perf_counter()
    warmup_calls = 0
    while warmup_calls < warmup:
        call()
        warmup_calls += 1
        if time.perf_counter() - warm_start > WARMUP_BUDGET_FRACTION * budget_s:
            break
    least = min(MIN_REPEATS, repeats)
    gc_was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        seconds: list[float] = []
        cpu0 = time.process_time()
        start = time.perf_counter()
        for _ in range(repeats):
            t0 = time.perf_counter()
            call()
            t1 = time.perf_counter()
            seconds.append(t1 - t0)
            if len(seconds) >= least and t1 - start > budget_s:
                break
        wall = time.perf_counter() - start
        cpu = time.process_time() - cpu0
    finally:
        if gc_was_enabled:
            gc.enable()
    return Measurement(
        seconds=tuple(seconds),
        cpu_over_wall=cpu / wall if wall > 0 else 1.0,
        warmup_calls=warmup_calls,
    )


def _check_against_reference(model: Benchmarked, source: ParticleSource) -> float | None:
    """Largest |timed call − model's own prediction| on a few particles; QdistillError if off."""
    if model.reference is None:
        return None
    x = source.event(_CHECK_PARTICLES) if model.per_event else source.particles(_CHECK_PARTICLES)
    timed = np.asarray(model.make_call(x)(), dtype=np.float64).reshape(-1)
    ref = np.asarray(model.reference(x), dtype=np.float64).reshape(-1)
    if timed.shape != ref.shape:
        raise QdistillError(
            f"{model.name}: the timed call returns {timed.shape[0]} weights for "
            f"{_CHECK_PARTICLES} particles, its predict {ref.shape[0]}"
        )
    diff = float(np.max(np.abs(timed - ref)))
    if not diff <= _CHECK_TOLERANCE:
        raise QdistillError(
            f"{model.name}: the timed call differs from the model's own predict by {diff:.3g}; "
            "the benchmark would not time the real model"
        )
    return diff


def _plan(
    models: Sequence[Benchmarked], batch_sizes: Sequence[int]
) -> tuple[list[tuple[Benchmarked, int]], list[dict[str, Any]]]:
    """Points to time, batch size by batch size (so that a change of machine load over the run
    touches every model alike), and the points a model's ``max_batch`` rules out."""
    points: list[tuple[Benchmarked, int]] = []
    skipped: list[dict[str, Any]] = []
    for n in batch_sizes:
        for model in models:
            if model.max_batch is not None and n > model.max_batch:
                skipped.append(
                    {
                        "model": model.name,
                        "batch_particles": n,
                        "reason": f"above {model.max_batch} particles, the largest batch "
                        f"{model.name} is timed on"
                        + (" (it works on one event at a time)" if model.per_event else ""),
                    }
                )
            else:
                points.append((model, n))
    return points, skipped


def measure(
    models: Sequence[Benchmarked],
    source: ParticleSource,
    options: BenchOptions,
    *,
    progress: bool = True,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """Time every model at every batch size; return (rows, skipped points, per-model checks)."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    points, skipped = _plan(models, options.batch_sizes)
    checks: dict[str, Any] = {}
    rows: list[dict[str, Any]] = []
    console = Console(stderr=True)
    with Progress(
        TextColumn("[bold]bench[/] {task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        disable=not progress,
        transient=False,
    ) as bar:
        task = bar.add_task("checking models", total=len(points))
        for model in models:
            checks[model.name] = {
                "max_abs_diff_to_predict": _check_against_reference(model, source)
            }
        for model, n in points:
            bar.update(task, description=f"{model.name} N={n}")
            features = source.event(n) if model.per_event else source.particles(n)
            call = model.make_call(features)
            m = time_call(call, options.warmup, options.repeats, options.budget_s)
            stats = summarise(m.seconds)
            rows.append(
                {
                    "model": model.name,
                    "batch_particles": n,
                    "seconds_per_batch": stats.median_s,
                    "particles_per_second": n / stats.median_s if stats.median_s > 0 else None,
                    "spread": stats.spread(),
                    "repeats": stats.repeats,
                    "warmup": m.warmup_calls,
                    "cpu_over_wall": m.cpu_over_wall,
                    "per_event": model.per_event,
                }
            )
            bar.advance(task)
    order = {m.name: i for i, m in enumerate(models)}
    rows.sort(key=lambda r: (order[r["model"]], r["batch_particles"]))
    return rows, skipped, checks


def speedup_at(rows: Sequence[dict[str, Any]], batch: int = SPEEDUP_BATCH) -> float | None:
    """Teacher median time for one ``batch``-particle event over DistillNet's for ``batch``."""
    median = {r["model"]: r["seconds_per_batch"] for r in rows if r["batch_particles"] == batch}
    teacher, student = median.get("teacher"), median.get("distillnet")
    if teacher is None or not student:
        return None
    return teacher / student


def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version(), "qdistill": __version__}
    for dist in ("tensorflow", "tf-keras", "qkeras", "hls4ml", "numpy"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = None
    return out


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _load_average() -> float | None:
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def _host(load_start: float | None) -> dict[str, Any]:
    """The machine the benchmark ran on, with the 1-minute load before and after."""
    return {
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpu_affinity": cpu_affinity(),
        "platform": platform.platform(),
        "load_average_1min": {"start": load_start, "end": _load_average()},
    }


def _model_entry(model: Benchmarked, checks: dict[str, Any]) -> dict[str, Any]:
    """One model's bench.json entry: what it is and what was checked on it."""
    return {
        "label": model.label,
        "source": model.source,
        "method": model.method,
        "per_event": model.per_event,
        "max_batch_particles": model.max_batch,
        **model.checks,
        **checks,
    }


def run_latency_benchmark(
    models: Sequence[Benchmarked],
    source: ParticleSource,
    options: BenchOptions,
    thread_settings: dict[str, Any],
    *,
    skipped_models: Sequence[dict[str, str]] = (),
    progress: bool = True,
) -> dict[str, Any]:
    """Measure ``models`` and return the bench.json object.

    ``thread_settings`` is what :func:`qdistill.bench.threads.pin_one_thread` returned, called
    before the models were loaded; BLAS/OpenMP pools are limited to one thread while timing.
    """
    options.validate()
    if not models:
        raise QdistillError(
            "no model to benchmark: give at least one of --teacher, --distillnet, "
            "--qdistillnet, --project"
        )
    load_start = _load_average()
    started = datetime.now(UTC)
    with limited_threadpools() as pools:
        rows, skipped_points, checks = measure(models, source, options, progress=progress)
    tf_threads = thread_settings.get("tensorflow", {})
    one_thread = (
        tf_threads.get("intra_op") == 1
        and tf_threads.get("inter_op") == 1
        and all(p.get("num_threads") == 1 for p in pools)
    )
    busiest = max((r["cpu_over_wall"] for r in rows), default=0.0)
    warnings = _warnings(models, busiest, one_thread)
    return manifest.tagged(
        RESULT_KIND,
        RESULT_VERSION,
        {
            "created_utc": started.isoformat(timespec="seconds"),
            "wall_seconds": (datetime.now(UTC) - started).total_seconds(),
            "host": _host(load_start),
            "versions": _versions(),
            "threads": {
                **thread_settings,
                "threadpools": pools,
                "one_thread": one_thread,
                "max_cpu_over_wall": busiest,
            },
            "settings": {
                "batch_sizes": list(options.batch_sizes),
                "repeats": options.repeats,
                "min_repeats": min(MIN_REPEATS, options.repeats),
                "warmup": options.warmup,
                "budget_seconds_per_point": options.budget_s,
                "keras_call": options.keras_call,
                "timer": "time.perf_counter, garbage collector off while timing",
                "inputs": source.describe(),
            },
            "models": {m.name: _model_entry(m, checks.get(m.name, {})) for m in models},
            "skipped_models": list(skipped_models),
            "skipped_points": skipped_points,
            "warnings": warnings,
            "rows": rows,
            "speedup_at_9000": speedup_at(rows, SPEEDUP_BATCH),
        },
    )


def _warnings(models: Sequence[Benchmarked], busiest: float, one_thread: bool) -> list[str]:
    """What makes the measurement doubtful: cores busy, threads not pinned, golden misses."""
    warnings: list[str] = []
    if busiest > CPU_OVER_WALL_LIMIT:
        warnings.append(
            f"a point used {busiest:.2f} s of CPU per second of wall time: more than one core "
            "worked despite the one-thread settings"
        )
    if not one_thread:
        warnings.append("not every framework reported one thread (see threads)")
    for m in models:
        if m.checks.get("golden_match") is False:
            warnings.append(
                f"{m.name}: {m.checks['golden_exact']} of {m.checks['golden_particles']} golden "
                "outputs reproduced; run `qdistill csim` on the project"
            )
    return warnings


def write_bench_outputs(result: dict[str, Any], out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write DIR/latency.png, DIR/latency.pdf and then DIR/bench.json, each atomically."""

    from qdistill.atomic import write_text_atomic
    from qdistill.bench.plot import plot_latency

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = plot_latency(result, out)
    target = out / BENCH_JSON
    write_text_atomic(target, manifest.dumps(result))
    return [*written, target]


def log(message: str) -> None:
    """One line of progress on standard error."""
    print(f"qdistill bench: {message}", file=sys.stderr)


@dataclass(frozen=True)
class ModelPaths:
    """Where the models under test live; None skips that model."""

    teacher: Path | None = None
    distillnet: Path | None = None
    qdistillnet: Path | None = None
    project: Path | None = None

    def given(self) -> dict[str, Path]:
        return {k: v for k, v in vars(self).items() if v is not None}


#: Model name in bench.json → (option that gives it, the command that makes it).
MODEL_OPTIONS: Final[dict[str, tuple[str, str, str]]] = {
    "teacher": ("teacher", "--teacher", "qdistill teacher train"),
    "distillnet": ("distillnet", "--distillnet", "qdistill train --model distillnet"),
    "qdistillnet": ("qdistillnet", "--qdistillnet", "qdistill train --model qdistillnet"),
    "qdistillnet_csim": ("project", "--project", "qdistill convert"),
}


def reference_paths() -> ModelPaths:
    """What ``qdistill bench`` times when no model is given: the committed reference project.

    ``firmware_projects/qdistillnet`` holds a trained QDistillNet in the student layout, so it
    gives both the QKeras model and the C simulation. QdistillError if it is not there.
    """
    from qdistill.firmware import DEFAULT_PROJECT
    from qdistill.firmware.project import PROJECT_JSON

    project = Path(DEFAULT_PROJECT)
    if not (project / PROJECT_JSON).is_file():
        raise QdistillError(
            "no model to benchmark: give at least one of --teacher, --distillnet, "
            f"--qdistillnet, --project (the default, {DEFAULT_PROJECT}, is not here)"
        )
    log(f"no model given: timing the reference project {project} (QKeras and C simulation)")
    return ModelPaths(qdistillnet=project, project=project)


def check_inputs(
    paths: ModelPaths, options: BenchOptions, data: Path | None, out_dir: Path
) -> None:
    """Everything that can be checked before TensorFlow is imported; QdistillError if bad."""
    from qdistill.bench.loaders import require_directory

    options.validate()
    if out_dir.exists() and not out_dir.is_dir():
        raise QdistillError(f"-o {out_dir}: exists and is not a directory; give a directory")
    for field_name, option, made_by in MODEL_OPTIONS.values():
        path = getattr(paths, field_name)
        if path is not None:
            require_directory(path, option, made_by)
    if data is not None and not Path(data).is_file():
        raise QdistillError(
            f"--data {data}: no such file (make one with `qdistill data generate`, or leave "
            "--data out to time synthetic particles)"
        )


def load_models(
    paths: ModelPaths, keras_call: str = DEFAULT_KERAS_CALL
) -> tuple[list[Benchmarked], list[dict[str, str]]]:
    """Load every model given; return them and the skipped ones with the reason."""
    from qdistill.bench import loaders

    models: list[Benchmarked] = []
    skipped: list[dict[str, str]] = []
    for name, (field_name, option, _) in MODEL_OPTIONS.items():
        path = getattr(paths, field_name)
        if path is None:
            reason = f"not given ({option} DIR)"
            skipped.append({"model": name, "reason": reason})
            log(f"skipping {name}: {reason}")
            continue
        log(f"loading {name} from {path}")
        if name == "teacher":
            models.append(loaders.load_teacher_benchmark(path, MAX_EVENT_PARTICLES))
        elif name == "qdistillnet_csim":
            models.append(loaders.load_csim_benchmark(path))
        else:
            models.append(loaders.load_student_benchmark(path, name, keras_call))
    return models, skipped


def benchmark_latency(
    paths: ModelPaths,
    options: BenchOptions,
    out_dir: str | os.PathLike[str],
    *,
    data: Path | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """The whole ``qdistill bench``: check, pin one thread, load, measure, write; return bench.json.

    With no model in ``paths``, times the reference project (:func:`reference_paths`). Must run
    in a process where TensorFlow has not executed anything yet (see
    :func:`qdistill.bench.threads.pin_one_thread`).
    """
    from qdistill.bench.threads import pin_one_thread

    options.validate()
    if not paths.given():
        paths = reference_paths()
    check_inputs(paths, options, data, Path(out_dir))
    thread_settings = pin_one_thread()
    models, skipped = load_models(paths, options.keras_call)
    source = ParticleSource(data, max(options.batch_sizes), options.seed)
    result = run_latency_benchmark(
        models, source, options, thread_settings, skipped_models=skipped, progress=progress
    )
    for warning in result["warnings"]:
        log(f"warning: {warning}")
    written = write_bench_outputs(result, out_dir)
    log("wrote " + ", ".join(str(p) for p in written))
    return result


def format_table(result: dict[str, Any]) -> str:
    """The rows of ``result`` as a plain-text table, with the speed-up at 9000 particles."""
    header = (
        f"{'model':<18}{'particles':>10}{'median':>12}{'p16':>11}{'p84':>11}{'particles/s':>14}"
    )
    lines = [header, "-" * len(header)]
    for r in result["rows"]:
        pps = r["particles_per_second"]
        lines.append(
            f"{r['model']:<18}{r['batch_particles']:>10}"
            f"{_si_seconds(r['seconds_per_batch']):>12}"
            f"{_si_seconds(r['spread']['p16_s']):>11}{_si_seconds(r['spread']['p84_s']):>11}"
            f"{(f'{pps:.3g}' if pps else '-'):>14}"
        )
    speedup = result.get("speedup_at_9000")
    lines.append(
        f"speed-up at {SPEEDUP_BATCH} particles (teacher per event / DistillNet): "
        + (f"{speedup:.0f}x" if speedup is not None else "n/a (needs --teacher and --distillnet)")
    )
    for s in result.get("skipped_models", []):
        lines.append(f"skipped {s['model']}: {s['reason']}")
    return "\n".join(lines)


def _si_seconds(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"
