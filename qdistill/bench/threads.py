"""Pin every framework the benchmark touches to one thread, and record what is in force.

TensorFlow's intra-/inter-op pools are fixed when its runtime starts, so :func:`pin_one_thread`
must run before anything in the process has executed a TensorFlow op; it then *reads back* the
settings and refuses to go on if they are not 1. BLAS/OpenMP pools loaded into the process (NumPy's
OpenBLAS, any OpenMP runtime) are limited with threadpoolctl; the hls4ml C-simulation library is
plain C++ built without OpenMP, so it runs on the calling thread.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any, Final

from qdistill.errors import QdistillError
from qdistill.keras_backend import import_tensorflow

#: Environment variables that set thread-pool sizes in the libraries a benchmark may load.
THREAD_ENV_VARS: Final[tuple[str, ...]] = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
)


def set_thread_environment(threads: int = 1) -> None:
    """Export ``threads`` in every :data:`THREAD_ENV_VARS` (read by libraries when they load)."""
    for name in THREAD_ENV_VARS:
        os.environ[name] = str(threads)


def pin_one_thread() -> dict[str, Any]:
    """Set one thread for TensorFlow and the C/BLAS libraries; return the settings read back.

    Raises QdistillError if TensorFlow already runs with another thread count in this process
    (its pools cannot be resized once created).
    """
    set_thread_environment(1)
    tf = import_tensorflow(threads=1)
    intra = tf.config.threading.get_intra_op_parallelism_threads()
    inter = tf.config.threading.get_inter_op_parallelism_threads()
    if (intra, inter) != (1, 1):
        raise QdistillError(
            f"TensorFlow already runs with intra-op threads {intra} and inter-op threads {inter} "
            "in this process (0 means one per core); run the benchmark in a fresh process "
            "(`qdistill bench`) so that one thread can be enforced"
        )
    return {
        "env": {name: os.environ.get(name) for name in THREAD_ENV_VARS},
        "tensorflow": {"intra_op": intra, "inter_op": inter},
    }


@contextlib.contextmanager
def limited_threadpools() -> Iterator[list[dict[str, Any]]]:
    """Limit every BLAS/OpenMP pool loaded so far to one thread; yield their description.

    The yielded list is refreshed on exit so that libraries loaded during the block are recorded
    too (each entry: ``internal_api``, ``num_threads``, ``filepath``, ``version``).
    """
    from threadpoolctl import threadpool_info, threadpool_limits

    pools: list[dict[str, Any]] = []
    with threadpool_limits(limits=1):
        try:
            yield pools
        finally:
            pools[:] = [
                {k: p.get(k) for k in ("internal_api", "num_threads", "filepath", "version")}
                for p in threadpool_info()
            ]


def cpu_affinity() -> int | None:
    """Number of CPUs this process may run on (None where the OS does not tell)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None
