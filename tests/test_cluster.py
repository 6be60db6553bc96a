"""The local Dask cluster: free ports, and a close that silences the workers' shutdown noise."""

from __future__ import annotations

import logging
from typing import Any

from qdistill.cluster import WORKER_LOGGER, close_client, local_cluster


def test_two_local_clusters_run_side_by_side() -> None:
    # Dask's default HTTP port 8787 would make the second one fail ("already in use"), e.g. a
    # scan started while another scan or `data generate --workers 2` runs
    from distributed import Client

    with local_cluster(1) as first, local_cluster(1) as second, Client(second) as client:
        assert first.scheduler_address != second.scheduler_address
        assert client.submit(sum, [1, 2, 3]).result() == 6


def test_close_client_mutes_every_worker_then_closes_client_and_cluster() -> None:
    from distributed import Client

    cluster = local_cluster(2)
    client = Client(cluster)
    assert client.submit(sum, [1, 2]).result() == 3
    workers = set(client.scheduler_info()["workers"])
    levels_before = client.run(lambda: logging.getLogger(WORKER_LOGGER).getEffectiveLevel())
    assert all(level < logging.CRITICAL for level in levels_before.values())
    seen: list[dict[str, Any]] = []
    real_run = client.run

    def spy(function: Any, **kwargs: Any) -> Any:
        result = real_run(function, **kwargs)
        seen.append(result)
        return result

    client.run = spy  # type: ignore[method-assign]
    close_client(client)
    assert seen == [dict.fromkeys(workers, logging.CRITICAL)]
    assert client.status == "closed"
    assert cluster.status.name == "closed"


def test_close_client_leaves_a_cluster_reached_by_address_running() -> None:
    # `qdistill scan --scheduler ADDRESS`: the cluster is the user's; its workers keep their logs
    from distributed import Client

    with local_cluster(1) as cluster:
        client = Client(cluster.scheduler_address)
        assert client.cluster is None
        close_client(client)
        assert client.status == "closed"
        with Client(cluster.scheduler_address) as again:
            assert again.submit(sum, [2, 3]).result() == 5
            levels = again.run(lambda: logging.getLogger(WORKER_LOGGER).getEffectiveLevel())
            assert all(level < logging.CRITICAL for level in levels.values())
