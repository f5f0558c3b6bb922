"""Fatigue: how a subscriber's open probability falls as we send more often, and how often is too often.

**Data.** Per subscriber and cadence: how many e-mails went out while the subscriber had received
``sends_prev_7d`` e-mails in the 7 days before (at a steady cadence of *w* a week this is about *w*),
and how many of them were opened for real (open or click of that campaign within ``open_window_days``):
columns ``subscriber_key, sends_prev_7d, sends, opens`` -- the warehouse's
``marts.subscriber_send_cadence``. The likelihood below depends on a send only through (subscriber,
``sends_prev_7d``, opened), so these counts are sufficient: the fit equals the fit on every send. A
send-level frame (:func:`send_level_frame`, one row per send with ``opened``) is accepted too and
counts as ``sends = 1``; :func:`cadence_counts` turns one into the other.

**Model.** A hierarchical logistic response curve in log-frequency::

    logit P(open) = alpha_i + beta_i * (log1p(sends_prev_7d) - xbar_i)

``alpha_i`` is the person's own engagement level (at their own average cadence ``xbar_i``) and
``beta_i`` their *sensitivity* to frequency (negative = fatigue). Centring the frequency within each
person matters: engaged people are usually mailed more, so across people frequency and opens go up
together; within a person, weeks with more mail show the fatigue. ``beta`` is estimated three times,
each shrunk to the level above with a Gaussian prior (MAP, vectorised Newton steps, no loop over
people): the **list** slope (flat prior), each **segment**'s slope (prior sd ``segment_sd`` around the
list's) and each **subscriber**'s slope (prior sd ``sensitivity_sd`` around their segment's). A person
whose cadence never varied keeps the segment slope exactly. ``alpha_i`` has a normal prior (sd
``intercept_sd``) around the list mean.

**Outputs** (:meth:`FatigueModel.predict`, at the current cadence ``sends_per_week_90d``):

* ``fatigue_score`` = ``1 - p_i(current) / p_i(reference_per_week)``, clipped to [0, 1]: the share of
  this person's opens the current cadence costs compared with one e-mail a week (0 = none, also for
  anyone whose slope is not negative);
* ``recommended_max_emails_per_week`` = the largest *w* (1 ... ``max_emails_per_week``) up to which
  every added weekly e-mail still brings at least ``min_marginal_opens`` expected opens
  (``w p(w) - (w-1) p(w-1)``), floored at 1 -- whether to stop mailing someone is the churn and
  sunset policy's decision, not this one's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .open_propensity import OpenPropensityModel
from .pit import real_engagement_mask, to_utc

__all__ = ["FatigueModel", "OpenPropensityModel", "send_level_frame", "cadence_counts", "send_counts"]


def send_level_frame(events: pd.DataFrame, window_days: float = 7.0, open_window_days: float = 7.0,
                     key_col: str = "subscriber_key") -> pd.DataFrame:
    """One row per ``sent`` event: ``subscriber_key, campaign_id, sent_at, sends_prev_7d, opened``.

    ``sends_prev_7d`` counts the subscriber's sends in ``[sent_at - window_days, sent_at)``; ``opened``
    is a real open or click of the same campaign within ``open_window_days`` after the send.
    """
    w = pd.DataFrame({key_col: events[key_col].to_numpy(), "campaign_id": events["campaign_id"].to_numpy(),
                      "t": to_utc(events["occurred_at"]).array, "real": real_engagement_mask(events),
                      "etype": events["event_type"].astype("string").str.lower().to_numpy()})
    sends = w.loc[(w["etype"] == "sent").fillna(False).to_numpy(bool), [key_col, "campaign_id", "t"]]
    sends = sends.sort_values([key_col, "t"], kind="stable").reset_index(drop=True)
    codes = pd.factorize(sends[key_col])[0].astype(np.int64)
    secs = (sends["t"] - sends["t"].min()).dt.total_seconds().to_numpy() if len(sends) else np.zeros(0)
    window = float(window_days) * 86400.0
    big = (secs.max() if len(secs) else 0.0) + window + 1.0
    combined = codes * big + secs  # sorted: by subscriber, then time
    first_in_window = np.searchsorted(combined, combined - window, side="left")
    first_same_time = np.searchsorted(combined, combined, side="left")
    sends["sends_prev_7d"] = (first_same_time - first_in_window).astype(np.int64)
    eng = w.loc[w["real"], [key_col, "campaign_id", "t"]].rename(columns={"t": "eng_at"})
    pairs = sends.reset_index().merge(eng, on=[key_col, "campaign_id"], how="inner")
    hit = (pairs["eng_at"] >= pairs["t"]) & (pairs["eng_at"] <= pairs["t"] + pd.Timedelta(days=float(open_window_days)))
    sends["opened"] = np.isin(np.arange(len(sends)), pairs.loc[hit.to_numpy(bool), "index"].to_numpy())
    return sends.rename(columns={"t": "sent_at"})


def cadence_counts(sends: pd.DataFrame, extra_cols=()) -> pd.DataFrame:
    """Send-level frame -> ``subscriber_key, sends_prev_7d, sends, opens`` (plus ``extra_cols``, e.g. the
    segment, constant per subscriber): what ``marts.subscriber_send_cadence`` holds."""
    keys = ["subscriber_key", "sends_prev_7d", *extra_cols]
    frame = sends[keys].assign(opens=sends["opened"].astype(bool).to_numpy().astype(np.int64))
    out = frame.groupby(keys, dropna=False, sort=True).agg(sends=("opens", "size"), opens=("opens", "sum"))
    return out.reset_index()


def send_counts(frame: pd.DataFrame, success_col: str, outcome_col: str) -> tuple[np.ndarray, np.ndarray]:
    """``(trials, successes)`` per row: an aggregate frame's ``sends`` and ``success_col``, or one send per row
    of a send-level frame with the 0/1 ``outcome_col``. Refuses negative counts or more successes than sends."""
    if "sends" in frame.columns:
        if success_col not in frame.columns:
            raise ValueError(f"count frame has 'sends' but no {success_col!r} column")
        n = pd.to_numeric(frame["sends"], errors="coerce").to_numpy(float)
        k = pd.to_numeric(frame[success_col], errors="coerce").to_numpy(float)
    elif outcome_col in frame.columns:
        k = frame[outcome_col].astype(bool).to_numpy().astype(float)
        n = np.ones(len(frame))
    else:
        raise ValueError(f"frame needs 'sends' and {success_col!r} (counts) or {outcome_col!r} (one row per send)")
    if not (np.isfinite(n).all() and np.isfinite(k).all()) or (n < 0).any() or (k < 0).any() or (k > n).any():
        raise ValueError(f"counts must be finite, non-negative and {success_col} <= sends")
    return n, k


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.clip(z, -35, 35)))


class FatigueModel(BaseEstimator):
    """Per-subscriber frequency sensitivity, shrunk to segment and list; fatigue score and max cadence.

    Parameters
    ----------
    sensitivity_sd : prior sd of a subscriber's slope around their segment's (smaller = more shrinkage).
    segment_sd : prior sd of a segment's slope around the list's.
    intercept_sd : prior sd of a subscriber's engagement level (logit) around the list mean.
    reference_per_week : the cadence the fatigue score compares with.
    min_marginal_opens : expected opens an added weekly e-mail must still bring.
    max_emails_per_week : upper end of the recommendation grid.
    segment_col : column of the send frame (at fit) and profiles (at predict) naming the segment, or None.
    cadence_col : profile column with the current e-mails per week.
    n_iter : most Newton sweeps per level.
    tol : a level stops once no intercept or slope moved by more than this (logit units) in a sweep.

    Fitted attributes: ``list_slope_``, ``list_intercept_``, ``list_center_`` (the list curve is
    ``logit p = list_intercept_ + list_slope_ * (log1p(f) - list_center_)``), ``segment_slopes_``
    (Series), ``subscribers_`` (DataFrame indexed by subscriber_key: alpha, beta, center, sends, segment),
    ``sweeps_`` (Newton sweeps used by the list, segment and person levels).
    """

    def __init__(self, sensitivity_sd: float = 0.5, segment_sd: float = 0.5, intercept_sd: float = 2.0,
                 reference_per_week: float = 1.0, min_marginal_opens: float = 0.02, max_emails_per_week: int = 14,
                 segment_col: str | None = "lifecycle_stage", cadence_col: str = "sends_per_week_90d",
                 n_iter: int = 30, tol: float = 1e-7):
        self.sensitivity_sd = sensitivity_sd
        self.segment_sd = segment_sd
        self.intercept_sd = intercept_sd
        self.reference_per_week = reference_per_week
        self.min_marginal_opens = min_marginal_opens
        self.max_emails_per_week = max_emails_per_week
        self.segment_col = segment_col
        self.cadence_col = cadence_col
        self.n_iter = n_iter
        self.tol = tol

    def __setstate__(self, state):
        state.setdefault("tol", 1e-7)  # pickled before ``tol`` existed: stop at convergence like a new one
        super().__setstate__(state)

    def _fit_level(self, xc, n, k, person, alpha, group, prior_mean, prior_sd):
        """MAP slopes per ``group`` (prior N(prior_mean[g], prior_sd^2)) jointly with person intercepts,
        from ``k`` opens out of ``n`` sends per row (binomial likelihood = the sum over those sends)."""
        n_p, n_g = len(alpha), len(prior_mean)
        beta = np.array(prior_mean, dtype=float)
        prec_b = 0.0 if not np.isfinite(prior_sd) else 1.0 / prior_sd ** 2
        prec_a = 1.0 / float(self.intercept_sd) ** 2
        for sweep in range(int(self.n_iter)):
            mu_a = alpha.mean()
            p = _sigmoid(alpha[person] + beta[group] * xc)
            grad = np.bincount(person, k - n * p, n_p) - prec_a * (alpha - mu_a)
            hess = np.bincount(person, n * p * (1 - p), n_p) + prec_a
            step_a = np.clip(grad / hess, -2, 2)
            alpha = alpha + step_a
            p = _sigmoid(alpha[person] + beta[group] * xc)
            grad = np.bincount(group, (k - n * p) * xc, n_g) - prec_b * (beta - prior_mean)
            hess = np.bincount(group, n * p * (1 - p) * xc ** 2, n_g) + prec_b
            step_b = np.clip(np.divide(grad, hess, out=np.zeros(n_g), where=hess > 0), -1, 1)
            beta = beta + step_b
            if max(np.abs(step_a).max(initial=0.0), np.abs(step_b).max(initial=0.0)) < self.tol:
                break  # converged: no logit moved by tol in this sweep
        self.sweeps_.append(sweep + 1)
        return alpha, beta

    def fit(self, X: pd.DataFrame, y=None) -> "FatigueModel":
        """Fit on cadence counts (``subscriber_key, sends_prev_7d, sends, opens``; see the module docstring)
        or a send-level frame (:func:`send_level_frame`), plus ``segment_col`` when used."""
        missing = [c for c in ("subscriber_key", "sends_prev_7d") if c not in X.columns]
        if self.segment_col is not None and self.segment_col not in X.columns:
            missing.append(f"{self.segment_col} (merge it from the profiles, or pass segment_col=None)")
        if missing:
            raise ValueError("send frame is missing column(s): " + ", ".join(missing))
        n, k = send_counts(X, "opens", "opened")
        keep = n > 0
        if not keep.all():
            X, n, k = X.loc[keep], n[keep], k[keep]
        if not len(X):
            raise ValueError("no sends to fit the fatigue model on")
        person, keys = pd.factorize(X["subscriber_key"])
        x = np.log1p(np.clip(pd.to_numeric(X["sends_prev_7d"]).to_numpy(float), 0, None))
        n_sends = np.bincount(person, n, len(keys))
        center = np.bincount(person, n * x, len(keys)) / n_sends
        xc = x - center[person]
        rate = (np.bincount(person, k, len(keys)) + k.sum() / n.sum()) / (n_sends + 1.0)
        alpha0 = np.log(rate / (1 - rate))
        seg_of_row = (X[self.segment_col].astype(object).fillna("__none__").to_numpy() if self.segment_col
                      else np.zeros(len(X), dtype=object))
        seg_idx, seg_names = pd.factorize(seg_of_row)
        self.sweeps_ = []
        alpha, b_list = self._fit_level(xc, n, k, person, alpha0, np.zeros(len(X), int), np.zeros(1), np.inf)
        alpha, b_seg = self._fit_level(xc, n, k, person, alpha, seg_idx, np.full(len(seg_names), b_list[0]),
                                       float(self.segment_sd))
        person_seg = np.zeros(len(keys), dtype=int)
        person_seg[person] = seg_idx  # a person's segment: their last row's
        alpha, b_person = self._fit_level(xc, n, k, person, alpha, person, b_seg[person_seg],
                                          float(self.sensitivity_sd))
        self.list_slope_ = float(b_list[0])
        self.list_intercept_ = float(alpha.mean())
        self.list_center_ = float((n * x).sum() / n.sum())
        self.segment_slopes_ = pd.Series(b_seg, index=pd.Index(seg_names, name="segment"), name="slope")
        self.subscribers_ = pd.DataFrame({"alpha": alpha, "beta": b_person, "center": center, "sends": n_sends,
                                          "segment": np.asarray(seg_names, dtype=object)[person_seg]},
                                         index=pd.Index(keys, name="subscriber_key"))
        return self

    def _params(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        check_is_fitted(self, "subscribers_")
        subs = self.subscribers_.reindex(X["subscriber_key"].to_numpy())
        seen = subs["alpha"].notna().to_numpy()
        beta = np.full(len(X), self.list_slope_)
        if self.segment_col is not None and self.segment_col in X.columns:
            seg = X[self.segment_col].astype(object).fillna("__none__").map(self.segment_slopes_)
            beta = np.where(seg.notna(), seg.to_numpy(float, na_value=np.nan), beta)
        alpha = np.where(seen, subs["alpha"].to_numpy(float, na_value=np.nan), self.list_intercept_)
        beta = np.where(seen, subs["beta"].to_numpy(float, na_value=np.nan), beta)
        center = np.where(seen, subs["center"].to_numpy(float, na_value=np.nan), self.list_center_)
        return alpha, beta, center

    def open_probability(self, X: pd.DataFrame, per_week, params=None) -> np.ndarray:
        """Predicted real-open probability per send for each subscriber of ``X`` at ``per_week`` e-mails a week
        (``params``: ``_params(X)`` when already at hand)."""
        alpha, beta, center = self._params(X) if params is None else params
        f = np.broadcast_to(np.asarray(per_week, float), (len(X),))
        return _sigmoid(alpha + beta * (np.log1p(np.clip(f, 0, None)) - center))

    def fatigue_score(self, X: pd.DataFrame, per_week=None, params=None) -> np.ndarray:
        """Share of opens lost at ``per_week`` (default: the current cadence) versus the reference cadence."""
        if per_week is None:
            per_week = np.nan_to_num(pd.to_numeric(X[self.cadence_col], errors="coerce").to_numpy(float))
        params = self._params(X) if params is None else params
        ratio = self.open_probability(X, per_week, params) / self.open_probability(X, self.reference_per_week, params)
        return np.clip(1.0 - ratio, 0.0, 1.0)

    def recommended_max_per_week(self, X: pd.DataFrame, params=None) -> np.ndarray:
        """Largest weekly cadence whose every added e-mail still brings ``min_marginal_opens`` opens."""
        grid = np.arange(1, int(self.max_emails_per_week) + 1)
        params = self._params(X) if params is None else params
        weekly = np.column_stack([w * self.open_probability(X, w, params) for w in grid])  # expected opens a week
        marginal = np.diff(np.column_stack([np.zeros(len(X)), weekly]), axis=1)
        ok = np.cumprod(marginal >= float(self.min_marginal_opens), axis=1)
        return np.maximum(ok.sum(axis=1), 1).astype(np.int64)

    def predict(self, X: pd.DataFrame) -> pd.DataFrame:
        """``subscriber_key, fatigue_score, recommended_max_emails_per_week, fatigue_sensitivity,
        open_probability_current`` for profile rows ``X`` (unseen subscribers get segment/list values)."""
        cadence = np.nan_to_num(pd.to_numeric(X[self.cadence_col], errors="coerce").to_numpy(float))
        params = self._params(X)  # one lookup of every subscriber's fitted slope, used by all four columns
        return pd.DataFrame({
            "subscriber_key": X["subscriber_key"].to_numpy(),
            "fatigue_score": self.fatigue_score(X, cadence, params),
            "recommended_max_emails_per_week": self.recommended_max_per_week(X, params),
            "fatigue_sensitivity": params[1],
            "open_probability_current": self.open_probability(X, cadence, params),
        })
