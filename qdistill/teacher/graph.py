"""The teacher's graph: k nearest neighbours of every candidate in (η, φ), φ periodic.

Computed per event in NumPy/SciPy (a k-d tree with a toroidal φ axis) and fed to the network as
neighbour indices, so the network itself never pads events to a common size.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from qdistill.features import ETA, PHI
from qdistill.kinematics import eta_phi_tree
from qdistill.teacher.config import DEFAULT_K


def knn_indices(
    eta: npt.ArrayLike, phi: npt.ArrayLike, k: int = DEFAULT_K
) -> npt.NDArray[np.int32]:
    """Indices of the ``k`` nearest other candidates of each candidate in (η, φ), shape (n, k).

    Distance is ΔR = √(Δη² + Δφ²) with Δφ taken the short way round (φ = 3.1 and φ = -3.1 are
    0.083 rad apart). A candidate is never its own neighbour unless the event has a single
    candidate. Events with fewer than ``k + 1`` candidates repeat their farthest neighbour to fill
    the row (no change for a max over neighbours, extra weight for a mean); events at pileup 140
    have thousands of candidates, so this only matters for toy events.
    Rows are sorted by increasing distance. ``eta``, ``phi`` (rad): shape (n,).
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    eta = np.asarray(eta, dtype=np.float64)
    phi = np.asarray(phi, dtype=np.float64)
    n = len(eta)
    if n == 0:
        return np.zeros((0, k), dtype=np.int32)
    if n == 1:
        return np.zeros((1, k), dtype=np.int32)
    eta_min = float(eta.min())
    tree = eta_phi_tree(eta, phi, eta_min=eta_min, eta_box=2.0 * (float(eta.max()) - eta_min) + 1.0)
    n_query = min(k + 1, n)
    _, idx = tree.query(tree.data, k=n_query)
    idx = np.asarray(idx, dtype=np.int64).reshape(n, n_query)
    # Drop the candidate itself; with exact ties it may not come first, so sort it to the end.
    is_self = idx == np.arange(n)[:, None]
    order = np.argsort(is_self, axis=1, kind="stable")
    idx = np.take_along_axis(idx, order, axis=1)[:, : n_query - 1]
    if idx.shape[1] < k:
        idx = np.concatenate([idx, np.repeat(idx[:, -1:], k - idx.shape[1], axis=1)], axis=1)
    return idx.astype(np.int32)


def event_graph(features: npt.NDArray[np.floating], k: int = DEFAULT_K) -> npt.NDArray[np.int32]:
    """:func:`knn_indices` of one event's (n, 16) feature matrix (columns η and φ)."""
    return knn_indices(features[:, ETA], features[:, PHI], k)


def join_graphs(
    features: Sequence[npt.NDArray[np.floating]], graphs: Sequence[npt.NDArray[np.integer]]
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int32]]:
    """Join events and their (n, k) graphs into one disjoint graph: (Σn, 16) and (Σn, k).

    Each event's indices are offset by the number of candidates before it, so no edge crosses
    events and nothing is padded.
    """
    if len(features) != len(graphs):
        raise ValueError(f"{len(features)} events but {len(graphs)} graphs")
    stacked: list[npt.NDArray[np.int32]] = []
    offset = 0
    for feats, graph in zip(features, graphs, strict=True):
        if len(graph) != len(feats):
            raise ValueError(f"a graph of {len(graph)} rows for an event of {len(feats)}")
        stacked.append(np.asarray(graph, dtype=np.int32) + np.int32(offset))
        offset += len(feats)
    x = np.concatenate([np.asarray(f, dtype=np.float32) for f in features])
    return x, np.concatenate(stacked).astype(np.int32)


def batch_graphs(
    features: Sequence[npt.NDArray[np.floating]], k: int = DEFAULT_K
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int32]]:
    """:func:`join_graphs` of the events with their :func:`event_graph` built here."""
    return join_graphs(features, [event_graph(f, k) for f in features])
