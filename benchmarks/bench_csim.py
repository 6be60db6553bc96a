"""Time the firmware path: hls4ml conversion + g++ compilation + C simulation of N particles.

    python benchmarks/bench_csim.py [--model-dir models/qdistillnet] [--golden-data TTBAR.h5]
                                    [--particles 4096] [--repeats 3] [--json]

Without ``--model-dir`` a QDistillNet-shaped model (qdistill.student.models.build_qdistillnet,
deployed form, random 75 %-sparse weights, seed 0) is used; without ``--golden-data`` the golden
inputs are a seeded sweep of the input type's range. Everything happens in a temporary folder.
Reports the ``qdistill convert`` wall time (conversion, compilation, golden outputs), the
``qdistill csim`` check's timings, and the C simulation throughput (best of ``--repeats`` runs of
``run_csim`` on all particles, through hls4ml's ``ModelGraph.predict``: one ctypes call a particle).
Run it on an otherwise idle machine; g++ dominates and is sensitive to load.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from qdistill import manifest


def _random_model_dir(path: Path, seed: int) -> Path:
    from qdistill.keras_backend import import_tensorflow

    import_tensorflow(1)
    from qdistill.student import models

    rng = np.random.default_rng(seed)
    model = models.build_qdistillnet(batchnorm=False)
    for layer in model.layers:
        weights = layer.get_weights()
        if weights:
            kernel = rng.normal(0.0, 0.4, weights[0].shape)
            kernel[rng.random(kernel.shape) < 0.75] = 0.0
            layer.set_weights([kernel, rng.normal(0.0, 0.2, weights[1].shape)])
    path.mkdir(parents=True)
    model.save(path / "model.h5")
    (path / "preprocessing.json").write_text("{}\n")  # not read: no --golden-data here
    (path / "student.json").write_text(
        manifest.dumps(manifest.tagged("student", 1, {"model": "qdistillnet"}))
    )
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", type=Path, default=None, help="trained QDistillNet folder")
    parser.add_argument("--golden-data", type=Path, default=None, help="event file (HDF5)")
    parser.add_argument("--particles", type=int, default=4096, help="golden particles")
    parser.add_argument("--repeats", type=int, default=3, help="C simulation repeats")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    from qdistill.errors import QdistillError
    from qdistill.firmware.convert import convert_model
    from qdistill.firmware.csim import check_project, run_csim

    try:
        with tempfile.TemporaryDirectory(prefix="qdistill-bench-csim-") as tmp:
            model_dir = args.model_dir or _random_model_dir(Path(tmp) / "model", seed=0)
            t0 = time.perf_counter()
            project = convert_model(
                model_dir,
                Path(tmp) / "project",
                golden_data=args.golden_data,
                golden_particles=args.particles,
            )
            convert_wall = time.perf_counter() - t0
            t1 = time.perf_counter()
            report = check_project(project)
            csim_wall = time.perf_counter() - t1
            inputs = project.golden_inputs()
            run_csim(project, inputs[:1])  # reuse the library compiled by check_project
            best = min(_timed(lambda: run_csim(project, inputs)) for _ in range(args.repeats))
    except QdistillError as exc:
        sys.stderr.write(f"bench_csim: error: {exc}\n")
        return 1
    result: dict[str, Any] = {
        "particles": report.particles,
        "model": str(args.model_dir or "random QDistillNet-shaped model (seed 0)"),
        "golden_data": str(args.golden_data or "input-range sweep"),
        "convert_wall_seconds": round(convert_wall, 2),
        "csim_check_wall_seconds": round(csim_wall, 2),
        "csim_convert_seconds": report.convert_seconds,
        "csim_compile_seconds": report.compile_seconds,
        "csim_simulate_seconds": report.simulate_seconds,
        "convert_compile_simulate_seconds": round(
            report.convert_seconds + report.compile_seconds + report.simulate_seconds, 2
        ),
        "particles_per_second_best": round(report.particles / best, 1),
        "golden_match": report.golden_match,
        "qkeras_logit_exact_fraction": report.qkeras_logit_exact_fraction,
        "qkeras_exact_fraction": report.qkeras_exact_fraction,
        "cpu_count": os.cpu_count(),
        "load_average": os.getloadavg(),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:36s} {value}")
    return 0


def _timed(fn: Any) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


if __name__ == "__main__":
    sys.exit(main())
