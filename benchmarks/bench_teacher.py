"""Teacher inference time per event on one thread, split into kNN graph and network.

    python benchmarks/bench_teacher.py /work/models/teacher --data /work/data/ttbar_test.h5

Prints one JSON object: mean/median seconds per event for the graph (scipy k-d tree), the
network (TensorFlow, one intra- and one inter-op thread) and both, with the mean number of
candidates and pileup of the timed events.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from qdistill.keras_backend import import_tensorflow


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("teacher_dir", help="directory written by `qdistill teacher train`")
    parser.add_argument("--data", required=True, help="event file (pileup 140)")
    parser.add_argument("--events", type=int, default=20, help="events to time (default 20)")
    args = parser.parse_args()

    import_tensorflow(threads=1)
    from qdistill.data.layout import EventFile
    from qdistill.teacher.graph import event_graph
    from qdistill.teacher.saved import load_teacher

    teacher = load_teacher(args.teacher_dir)
    with EventFile(args.data) as ef:
        events = list(ef.iter_events(0, args.events + 1))
    warm = events.pop(0)
    teacher.predict_event(warm.features)
    graph_s, net_s = [], []
    for ev in events:
        t0 = time.perf_counter()
        nbr = event_graph(ev.features, teacher.k)
        t1 = time.perf_counter()
        teacher.predict_graph(ev.features, nbr)
        t2 = time.perf_counter()
        graph_s.append(t1 - t0)
        net_s.append(t2 - t1)
    total = np.add(graph_s, net_s)
    result = {
        "teacher": args.teacher_dir,
        "data": args.data,
        "threads": 1,
        "n_events": len(events),
        "mean_candidates": float(np.mean([ev.n_particles for ev in events])),
        "mean_pileup": float(np.mean([ev.n_pileup for ev in events])),
        "graph_seconds_mean": float(np.mean(graph_s)),
        "network_seconds_mean": float(np.mean(net_s)),
        "total_seconds_mean": float(total.mean()),
        "total_seconds_median": float(np.median(total)),
        "n_parameters": teacher.config["n_parameters"],
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
