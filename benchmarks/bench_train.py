"""Training throughput of the students on this machine, in particles per second.

Measures, for each student, (1) the HDF5 → tf.data input pipeline alone and (2) full training
(pipeline + forward + backward + pruning), both streaming from disk exactly as `qdistill train`
does, and extrapolates to the paper's scale (15 M particles × 40 epochs).

    .venv/bin/python benchmarks/bench_train.py                       # synthetic file, 1 thread
    .venv/bin/python benchmarks/bench_train.py --data /work/data/wjets_train.h5 --threads 2

Prints one JSON object on standard output (progress on standard error).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

PAPER_PARTICLES = 15_000_000
PAPER_EPOCHS = 40


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="labelled event file [default: synthetic]")
    parser.add_argument("--particles", type=int, default=1_000_000, help="particles to train on")
    parser.add_argument("--epochs", type=int, default=3, help="epochs a measurement (≥ 2)")
    parser.add_argument("--batch-size", type=int, default=4096)
    parser.add_argument("--threads", type=int, default=1, help="TensorFlow threads")
    parser.add_argument("--models", default="distillnet,qdistillnet")
    args = parser.parse_args()

    from qdistill.keras_backend import import_tensorflow

    import_tensorflow(args.threads)
    from qdistill.student.config import DEFAULT_HIDDEN, ModelSpec, TrainConfig
    from qdistill.student.dataset import BatchStream, read_range, split_events
    from qdistill.student.preprocessing import fit_preprocessing
    from qdistill.student.synthetic import write_synthetic_file
    from qdistill.student.train import train_student

    with tempfile.TemporaryDirectory() as tmp:
        data = args.data
        if data is None:
            data = Path(tmp) / "synthetic.h5"
            n_events = max(2, args.particles // 5000 + 2)
            print(f"writing a synthetic file of {n_events} × 5000 particles", file=sys.stderr)
            write_synthetic_file(data, n_events, 5000, seed=0)
        train, _ = split_events(data, 0.0 if args.data is None else 0.1, args.particles)
        pre = fit_preprocessing(read_range(train, 0, 200_000)["features"])
        stream = BatchStream(train, pre, args.batch_size, seed=0)
        t0 = time.perf_counter()
        n = sum(len(x) for x, _ in stream.dataset().as_numpy_iterator())
        pipeline = n / (time.perf_counter() - t0)
        result: dict[str, object] = {
            "data": str(args.data or "synthetic"),
            "training_particles": train.n_particles,
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "threads": args.threads,
            "pipeline_particles_per_second": round(pipeline),
        }
        for kind in args.models.split(","):
            spec = ModelSpec(kind, DEFAULT_HIDDEN[kind])
            metrics = train_student(
                TrainConfig(
                    spec=spec,
                    data=data,
                    output=Path(tmp) / kind,
                    epochs=args.epochs,
                    batch_size=args.batch_size,
                    holdout_fraction=0.0 if args.data is None else 0.1,
                    validation_data=data if args.data is None else None,
                    max_particles=args.particles,
                    finetune_epochs=0,
                )
            )
            # steady state: epochs after the first (which includes tracing the graph)
            rate = metrics["training"]["steady_particles_per_second"]
            hours = PAPER_PARTICLES * PAPER_EPOCHS / rate / 3600
            result[kind] = {
                "train_particles_per_second": round(rate),
                "epoch_seconds": [round(t, 2) for t in metrics["training"]["epoch_seconds"]],
                "paper_scale_hours": round(hours, 2),
            }
            print(f"{kind}: {rate:,.0f} particles/s → 15 M × 40 in {hours:.1f} h", file=sys.stderr)
    sys.stdout.write(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
