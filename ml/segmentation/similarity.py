"""How segments respond to content: shrunk click rates by segment x topic (or offer) and which segments respond alike.

Input is campaign history in long form, one row per (segment, topic or offer) with sends and clicks
(typically summed from the send and click events of each segment's members). Raw click rates of small
cells are noise, so :class:`SegmentResponse` shrinks them (empirical Bayes, beta-binomial):
``(clicks + m * p_item) / (sends + m)``, towards the item's click rate over all segments ``p_item``, with
prior strength ``m`` fitted by the method of moments when not given -- a cell with few sends stays near
the item's average, a cell with many sends keeps its own rate.

Response profiles are the rows of the segment x item matrix of **lifts** (shrunk rate / item rate, log
scale), so a segment that clicks everything more often is not "similar" to every other keen segment;
segments respond alike when these profiles point the same way: ``similarity_`` is their cosine (or
Pearson correlation) and ``order_`` the leaf order of an average-linkage hierarchical clustering on
``1 - similarity``, handy to sort a heat map.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import leaves_list, linkage
from scipy.spatial.distance import squareform
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

__all__ = ["SegmentResponse"]


def _moments_strength(clicks: np.ndarray, sends: np.ndarray, p: np.ndarray) -> float:
    """Method-of-moments beta-binomial prior strength m from cell rates around their item means."""
    ok = sends > 0
    if ok.sum() < 3:
        return 100.0
    rate = clicks[ok] / sends[ok]
    w = sends[ok]
    var_obs = np.average((rate - p[ok]) ** 2, weights=w)
    var_binom = np.average(p[ok] * (1 - p[ok]) / w, weights=w)
    between = var_obs - var_binom
    pq = np.average(p[ok] * (1 - p[ok]), weights=w)
    if between <= 1e-12:
        return 1e6  # no real differences: shrink (almost) fully
    return float(np.clip(pq / between - 1.0, 1.0, 1e6))


class SegmentResponse(BaseEstimator):
    """Shrunk click rates by segment x item and similarity of the segments' response profiles.

    Parameters
    ----------
    item_col : "content_topic" or "offer_type" (any categorical column of the input).
    segment_col, sends_col, clicks_col : input column names.
    prior_strength : shrinkage pseudo-sends ``m``; None fits it by the method of moments.
    metric : "cosine" or "correlation" for ``similarity_``.

    Fitted attributes: ``rates_`` (long: segment, item, sends, clicks, raw_rate, rate, lift),
    ``rate_matrix_`` (segment x item shrunk rates), ``similarity_`` (segment x segment),
    ``order_`` (segment ids in dendrogram order), ``linkage_``, ``prior_strength_``.
    """

    def __init__(self, item_col: str = "content_topic", segment_col: str = "segment_id", sends_col: str = "sends",
                 clicks_col: str = "clicks", prior_strength: float | None = None, metric: str = "cosine"):
        self.item_col = item_col
        self.segment_col = segment_col
        self.sends_col = sends_col
        self.clicks_col = clicks_col
        self.prior_strength = prior_strength
        self.metric = metric

    def fit(self, history: pd.DataFrame, y=None) -> "SegmentResponse":
        """Aggregate ``history`` to segment x item cells, shrink, and compare the segments."""
        cols = [self.segment_col, self.item_col, self.sends_col, self.clicks_col]
        missing = [c for c in cols if c not in history.columns]
        if missing:
            raise ValueError("campaign history is missing column(s): " + ", ".join(missing))
        if self.metric not in ("cosine", "correlation"):
            raise ValueError("metric must be 'cosine' or 'correlation'")
        cells = (history[cols].astype({self.segment_col: str, self.item_col: str})
                 .groupby([self.segment_col, self.item_col], sort=True)[[self.sends_col, self.clicks_col]].sum()
                 .reset_index().rename(columns={self.segment_col: "segment_id", self.item_col: "item",
                                                self.sends_col: "sends", self.clicks_col: "clicks"}))
        if (cells["sends"] < 0).any() or (cells["clicks"] < 0).any() or (cells["clicks"] > cells["sends"]).any():
            raise ValueError("sends and clicks must be non-negative with clicks <= sends")
        item = cells.groupby("item")[["sends", "clicks"]].sum()
        p_item = (item["clicks"] / item["sends"].where(item["sends"] > 0)).fillna(0.0)
        p = cells["item"].map(p_item).to_numpy(np.float64)
        s, c = cells["sends"].to_numpy(np.float64), cells["clicks"].to_numpy(np.float64)
        m = float(self.prior_strength) if self.prior_strength is not None else _moments_strength(c, s, p)
        self.prior_strength_ = m
        cells["raw_rate"] = np.where(s > 0, c / np.where(s > 0, s, 1), np.nan)
        cells["rate"] = (c + m * p) / (s + m)
        cells["lift"] = cells["rate"] / np.where(p > 0, p, np.nan)
        self.rates_ = cells
        self.rate_matrix_ = cells.pivot(index="segment_id", columns="item", values="rate")
        lift = np.log(cells.pivot(index="segment_id", columns="item", values="lift").fillna(1.0).clip(lower=1e-6))
        L = lift.to_numpy(np.float64)
        if self.metric == "correlation":
            L = L - L.mean(axis=1, keepdims=True)
        norm = np.linalg.norm(L, axis=1, keepdims=True)
        unit = np.divide(L, norm, out=np.zeros_like(L), where=norm > 0)
        sim = np.clip(unit @ unit.T, -1.0, 1.0)
        np.fill_diagonal(sim, 1.0)
        self.similarity_ = pd.DataFrame(sim, index=lift.index, columns=lift.index)
        if len(sim) > 1:
            dist = squareform(np.clip(1.0 - sim, 0.0, 2.0), checks=False)
            self.linkage_ = linkage(dist, method="average")
            self.order_ = [str(lift.index[i]) for i in leaves_list(self.linkage_)]
        else:
            self.linkage_ = np.zeros((0, 4))
            self.order_ = [str(i) for i in lift.index]
        return self

    def best_items(self) -> pd.Series:
        """Per segment, the item with the highest shrunk click rate."""
        check_is_fitted(self, "rate_matrix_")
        return self.rate_matrix_.idxmax(axis=1)

    def most_similar(self, segment_id: str, n: int = 3) -> pd.Series:
        """The ``n`` segments whose response profile is closest to ``segment_id``'s."""
        check_is_fitted(self, "similarity_")
        row = self.similarity_.loc[str(segment_id)].drop(str(segment_id))
        return row.sort_values(ascending=False, kind="stable").head(n)
