"""Micro segments: finer k-means groups inside each macro segment, none smaller than an actionable size.

:class:`MicroSegmenter` takes the feature matrix and the macro label of every row. Why each choice:

* **how many**: a list of n people gets about ``per_sqrt * sqrt(n)`` micro segments in total (dozens at
  20k, a few hundred at 1M -- finer lists support finer targeting, but not linearly), shared among
  the macro segments in proportion to their size, at least one each and never more than a macro
  segment could fill with ``min_size`` people;
* **actionable minimum**: ``min_size`` defaults to ``max(50, 0.1 % of the list)``; a campaign to fewer
  people is not worth building. After the k-means fit, the smallest micro segment below the minimum is
  dissolved into its siblings (its centre removed, its people re-assigned to the nearest remaining
  centre, centres recomputed), repeatedly, until all are large enough -- so assignment stays a plain
  nearest-centre rule and the sizes seen at fit time are the sizes ``predict`` reproduces;
* **confidence**: within the macro segment, a softmax of negative squared distances to the sibling
  centres, ``exp(-d2 / T)``, with ``T`` calibrated as in the macro segmenter: ``n_refits`` k-means fits
  on bootstrap resamples of the macro segment predict an evaluation sample, and ``T`` makes a person's
  confidence match how often those refits agree with their assignment.

Micro segments are numbered 0..m-1 inside each macro segment, largest first.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.cluster import KMeans
from sklearn.utils.validation import check_is_fitted

from ._kmeans import calibrate_temperature, nearest, softmax_neg, squared_distances, subsample

__all__ = ["MicroSegmenter", "default_min_size"]


def default_min_size(n_rows: int) -> int:
    """``max(50, 0.1 % of the list)``."""
    return int(max(50, np.ceil(0.001 * n_rows)))


class MicroSegmenter(BaseEstimator):
    """Per-macro-segment k-means with a minimum size and sibling merging.

    Parameters
    ----------
    min_size : smallest allowed micro segment (None: :func:`default_min_size` of the training rows).
    per_sqrt : total micro segments ~ ``per_sqrt * sqrt(n)``.
    max_total : optional cap on the total number of micro segments.
    fit_sample : rows per macro segment used for the k-means fit (all rows are then assigned).
    n_init : k-means restarts per macro segment.
    n_refits : bootstrap refits per macro segment for the confidence calibration.
    random_state : seed.

    Fitted attributes: ``centers_`` ({macro: (m, d) array}), ``temperature_`` ({macro: softmax T}),
    ``sizes_`` ({macro: sizes on the training rows}), ``min_size_``, ``n_micro_`` (total).
    """

    def __init__(self, min_size: int | None = None, per_sqrt: float = 0.25, max_total: int | None = None,
                 fit_sample: int = 50_000, n_init: int = 2, n_refits: int = 2, random_state: int | None = 0):
        self.min_size = min_size
        self.per_sqrt = per_sqrt
        self.max_total = max_total
        self.fit_sample = fit_sample
        self.n_init = n_init
        self.n_refits = n_refits
        self.random_state = random_state

    def _allocate(self, sizes: dict[int, int], n: int) -> dict[int, int]:
        total = max(len(sizes), int(round(self.per_sqrt * np.sqrt(n))))
        if self.max_total is not None:
            total = max(len(sizes), min(total, int(self.max_total)))
        return {m: int(np.clip(round(total * s / n), 1, max(1, s // self.min_size_))) for m, s in sizes.items()}

    def fit(self, X, macro_labels) -> "MicroSegmenter":
        """Fit the micro segments of every macro segment present in ``macro_labels``."""
        X = np.asarray(X, dtype=np.float32)
        macro_labels = np.asarray(macro_labels)
        n = len(X)
        self.min_size_ = int(self.min_size) if self.min_size is not None else default_min_size(n)
        rng = np.random.default_rng(self.random_state)
        macros, counts = np.unique(macro_labels, return_counts=True)
        wanted = self._allocate(dict(zip(macros.tolist(), counts.tolist())), n)
        self.centers_, self.temperature_, self.sizes_ = {}, {}, {}
        for m in macros.tolist():
            Xm = X[macro_labels == m]
            k = wanted[m]
            if k > 1:
                fit_rows = Xm[subsample(len(Xm), self.fit_sample, rng)]
                km = KMeans(n_clusters=k, n_init=int(self.n_init), random_state=int(rng.integers(2**31)),
                            max_iter=100).fit(fit_rows)
                centers = km.cluster_centers_.astype(np.float32)
            else:
                centers = Xm.mean(axis=0, keepdims=True).astype(np.float32)
            centers, labels = self._enforce_min_size(Xm, centers)
            sizes = np.bincount(labels, minlength=len(centers))
            order = np.argsort(-sizes, kind="stable")
            centers, sizes = centers[order], sizes[order]
            labels = np.argsort(order)[labels]
            self.centers_[m], self.sizes_[m] = centers, sizes
            self.temperature_[m] = self._calibrate(Xm, centers, rng)
        self.n_micro_ = int(sum(len(c) for c in self.centers_.values()))
        return self

    def _enforce_min_size(self, Xm: np.ndarray, centers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Dissolve the smallest under-sized segment into its siblings until none is under ``min_size_``."""
        labels = nearest(Xm, centers)
        while len(centers) > 1:
            sizes = np.bincount(labels, minlength=len(centers))
            small = np.flatnonzero(sizes < self.min_size_)
            if not len(small):
                break
            drop = small[np.argmin(sizes[small])]
            keep = np.delete(np.arange(len(centers)), drop)
            centers = centers[keep]
            labels = nearest(Xm, centers)
            sums = np.zeros_like(centers, dtype=np.float64)
            np.add.at(sums, labels, Xm)
            cnt = np.bincount(labels, minlength=len(centers))
            moved = cnt > 0
            centers[moved] = (sums[moved] / cnt[moved, None]).astype(np.float32)
            labels = nearest(Xm, centers)
        return centers, labels

    def _calibrate(self, Xm: np.ndarray, centers: np.ndarray, rng: np.random.Generator) -> float:
        """Softmax temperature for one macro segment from bootstrap refits (see the module docstring)."""
        k = len(centers)
        if k < 2:
            return 1.0
        E = Xm[subsample(len(Xm), 2_000, rng)]
        fit_rows = Xm[subsample(len(Xm), self.fit_sample, rng)]
        refits = []
        for _ in range(int(self.n_refits)):
            boot = fit_rows[rng.integers(0, len(fit_rows), len(fit_rows))]
            km = KMeans(n_clusters=k, n_init=1, random_state=int(rng.integers(2**31)), max_iter=100).fit(boot)
            refits.append(km.predict(E))
        return calibrate_temperature(squared_distances(E, centers), refits)

    def predict_with_confidence(self, X, macro_labels) -> tuple[np.ndarray, np.ndarray]:
        """Micro index inside the given macro segment, and its probability among the siblings."""
        check_is_fitted(self, "centers_")
        X = np.asarray(X, dtype=np.float32)
        macro_labels = np.asarray(macro_labels)
        labels = np.zeros(len(X), dtype=np.int64)
        conf = np.ones(len(X), dtype=np.float32)
        for m in np.unique(macro_labels).tolist():
            if m not in self.centers_:
                raise ValueError(f"macro segment {m!r} was not seen when the micro segments were fitted")
            rows = np.flatnonzero(macro_labels == m)
            centers = self.centers_[m]
            if len(centers) == 1:
                continue
            for start in range(0, len(rows), 200_000):
                r = rows[start:start + 200_000]
                d2 = squared_distances(X[r], centers)
                labels[r] = d2.argmin(axis=1)
                conf[r] = softmax_neg(d2, self.temperature_[m]).max(axis=1)
        return labels, conf

    def predict(self, X, macro_labels) -> np.ndarray:
        """Micro index inside the given macro segment for every row."""
        return self.predict_with_confidence(X, macro_labels)[0]
