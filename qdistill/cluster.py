"""The Dask cluster qdistill starts on this machine when no scheduler is given."""

from __future__ import annotations

import logging
from typing import Any, Final

#: Scheduler HTTP server (metrics, dashboard) on a free port: two runs at once never collide on
#: Dask's default 8787.
DASK_HTTP_ADDRESS: Final[str] = ":0"
#: The worker logger that reports a heartbeat lost while the cluster shuts down.
WORKER_LOGGER: Final[str] = "distributed.worker"


def local_cluster(workers: int, threads: int = 1) -> Any:
    """A ``distributed.LocalCluster`` of ``workers`` processes with one task slot each, whose
    OpenMP/BLAS pools use ``threads`` threads (so workers × threads should not exceed the cores)."""
    from distributed import LocalCluster

    env = {name: str(threads) for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    return LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=DASK_HTTP_ADDRESS,
        scheduler_port=0,
        env=env,
    )


def local_client(workers: int, threads: int = 1) -> Any:
    """A ``distributed.Client`` of a new :func:`local_cluster`; close it with
    :func:`close_client`."""
    from distributed import Client

    return Client(local_cluster(workers, threads))


def close_client(client: Any) -> None:
    """Close a Dask ``client``; if it runs its own LocalCluster (``client.cluster``), close that
    too, without shutdown noise. A cluster reached by address (``--scheduler``) is the user's
    and is left running.

    A worker whose heartbeat is in flight while the scheduler closes logs "Failed to communicate
    with scheduler during heartbeat" with a traceback (dask/distributed#7105), after a run that
    went well; it was seen on a busy 2-core machine. The workers' logger is raised to CRITICAL
    just before closing, so errors while working are still logged.
    """
    cluster = client.cluster
    try:
        if cluster is not None and client.status == "running":
            client.run(mute_worker_log, on_error="ignore")
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def mute_worker_log() -> int:
    """Run on a worker: silence its :data:`WORKER_LOGGER` below CRITICAL; returns the new level."""
    logger = logging.getLogger(WORKER_LOGGER)
    logger.setLevel(logging.CRITICAL)
    return logger.level
