"""Event-generation speed: events per second of `qdistill data generate` (target ≥ 2 at pileup 140
with 2 workers on a 2-core machine).

    .venv/bin/python benchmarks/bench_generate.py --events 50 --pileup 140 --workers 2

Prints one JSON object: wall time (pileup pool, process start-up and writing included), CPU time of
this process and its workers, events per second, and the file's mean candidates per event. The
machine's 1-minute load average is reported too: on a shared machine it explains slow runs.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from qdistill.data.generate import generate_events, pool_size_for
from qdistill.data.info import data_info


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--process", default="ttbar", choices=("ttbar", "wjets"))
    parser.add_argument("--events", type=int, default=50)
    parser.add_argument("--pileup", type=float, default=140.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, default=None, help="Keep the file at this path.")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="qdistill-bench-") as tmp:
        out = args.keep or Path(tmp) / "bench.h5"
        load_before = os.getloadavg()[0]
        cpu0, t0 = _cpu_seconds(), time.perf_counter()
        generate_events(
            args.process, args.events, args.pileup, args.seed, out, args.workers, progress=False
        )
        wall = time.perf_counter() - t0
        cpu = _cpu_seconds() - cpu0
        info = data_info(out)
    result = {
        "process": args.process,
        "events": args.events,
        "pileup": args.pileup,
        "workers": args.workers,
        "pileup_pool_size": pool_size_for(args.events, args.pileup),
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "events_per_s": round(args.events / wall, 3),
        "cpu_s_per_event": round(cpu / args.events, 3),
        "mean_candidates_per_event": info["mean_particles_per_event"],
        "load_average_1min_before": load_before,
        "target_events_per_s": 2.0,
    }
    sys.stdout.write(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
