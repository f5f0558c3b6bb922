"""Best send time: each subscriber's best local hour (0-23) and weekday, with a confidence.

**Evidence.** A subscriber's real opens and clicks counted by local hour and local weekday -- from
the profile columns (``eng_hour_00..23`` / ``eng_dow_0..6`` shares x ``engagement_events_total``) or
from event rows via :func:`engagement_shares_from_events`, which writes the same columns.

**Why shrinkage.** Most people have a handful of opens: three opens at 23:00 are weak evidence that
23:00 is *their* hour, and a per-person arg-max over raw counts sends the sparse majority at random
hours. The model is a hierarchical Dirichlet-multinomial: a person's hour distribution has a
Dirichlet prior centred on their segment's pattern (``k_segment`` pseudo-events) and on the whole
list's pattern (``k_list`` pseudo-events), so the posterior mean (= the predictive distribution of
their next engagement) is::

    q_i(h) = (S c_i(h) + k_segment * p_seg(h) + k_list * p_list(h)) / (n_i + k_segment + k_list)

With no history it *is* the segment/list pattern; with one open it moves a little; with a hundred
concentrated opens it is the person's own hour. The segment pattern is itself shrunk towards the
list's with ``segment_shrinkage`` pseudo-events, so a tiny segment cannot dictate. ``S`` is circular
smoothing: an open at 09:00 is also mild evidence for 08:00 and 10:00 (Gaussian kernel on the
24-hour circle, ``hour_bandwidth`` hours; weekdays are not smoothed by default since Sunday and
Monday behave differently). Segment and list patterns are built from the smoothed counts.

**Output.** Best hour and weekday = the arg-max of ``q``; ``send_time_confidence`` = ``q``'s mass
within +-``window_hours`` of the best hour, i.e. the predicted probability that the person's next
real engagement lands within an hour of the recommended send (what :func:`hour_hit_rate` measures);
``evidence_weight`` = ``n / (n + k_segment + k_list)``, the share of the answer that is their own.

**Baseline.** :class:`GlobalBestHourBaseline`: one best hour and weekday for everyone (the list's).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .pit import real_engagement_mask

__all__ = ["SendTimeModel", "GlobalBestHourBaseline", "engagement_shares_from_events", "circular_kernel",
           "circular_hour_distance", "hour_hit_rate", "modal_engagement_hour", "HOUR_COLUMNS", "DOW_COLUMNS"]

HOUR_COLUMNS = tuple(f"eng_hour_{h:02d}" for h in range(24))
DOW_COLUMNS = tuple(f"eng_dow_{d}" for d in range(7))


def circular_kernel(size: int, bandwidth: float) -> np.ndarray:
    """``(size, size)`` circulant smoothing matrix, rows summing to 1 (identity when bandwidth is 0)."""
    if bandwidth <= 0:
        return np.eye(size)
    d = np.abs(np.arange(size)[:, None] - np.arange(size)[None, :])
    d = np.minimum(d, size - d)
    k = np.exp(-0.5 * (d / float(bandwidth)) ** 2)
    return k / k.sum(axis=1, keepdims=True)


def circular_hour_distance(a, b) -> np.ndarray:
    """Hours between two local hours on the 24-hour circle (23 and 0 are 1 apart)."""
    d = np.abs(np.asarray(a, float) - np.asarray(b, float)) % 24.0
    return np.minimum(d, 24.0 - d)


def hour_hit_rate(predicted_hour, target_hour, tolerance: float = 1.0) -> float:
    """Share of people whose predicted hour is within +-``tolerance`` hours (circular) of the target.

    Rows with a missing target (no engagement in the evaluation period) are ignored.
    """
    d = circular_hour_distance(predicted_hour, target_hour)
    ok = np.isfinite(d)
    return float((d[ok] <= tolerance).mean()) if ok.any() else float("nan")


def engagement_shares_from_events(events: pd.DataFrame, key_col: str = "subscriber_key") -> pd.DataFrame:
    """``eng_hour_*`` / ``eng_dow_*`` shares and ``engagement_events_total`` from event rows.

    Counts real opens and clicks (:func:`~ml.scoring.pit.real_engagement_mask`) by ``local_hour`` and
    ``local_dow`` (0 = Monday); the same columns as ``subscriber_profiles``, so either feeds the model.
    Cut the events at the cut-off first (:func:`~ml.scoring.pit.events_until`).
    """
    real = events.loc[real_engagement_mask(events), [key_col, "local_hour", "local_dow"]].dropna()
    hours = pd.crosstab(real[key_col], real["local_hour"].astype(int)).reindex(columns=range(24), fill_value=0)
    dows = pd.crosstab(real[key_col], real["local_dow"].astype(int)).reindex(columns=range(7), fill_value=0)
    total = hours.sum(axis=1)
    out = pd.DataFrame(hours.to_numpy() / total.to_numpy()[:, None], columns=HOUR_COLUMNS, index=hours.index)
    out[list(DOW_COLUMNS)] = dows.reindex(hours.index).to_numpy() / total.to_numpy()[:, None]
    out["engagement_events_total"] = total.to_numpy()
    return out.rename_axis(key_col).reset_index()


def modal_engagement_hour(events: pd.DataFrame, key_col: str = "subscriber_key") -> pd.Series:
    """Each subscriber's most frequent local hour of real engagement (ties: earliest), e.g. in a holdout."""
    real = events.loc[real_engagement_mask(events), [key_col, "local_hour"]].dropna()
    counts = pd.crosstab(real[key_col], real["local_hour"].astype(int))
    return pd.Series(counts.columns.to_numpy()[counts.to_numpy().argmax(axis=1)], index=counts.index,
                     name="target_hour")


def _counts(X: pd.DataFrame, columns, count_col: str) -> tuple[np.ndarray, np.ndarray]:
    missing = [c for c in (*columns, count_col) if c not in X.columns]
    if missing:
        raise ValueError("frame is missing column(s): " + ", ".join(missing))
    shares = np.nan_to_num(X[list(columns)].apply(pd.to_numeric, errors="coerce").to_numpy(np.float64))
    shares = np.clip(shares, 0, None)
    total = shares.sum(axis=1, keepdims=True)
    shares = np.divide(shares, total, out=np.zeros_like(shares), where=total > 0)
    n = np.clip(np.nan_to_num(pd.to_numeric(X[count_col], errors="coerce").to_numpy(np.float64)), 0, None)
    n = np.where(total[:, 0] > 0, n, 0.0)
    return shares * n[:, None], n


class SendTimeModel(BaseEstimator):
    """Best local send hour and weekday per subscriber, shrunk to the segment's and the list's pattern.

    Parameters
    ----------
    k_segment, k_list : Dirichlet pseudo-events at the segment's and at the list's pattern added to
        every person (their sum is how many real engagements it takes to outweigh the prior).
    segment_shrinkage : pseudo-events at the list pattern added to every segment's pooled counts.
    hour_bandwidth, dow_bandwidth : circular Gaussian smoothing (hours / days; 0 = none).
    window_hours : half-width of the window whose predictive mass is the confidence.
    segment_col : profile column naming the segment (``None``: the list is the only group).
    count_col : column with each person's number of real engagements.

    Fitted attributes: ``list_hour_`` (24,), ``list_dow_`` (7,), ``segment_hour_`` / ``segment_dow_``
    (DataFrames indexed by segment), ``hour_kernel_``, ``dow_kernel_``.
    """

    def __init__(self, k_segment: float = 8.0, k_list: float = 4.0, segment_shrinkage: float = 50.0,
                 hour_bandwidth: float = 0.75, dow_bandwidth: float = 0.0, window_hours: int = 1,
                 segment_col: str | None = "lifecycle_stage", count_col: str = "engagement_events_total"):
        self.k_segment = k_segment
        self.k_list = k_list
        self.segment_shrinkage = segment_shrinkage
        self.hour_bandwidth = hour_bandwidth
        self.dow_bandwidth = dow_bandwidth
        self.window_hours = window_hours
        self.segment_col = segment_col
        self.count_col = count_col

    def _segments(self, X: pd.DataFrame) -> pd.Series:
        if self.segment_col is None:
            return pd.Series(["__list__"] * len(X), dtype=object)
        if self.segment_col not in X.columns:
            raise ValueError(f"frame is missing the segment column {self.segment_col!r} (or pass segment_col=None)")
        return X[self.segment_col].astype(object).where(X[self.segment_col].notna(), "__none__").reset_index(drop=True)

    def _pool(self, smoothed: np.ndarray, segments: pd.Series, list_dist: np.ndarray) -> pd.DataFrame:
        pooled = pd.DataFrame(smoothed).groupby(segments.to_numpy()).sum()
        m = float(self.segment_shrinkage)
        dist = (pooled.to_numpy() + m * list_dist) / (pooled.sum(axis=1).to_numpy()[:, None] + m)
        return pd.DataFrame(dist, index=pooled.index)

    def fit(self, X: pd.DataFrame, y=None) -> "SendTimeModel":
        """Learn the list and segment patterns from profile rows (or :func:`engagement_shares_from_events`)."""
        self.hour_kernel_ = circular_kernel(24, self.hour_bandwidth)
        self.dow_kernel_ = circular_kernel(7, self.dow_bandwidth)
        segments = self._segments(X)
        for name, cols, kernel, size in (("hour", HOUR_COLUMNS, self.hour_kernel_, 24),
                                         ("dow", DOW_COLUMNS, self.dow_kernel_, 7)):
            counts, _ = _counts(X, cols, self.count_col)
            smoothed = counts @ kernel
            total = smoothed.sum()
            list_dist = smoothed.sum(axis=0) / total if total > 0 else np.full(size, 1.0 / size)
            setattr(self, f"list_{name}_", list_dist)
            setattr(self, f"segment_{name}_", self._pool(smoothed, segments, list_dist))
        return self

    def _posterior(self, X: pd.DataFrame, name: str) -> tuple[np.ndarray, np.ndarray]:
        cols, kernel = (HOUR_COLUMNS, self.hour_kernel_) if name == "hour" else (DOW_COLUMNS, self.dow_kernel_)
        counts, n = _counts(X, cols, self.count_col)
        list_dist = getattr(self, f"list_{name}_")
        seg_table = getattr(self, f"segment_{name}_")
        seg = np.tile(list_dist, (len(X), 1))
        segments = self._segments(X)
        known = segments.isin(seg_table.index).to_numpy()
        if known.any():
            seg[known] = seg_table.loc[segments[known].to_numpy()].to_numpy()
        ks, kl = float(self.k_segment), float(self.k_list)
        q = (counts @ kernel + ks * seg + kl * list_dist) / (n + ks + kl)[:, None]
        return q, n

    def predict_distributions(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Posterior predictive ``(n, 24)`` hour and ``(n, 7)`` weekday distributions of the next engagement."""
        check_is_fitted(self, "list_hour_")
        return self._posterior(X, "hour")[0], self._posterior(X, "dow")[0]

    def predict(self, X: pd.DataFrame, key_col: str = "subscriber_key") -> pd.DataFrame:
        """``subscriber_key, best_send_hour_local, best_send_dow, send_time_confidence, dow_confidence,
        evidence_events, evidence_weight`` (see the module docstring)."""
        check_is_fitted(self, "list_hour_")
        qh, n = self._posterior(X, "hour")
        qd, _ = self._posterior(X, "dow")
        best_h = qh.argmax(axis=1)
        offsets = np.arange(-int(self.window_hours), int(self.window_hours) + 1)
        window = (best_h[:, None] + offsets[None, :]) % 24
        conf = np.take_along_axis(qh, window, axis=1).sum(axis=1)
        best_d = qd.argmax(axis=1)
        out = pd.DataFrame({
            "best_send_hour_local": best_h.astype(np.int64), "best_send_dow": best_d.astype(np.int64),
            "send_time_confidence": np.clip(conf, 0.0, 1.0), "dow_confidence": qd[np.arange(len(X)), best_d],
            "evidence_events": n, "evidence_weight": n / (n + float(self.k_segment) + float(self.k_list))})
        if key_col in X.columns:
            out.insert(0, key_col, X[key_col].to_numpy())
        return out


class GlobalBestHourBaseline(BaseEstimator):
    """One best hour and weekday for everyone: the arg-max of the list's pooled (smoothed) pattern.

    Fitted attributes: ``best_hour_``, ``best_dow_``, ``list_hour_``, ``list_dow_``.
    """

    def __init__(self, hour_bandwidth: float = 0.75, count_col: str = "engagement_events_total"):
        self.hour_bandwidth = hour_bandwidth
        self.count_col = count_col

    def fit(self, X: pd.DataFrame, y=None) -> "GlobalBestHourBaseline":
        model = SendTimeModel(hour_bandwidth=self.hour_bandwidth, segment_col=None, count_col=self.count_col).fit(X)
        self.list_hour_, self.list_dow_ = model.list_hour_, model.list_dow_
        self.best_hour_, self.best_dow_ = int(self.list_hour_.argmax()), int(self.list_dow_.argmax())
        return self

    def predict(self, X: pd.DataFrame, key_col: str = "subscriber_key") -> pd.DataFrame:
        check_is_fitted(self, "best_hour_")
        out = pd.DataFrame({"best_send_hour_local": np.full(len(X), self.best_hour_, dtype=np.int64),
                            "best_send_dow": np.full(len(X), self.best_dow_, dtype=np.int64)})
        if key_col in X.columns:
            out.insert(0, key_col, X[key_col].to_numpy())
        return out
