"""The teacher network: a DGCNN-style stack of edge convolutions on the (η, φ) kNN graph.

The particle axis is the Keras batch axis: one call sees every candidate of one event (or the
disjoint union of a few events, see :func:`qdistill.teacher.graph.batch_graphs`) together with
its (n, k) neighbour indices. Never run it through ``Model.predict``/``fit``, which would cut the
particle axis into batches of 32 and break the graph; call the model directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from qdistill.features import N_FEATURES, PHI
from qdistill.keras_backend import keras, tf
from qdistill.kinematics import wrap_phi

#: Registration package of the custom layers in saved ``.keras`` files.
KERAS_PACKAGE: Final[str] = "qdistill"


@keras.saving.register_keras_serializable(package=KERAS_PACKAGE)
class EdgeConv(keras.layers.Layer):
    """Edge convolution (Wang et al., DGCNN): an MLP on [x_i, x_j − x_i] over the k neighbours j.

    Inputs ``[x, neighbours]``: node features (n, F) float32 and neighbour indices (n, k) int32.
    Output (n, 2·units[-1]): the mean and the max of the edge MLP's last layer over neighbours.

    The first MLP layer is linear in [x_i, x_j − x_i], so it is evaluated once per node and
    gathered (n·F·u multiply-adds instead of n·k·2F·u), exactly as if the concatenation were
    formed per edge. If ``periodic_column`` is set, that column of x_j − x_i is wrapped into
    [−period/2, period/2): with standardised φ the period is 2π/σ_φ. ``difference_std`` (F,),
    if given, divides x_j − x_i column by column (after the wrap): between neighbours Δη and Δφ
    are a few hundredths of the event-wide σ, and unscaled the MLP could resolve the distances
    that PUPPI's 1/ΔR² weighs only with weights far larger than training reaches.
    """

    def __init__(
        self,
        units: Sequence[int],
        periodic_column: int | None = None,
        period: float | None = None,
        difference_std: Sequence[float] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not units:
            raise ValueError("EdgeConv needs at least one MLP layer")
        if (periodic_column is None) != (period is None):
            raise ValueError("give both periodic_column and period, or neither")
        self.units = [int(u) for u in units]
        self.periodic_column = None if periodic_column is None else int(periodic_column)
        self.period = None if period is None else float(period)
        self.difference_std = None if difference_std is None else [float(v) for v in difference_std]
        if self.difference_std is not None and not all(v > 0 for v in self.difference_std):
            raise ValueError("difference_std must be positive")

    def build(self, input_shape: Any) -> None:
        n_in = int(input_shape[0][-1])
        self.n_in = n_in
        if self.difference_std is not None and len(self.difference_std) != n_in:
            raise ValueError(f"difference_std has {len(self.difference_std)} values for {n_in}")
        self.kernels = []
        self.biases = []
        fan_in = 2 * n_in
        for i, u in enumerate(self.units):
            self.kernels.append(
                self.add_weight(name=f"kernel_{i}", shape=(fan_in, u), initializer="glorot_uniform")
            )
            self.biases.append(self.add_weight(name=f"bias_{i}", shape=(u,), initializer="zeros"))
            fan_in = u
        super().build(input_shape)

    def call(self, inputs: Any) -> Any:
        x, neighbours = inputs
        neighbours = tf.cast(neighbours, tf.int32)
        w = self.kernels[0]
        w_self, w_diff = w[: self.n_in], w[self.n_in :]
        if self.difference_std is not None:
            # (x_j − x_i)/σ · W = (x_j − x_i) · (W/σ): fold the scale into the kernel.
            w_diff = w_diff / tf.constant(self.difference_std, dtype=w.dtype)[:, None]
        if self.periodic_column is not None:
            # Take the periodic row out of the linear part; it is added per edge, wrapped.
            keep = 1.0 - tf.one_hot(self.periodic_column, self.n_in, dtype=w.dtype)
            w_diff_lin = w_diff * keep[:, None]
        else:
            w_diff_lin = w_diff
        node = tf.matmul(x, w_self - w_diff_lin) + self.biases[0]  # (n, u0)
        h = node[:, None, :] + tf.gather(tf.matmul(x, w_diff_lin), neighbours)  # (n, k, u0)
        if self.periodic_column is not None:
            col = x[:, self.periodic_column]
            d = tf.gather(col, neighbours) - col[:, None]  # (n, k)
            d = d - self.period * tf.round(d / self.period)
            h = h + d[:, :, None] * w_diff[self.periodic_column][None, None, :]
        h = tf.nn.relu(h)
        for kernel, bias in zip(self.kernels[1:], self.biases[1:], strict=True):
            h = tf.nn.relu(tf.tensordot(h, kernel, axes=[[2], [0]]) + bias)
        return tf.concat([tf.reduce_mean(h, axis=1), tf.reduce_max(h, axis=1)], axis=-1)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (input_shape[0][0], 2 * self.units[-1])

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            units=self.units,
            periodic_column=self.periodic_column,
            period=self.period,
            difference_std=self.difference_std,
        )
        return config


def standardisation(
    features: npt.NDArray[np.floating],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Per-feature mean and standard deviation of (N, 16) training features.

    A constant feature (e.g. d0 in a sample without displaced tracks) gets σ = 1 so it never
    divides by zero on new data.
    """
    x = np.asarray(features, dtype=np.float64)
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    std[std < 1e-6] = 1.0
    return mean, std


def difference_standardisation(
    features: Sequence[npt.NDArray[np.floating]],
    graphs: Sequence[npt.NDArray[np.integer]],
    std: npt.ArrayLike,
) -> npt.NDArray[np.float64]:
    """Per-feature σ of x_j − x_i over the edges of the (n, 16) events and their (n, k) graphs.

    The differences are those of the features standardised with ``std`` (16,), Δφ wrapped into
    [−π, π) first, as the first EdgeConv sees them; the mean cancels in a difference. A
    difference that never varies (a constant feature) gets σ = 1.
    """
    std = np.asarray(std, dtype=np.float64)
    sum_sq = np.zeros(N_FEATURES)
    n_edges = 0
    for feats, graph in zip(features, graphs, strict=True):
        raw = np.asarray(feats, dtype=np.float64)
        idx = np.asarray(graph)
        d = (raw[idx] - raw[:, None, :]) / std
        d[..., PHI] = wrap_phi(raw[idx, PHI] - raw[:, None, PHI]) / std[PHI]
        sum_sq += np.sum(d**2, axis=(0, 1))
        n_edges += d.shape[0] * d.shape[1]
    if n_edges == 0:
        raise ValueError("no edges to standardise")
    sigma = np.sqrt(sum_sq / n_edges)
    sigma[sigma < 1e-6] = 1.0
    return sigma


def build_teacher(
    mean: npt.ArrayLike,
    std: npt.ArrayLike,
    k: int,
    hidden: int = 64,
    n_blocks: int = 2,
    edge_layers: int = 2,
    difference_std: npt.ArrayLike | None = None,
) -> Any:
    """The teacher: standardise → ``n_blocks`` EdgeConv blocks → per-candidate MLP → sigmoid.

    Inputs ``features`` (n, 16) raw, in features.py order, and ``neighbours`` (n, k) int32.
    Each EdgeConv has an edge MLP of ``edge_layers`` ReLU layers of ``hidden`` units and returns
    mean and max (2·hidden); the head sees the standardised inputs and every block's output
    (DGCNN-style skip connections) and ends in one sigmoid per candidate, shape (n,).
    The standardisation (mean, std over the training candidates) is a fixed layer of the model;
    so is ``difference_std`` (16,), the σ of the first block's x_j − x_i
    (:func:`difference_standardisation`), if given.
    """
    mean = np.asarray(mean, dtype=np.float64)
    std = np.asarray(std, dtype=np.float64)
    if mean.shape != (N_FEATURES,) or std.shape != (N_FEATURES,):
        raise ValueError(f"mean and std must have shape ({N_FEATURES},)")
    first_block: dict[str, Any] = {"periodic_column": PHI, "period": 2.0 * np.pi / std[PHI]}
    if difference_std is not None:
        first_block["difference_std"] = np.asarray(difference_std, dtype=np.float64).tolist()
    if n_blocks < 2:
        raise ValueError(f"the teacher needs at least 2 EdgeConv blocks, got {n_blocks}")
    features = keras.Input(shape=(N_FEATURES,), name="features")
    neighbours = keras.Input(shape=(k,), dtype="int32", name="neighbours")
    x = keras.layers.Normalization(mean=mean, variance=std**2, name="standardise")(features)
    outputs = [x]
    h = x
    for b in range(n_blocks):
        options = first_block if b == 0 else {}
        h = EdgeConv([hidden] * edge_layers, name=f"edgeconv_{b}", **options)([h, neighbours])
        outputs.append(h)
    z = keras.layers.Concatenate(name="skip")(outputs)
    z = keras.layers.Dense(hidden, activation="relu", name="head_0")(z)
    z = keras.layers.Dense(hidden // 2, activation="relu", name="head_1")(z)
    z = keras.layers.Dense(1, activation="sigmoid", name="weight")(z)
    out = keras.layers.Reshape((), name="soft_label")(z)
    return keras.Model(inputs=[features, neighbours], outputs=out, name="qdistill_teacher")


def count_parameters(model: Any) -> int:
    """Trainable parameters of ``model`` (the figure the paper quotes, 270 k for its teacher)."""
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))
