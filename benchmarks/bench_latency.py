"""CPU latency of the teacher, DistillNet, QDistillNet and the hls4ml C simulation (figure 5).

A thin wrapper over :func:`qdistill.bench.latency.benchmark_latency` (the same as
``qdistill bench``) that finds the models in the usual places: ``MODELS/teacher``,
``MODELS/distillnet``, ``MODELS/qdistillnet`` and the firmware project
``firmware_projects/qdistillnet``. Whatever is missing is skipped (and said so).

    python benchmarks/bench_latency.py --models models -o bench_results [--quick] [--data TEST.h5]

Run it in a fresh process on an otherwise idle machine: one thread is enforced, but other jobs
on the same core still slow it down (bench.json records the load average before and after).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qdistill.bench.latency import ModelPaths, bench_options, benchmark_latency, format_table
from qdistill.errors import QdistillError
from qdistill.firmware.project import DEFAULT_PROJECT


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=Path, default=Path("models"), help="folder of models")
    parser.add_argument("--project", type=Path, default=Path(DEFAULT_PROJECT), help="project")
    parser.add_argument("-o", "--output", type=Path, default=Path("bench_results"))
    parser.add_argument("--data", type=Path, default=None, help="event file (HDF5) to time on")
    parser.add_argument("--batch-sizes", default=None, help="e.g. 1,10,100,1000,9000,90000")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--warmup", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="fewer batch sizes and repeats")
    args = parser.parse_args()

    def existing(path: Path) -> Path | None:
        return path if path.is_dir() else None

    try:
        options = bench_options(
            batch_sizes=args.batch_sizes, repeats=args.repeats, warmup=args.warmup, quick=args.quick
        )
        paths = ModelPaths(
            teacher=existing(args.models / "teacher"),
            distillnet=existing(args.models / "distillnet"),
            qdistillnet=existing(args.models / "qdistillnet"),
            project=existing(args.project),
        )
        result = benchmark_latency(paths, options, args.output, data=args.data)
    except QdistillError as exc:
        print(f"bench_latency: error: {exc}", file=sys.stderr)
        return 1
    print(format_table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
