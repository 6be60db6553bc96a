"""Speed and bit-exactness of the NumPy firmware emulator against the other ways to run the network.

    python benchmarks/bench_emulate.py [PROJECT] [--sizes 9000,1000000] [--data TTBAR.h5] [--json]

One process, one thread (OMP/MKL/OpenBLAS and TensorFlow pinned to 1 thread, BLAS pools limited
with threadpoolctl). For each size N: particles/s of

* ``emulator``: :class:`qdistill.firmware.emulate.Emulator` on firmware inputs (its plans in
  the Numba kernel of :mod:`qdistill.firmware.emulate_steps`);
* ``numpy``: the same emulator's plans as NumPy steps (``Emulator(spec, compiled=False)``);
* ``csim``: hls4ml's compiled C simulation (``run_csim``, one ctypes call a particle);
* ``da4ml``: da4ml's interpreter of the traced logic (``comb.predict``; tracing not timed);
* ``qkeras``: the QKeras model's ``predict`` (float sigmoid; not bit-exact, batch 4096).

Every method runs on all N particles (nothing is extrapolated), for each input set: seeded
uniform vectors over the input type's range ± 4 LSB (saturation; most blocks take the emulator's
float64 path) and, with ``--data``, the first N particles of an event file, preprocessed and
quantized (the float32 path, as in ``qdistill evaluate``). On the largest N of each set the
emulator's outputs are compared with the C simulation's bit for bit. The project is copied to a
temporary folder for compiling, so the committed one is not touched.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("project", nargs="?", default=None, help="firmware project folder")
    parser.add_argument("--sizes", default="9000,1000000", help="particle counts, comma-separated")
    parser.add_argument(
        "--data", type=Path, default=None, help="event file: its particles are a second input set"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the random inputs")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    from qdistill.bench.threads import limited_threadpools, pin_one_thread

    threads = pin_one_thread()  # before anything starts TensorFlow or BLAS pools
    from qdistill.errors import QdistillError
    from qdistill.firmware import DEFAULT_PROJECT
    from qdistill.firmware.project import HLS_DIR, load_project

    sizes = sorted(int(s) for s in args.sizes.split(","))
    source = Path(args.project or DEFAULT_PROJECT)
    try:
        with tempfile.TemporaryDirectory(prefix="qdistill-bench-emulate-") as tmp:
            copy = Path(tmp) / source.name
            shutil.copytree(source, copy, ignore=shutil.ignore_patterns(HLS_DIR, "rtl"))
            project = load_project(copy)
            methods, emulator, setup = _methods(project)
            input_sets = _input_sets(emulator, sizes[-1], args.seed, args.data)
            with limited_threadpools() as pools:
                for fn in methods.values():  # warm-up: first calls load libraries, build graphs
                    fn(next(iter(input_sets.values()))[:64])
                rows, checks = [], []
                for what, inputs in input_sets.items():
                    set_rows, outputs = _time_methods(methods, inputs, sizes, what)
                    rows += set_rows
                    checks.append(_check(what, outputs))
    except QdistillError as exc:
        sys.stderr.write(f"bench_emulate: error: {exc}\n")
        return 1
    result: dict[str, Any] = {
        "project": str(source),
        "rows": rows,
        "speedup_vs_csim": _speedups(rows),
        "bit_exact_checks": checks,
        "setup_seconds": setup,
        "dense_paths": emulator.emulator.dense_paths,
        "compiled_plans": emulator.emulator.compiled,
        "float32_input_limit": emulator.emulator.float32_input_limit,
        "threads": threads,
        "blas_pools": pools,
        "cpu_count": os.cpu_count(),
        "load_average": os.getloadavg(),
    }
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    else:
        print(_table(rows, sizes))
        for check in checks:
            print(
                f"bit-exact, emulator vs C simulation on {check['what']}: "
                f"{check['emulator_equals_csim']}/{check['particles']} "
                f"(NumPy steps {check['numpy_steps_equal_csim']}/{check['particles']})"
            )
    exact = all(
        c["emulator_equals_csim"] == c["numpy_steps_equal_csim"] == c["particles"] for c in checks
    )
    return 0 if exact else 1


def _methods(project: Any) -> tuple[dict[str, Callable[[np.ndarray], Any]], Any, dict[str, float]]:
    """The four ways to run the network, the project's emulator and their set-up times (s)."""
    from qdistill.firmware.csim import run_csim
    from qdistill.firmware.emulate import Emulator, ProjectEmulator
    from qdistill.firmware.rtl_network import trace_network

    setup_s, emulator = _timed(lambda: ProjectEmulator.load(project))
    numpy_steps = Emulator(emulator.emulator.spec, compiled=False)
    compile_s, _ = _timed(project.compiled_hls_model)
    trace_s, comb = _timed(lambda: trace_network(emulator.emulator.spec, 4.0))
    model = project.keras_model()
    methods: dict[str, Callable[[np.ndarray], Any]] = {
        "emulator": emulator.run_inputs,
        "numpy": lambda x: numpy_steps.run(x)[:, 0],
        "csim": lambda x: run_csim(project, x),
        "da4ml": lambda x: comb.predict(np.ascontiguousarray(x)),
        "qkeras": lambda x: model.predict(x.astype(np.float32), batch_size=4096, verbose=0),
    }
    setup = {
        "emulator_load": round(setup_s, 2),
        "csim_compile": round(compile_s, 2),
        "da4ml_trace": round(trace_s, 2),
    }
    return methods, emulator, setup


def _input_sets(emulator: Any, n: int, seed: int, data: Path | None) -> dict[str, np.ndarray]:
    """Firmware inputs (n, 16): seeded uniform over the input type ± 4 LSB (saturation), and
    with ``data`` the first n particles of that event file, preprocessed and quantized."""
    from qdistill.errors import QdistillError
    from qdistill.firmware.rtl_fixed import cast_values

    t = emulator.emulator.spec.input_type
    rng = np.random.default_rng(seed)
    raw = rng.uniform(t.low - 4 * t.lsb, t.high + 4 * t.lsb, (n, emulator.emulator.spec.n_inputs))
    sets = {"random inputs over the input range ±4 LSB": cast_values(raw, t)}
    if data is not None:
        features = _event_features(data, n)
        if len(features) < n:
            raise QdistillError(f"{data}: {len(features)} particles, fewer than the {n} asked for")
        sets[f"{data.name} particles, preprocessed and quantized"] = emulator.firmware_inputs(
            features
        )
    return sets


def _time_methods(
    methods: dict[str, Callable[[np.ndarray], Any]],
    inputs: np.ndarray,
    sizes: list[int],
    what: str,
) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
    """Every method on the first n inputs for each n; rows and the outputs at the largest n."""
    rows: list[dict[str, Any]] = []
    outputs: dict[str, np.ndarray] = {}
    for n in sizes:
        x = inputs[:n]
        for name, fn in methods.items():
            seconds, out = _timed(lambda fn=fn, x=x: fn(x))
            rows.append(
                {
                    "inputs": what,
                    "method": name,
                    "particles": n,
                    "seconds": round(seconds, 4),
                    "particles_per_second": round(n / seconds, 1),
                }
            )
            if n == sizes[-1]:
                outputs[name] = np.asarray(out, dtype=np.float64).reshape(n)
            _log(f"{what[:24]:24s} {name:9s} {n:>9d} particles: {n / seconds:,.0f} particles/s")
    return rows, outputs


def _speedups(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Emulator over C simulation, per input set and size."""
    rate = {(r["inputs"], r["method"], r["particles"]): r["particles_per_second"] for r in rows}
    return [
        {
            "inputs": what,
            "particles": n,
            "speedup": round(rate[(what, "emulator", n)] / rate[(what, "csim", n)], 1),
        }
        for (what, method, n) in rate
        if method == "emulator"
    ]


def _check(what: str, outputs: dict[str, Any]) -> dict[str, Any]:
    emu, csim = outputs["emulator"], outputs["csim"]
    return {
        "what": what,
        "particles": len(emu),
        "emulator_equals_csim": int(np.sum(emu == csim)),
        "numpy_steps_equal_csim": int(np.sum(outputs["numpy"] == csim)),
        "distinct_outputs": len(np.unique(csim)),
    }


def _event_features(path: Path, n: int) -> np.ndarray:
    from qdistill.data.layout import EventFile

    with EventFile(path) as events:
        return events.particles("features", 0, min(n, events.n_particles))


def _table(rows: list[dict[str, Any]], sizes: list[int]) -> str:
    rate = {(r["inputs"], r["method"], r["particles"]): r["particles_per_second"] for r in rows}
    lines = []
    for what in dict.fromkeys(r["inputs"] for r in rows):
        lines.append(f"{what}:")
        lines.append(f"  {'method':10s}" + "".join(f"{n:>16,d}" for n in sizes) + "  particles/s")
        for m in dict.fromkeys(r["method"] for r in rows):
            lines.append(f"  {m:10s}" + "".join(f"{rate[(what, m, n)]:>16,.0f}" for n in sizes))
    return "\n".join(lines)


def _log(message: str) -> None:
    sys.stderr.write(f"bench_emulate: {message}\n")


if __name__ == "__main__":
    sys.exit(main())
