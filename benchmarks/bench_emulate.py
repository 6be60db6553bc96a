"""Speed and bit-exactness of the NumPy firmware emulator against the other ways to run the network.

    python benchmarks/bench_emulate.py [PROJECT] [--sizes 9000,1000000] [--data TTBAR.h5]
                                       [--data-particles 200000] [--json]

One process, one thread (OMP/MKL/OpenBLAS and TensorFlow pinned to 1 thread, BLAS pools limited
with threadpoolctl). For each size N: particles/s of

* ``emulator``: :class:`qdistill.firmware.emulate.Emulator` on firmware inputs;
* ``csim``: hls4ml's compiled C simulation (``run_csim``, one ctypes call a particle);
* ``da4ml``: da4ml's interpreter of the traced logic (``comb.predict``; tracing not timed);
* ``qkeras``: the QKeras model's ``predict`` (float sigmoid; not bit-exact, batch 4096).

Every method runs on all N particles (nothing is extrapolated). The inputs are seeded uniform
vectors over the input type's range, ± 4 LSB beyond it, so saturation is exercised; the emulator's
outputs are compared with the C simulation's bit for bit on the largest N, and with ``--data`` on
that many preprocessed and quantized particles of an event file too. The project is copied to a
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
    parser.add_argument("--data", type=Path, default=None, help="event file for a check")
    parser.add_argument("--data-particles", type=int, default=200_000, help="particles of --data")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random inputs")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    from qdistill.bench.threads import limited_threadpools, pin_one_thread

    threads = pin_one_thread()  # before anything starts TensorFlow or BLAS pools
    from qdistill.errors import QdistillError
    from qdistill.firmware import DEFAULT_PROJECT
    from qdistill.firmware.csim import run_csim
    from qdistill.firmware.emulate import ProjectEmulator
    from qdistill.firmware.project import HLS_DIR, load_project
    from qdistill.firmware.rtl_fixed import cast_values
    from qdistill.firmware.rtl_network import trace_network

    sizes = sorted(int(s) for s in args.sizes.split(","))
    source = Path(args.project or DEFAULT_PROJECT)
    rows: list[dict[str, Any]] = []
    checks: list[dict[str, Any]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="qdistill-bench-emulate-") as tmp:
            copy = Path(tmp) / source.name
            shutil.copytree(source, copy, ignore=shutil.ignore_patterns(HLS_DIR, "rtl"))
            project = load_project(copy)
            setup_s, emulator = _timed(lambda: ProjectEmulator.load(project))
            compile_s, _ = _timed(project.compiled_hls_model)
            spec = emulator.emulator.spec
            trace_s, comb = _timed(lambda: trace_network(spec, 4.0))
            model = project.keras_model()
            t = spec.input_type
            rng = np.random.default_rng(args.seed)
            raw = rng.uniform(t.low - 4 * t.lsb, t.high + 4 * t.lsb, (sizes[-1], spec.n_inputs))
            inputs = cast_values(raw, t)  # firmware input values (the C simulation's own cast)
            methods: dict[str, Callable[[np.ndarray], Any]] = {
                "emulator": emulator.run_inputs,
                "csim": lambda x: run_csim(project, x),
                "da4ml": lambda x: comb.predict(np.ascontiguousarray(x)),
                "qkeras": lambda x: model.predict(x.astype(np.float32), batch_size=4096, verbose=0),
            }
            with limited_threadpools() as pools:
                for x in (inputs[:64],):  # warm-up: first calls load libraries / build graphs
                    for fn in methods.values():
                        fn(x)
                outputs: dict[str, Any] = {}
                for n in sizes:
                    x = inputs[:n]
                    for name, fn in methods.items():
                        seconds, out = _timed(lambda fn=fn, x=x: fn(x))
                        rows.append(
                            {
                                "method": name,
                                "particles": n,
                                "seconds": round(seconds, 4),
                                "particles_per_second": round(n / seconds, 1),
                            }
                        )
                        if n == sizes[-1]:
                            outputs[name] = np.asarray(out, dtype=np.float64).reshape(n)
                        _log(f"{name:9s} {n:>9d} particles: {n / seconds:,.0f} particles/s")
                checks.append(_check("random inputs over the input range ±4 LSB", outputs))
                if args.data is not None:
                    features = _event_features(args.data, args.data_particles)
                    x = emulator.firmware_inputs(features)
                    checks.append(
                        _check(
                            f"{args.data} ({len(x)} particles, preprocessed and quantized)",
                            {"emulator": emulator.run_inputs(x), "csim": run_csim(project, x)},
                        )
                    )
    except QdistillError as exc:
        sys.stderr.write(f"bench_emulate: error: {exc}\n")
        return 1
    emulator_rate = {
        r["particles"]: r["particles_per_second"] for r in rows if r["method"] == "emulator"
    }
    csim_rate = {r["particles"]: r["particles_per_second"] for r in rows if r["method"] == "csim"}
    result: dict[str, Any] = {
        "project": str(source),
        "rows": rows,
        "speedup_vs_csim": {n: round(emulator_rate[n] / csim_rate[n], 1) for n in sizes},
        "bit_exact_checks": checks,
        "setup_seconds": {
            "emulator_load": round(setup_s, 2),
            "csim_compile": round(compile_s, 2),
            "da4ml_trace": round(trace_s, 2),
        },
        "dense_paths": emulator.emulator.dense_paths,
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
                f"{check['emulator_equals_csim']}/{check['particles']}"
            )
    return 0 if all(c["emulator_equals_csim"] == c["particles"] for c in checks) else 1


def _check(what: str, outputs: dict[str, Any]) -> dict[str, Any]:
    emu, csim = outputs["emulator"], outputs["csim"]
    return {
        "what": what,
        "particles": len(emu),
        "emulator_equals_csim": int(np.sum(emu == csim)),
        "distinct_outputs": len(np.unique(csim)),
    }


def _event_features(path: Path, n: int) -> np.ndarray:
    from qdistill.data.layout import EventFile

    with EventFile(path) as events:
        return events.particles("features", 0, min(n, events.n_particles))


def _table(rows: list[dict[str, Any]], sizes: list[int]) -> str:
    methods = list(dict.fromkeys(r["method"] for r in rows))
    rate = {(r["method"], r["particles"]): r["particles_per_second"] for r in rows}
    lines = [f"{'method':10s}" + "".join(f"{n:>16,d}" for n in sizes) + "   (particles/s)"]
    for m in methods:
        lines.append(f"{m:10s}" + "".join(f"{rate[(m, n)]:>16,.0f}" for n in sizes))
    return "\n".join(lines)


def _log(message: str) -> None:
    sys.stderr.write(f"bench_emulate: {message}\n")


if __name__ == "__main__":
    sys.exit(main())
