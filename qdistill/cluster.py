"""The Dask cluster qdistill starts on this machine when no scheduler is given."""

from __future__ import annotations

from typing import Any, Final

#: Scheduler HTTP server (metrics, dashboard) on a free port: two runs at once never collide on
#: Dask's default 8787.
DASK_HTTP_ADDRESS: Final[str] = ":0"


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
