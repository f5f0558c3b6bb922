"""Small numeric helpers shared by the macro and micro segmenters: chunked distances and softmax.

Kept apart so both segmenters assign and score a million rows the same way, in bounded memory
(``chunk`` rows at a time) and without a Python loop over people.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment, minimize_scalar

__all__ = ["squared_distances", "inertia", "nearest", "softmax_neg", "align_labels", "subsample", "calibrate_temperature"]


def squared_distances(X: np.ndarray, centers: np.ndarray, chunk: int = 200_000) -> np.ndarray:
    """(n, k) squared Euclidean distances, computed ``chunk`` rows at a time (float32 output)."""
    X = np.asarray(X, dtype=np.float32)
    C = np.asarray(centers, dtype=np.float32)
    cc = (C * C).sum(axis=1)
    out = np.empty((len(X), len(C)), dtype=np.float32)
    for start in range(0, len(X), chunk):
        x = X[start:start + chunk]
        d = (x * x).sum(axis=1)[:, None] - 2.0 * (x @ C.T) + cc[None, :]
        out[start:start + chunk] = np.maximum(d, 0.0)
    return out


def inertia(X: np.ndarray, centers: np.ndarray, labels: np.ndarray, chunk: int = 200_000) -> float:
    """Sum of squared distances of every row to its own centre, from the differences, in float64.

    Precise enough to rank k-means solutions whose inertias differ by 0.001 %: scikit-learn's float32
    ``inertia_`` of a million rows can be off by more than that (by hand on a generated 1M list: 6,500,834
    with one thread and 6,501,990 with two for a solution whose float64 inertia is 6,501,840; with one
    thread two solutions 67 apart came out in the wrong order).
    """
    C = np.asarray(centers, dtype=np.float64)
    total = 0.0
    for start in range(0, len(X), chunk):
        d = np.asarray(X[start:start + chunk], dtype=np.float64) - C[labels[start:start + chunk]]
        total += float(np.einsum("ij,ij->", d, d))
    return total


def nearest(X: np.ndarray, centers: np.ndarray, chunk: int = 200_000) -> np.ndarray:
    """Index of the nearest centre for every row."""
    labels = np.empty(len(X), dtype=np.int64)
    for start in range(0, len(X), chunk):
        labels[start:start + chunk] = squared_distances(X[start:start + chunk], centers).argmin(axis=1)
    return labels


def softmax_neg(d2: np.ndarray, temperature: float) -> np.ndarray:
    """Row-wise softmax of ``-d2 / temperature`` (numerically stable); rows sum to 1."""
    z = -(d2 - d2.min(axis=1, keepdims=True)) / max(float(temperature), 1e-12)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def align_labels(reference: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Relabel ``labels`` to agree best with ``reference`` (Hungarian on the contingency table)."""
    table = np.zeros((k, k), dtype=np.int64)
    np.add.at(table, (labels, reference), 1)
    rows, cols = linear_sum_assignment(-table)
    mapping = np.arange(k)
    mapping[rows] = cols
    return mapping[labels]


def subsample(n: int, size: int | None, rng: np.random.Generator) -> np.ndarray:
    """Sorted random row indices, ``size`` of them (all rows when ``size`` is None or >= n)."""
    if size is None or size >= n:
        return np.arange(n)
    return np.sort(rng.choice(n, size=int(size), replace=False))


def calibrate_temperature(d2: np.ndarray, refits: list[np.ndarray]) -> float:
    """Temperature T of ``softmax(-d2 / T)`` whose top probability best matches (least squares) how often
    refitted models, aligned to the nearest-centre labels, agree with them on each row.

    ``d2``: (n, k) squared distances of evaluation rows to the final centres; ``refits``: labels of the
    same rows from models fitted on resamples (same k). Without refits, or with one centre, T is the
    median gap between the nearest and second-nearest centre. T is kept at or above ``e**-2`` times that
    gap, so that even when every refit agrees, a person half-way between two centres stays near 0.5.
    """
    k = d2.shape[1]
    if k < 2:
        return 1.0
    final = d2.argmin(axis=1)
    part = np.partition(d2, 1, axis=1)
    scale = float(np.median(part[:, 1] - part[:, 0])) + 1e-6
    if not refits:
        return scale
    agree = np.mean([align_labels(final, r, k) == final for r in refits], axis=0)

    def loss(log_t: float) -> float:
        conf = softmax_neg(d2, scale * np.exp(log_t)).max(axis=1)
        return float(np.mean((conf - agree) ** 2))

    res = minimize_scalar(loss, bounds=(-2.0, 6.0), method="bounded")  # floor: ties stay uncertain
    return float(scale * np.exp(res.x))
