"""Churn: the probability that a subscriber shows no real sign of life in the next 90 days.

**Label.** ``churned = 1 - active_next`` from :func:`ml.scoring.pit.make_labels` with
``horizon_days=90``: no real open, no real click and no order in ``(cutoff, cutoff + 90 days]``.
Machine (privacy-proxy) opens do not count as life. :meth:`ChurnModel.target` turns a label frame
into that 0/1 vector.

**Model.** :class:`ChurnModel` is the calibrated gradient-boosting engine of
:mod:`ml.scoring.calibrated` on :data:`CHURN_FEATURES`: recency of every kind of activity, recent and
lifetime frequency, smoothed rates and their trend, how hard we are mailing them, web activity, value
and the mailability flags (an unsubscribed or hard-bounced address cannot open, and that is real
signal for this label; report backtests on mailable subscribers so it does not flatter the AUC), the
reading habits of :data:`READER_FEATURES` (device mix and the share of real engagement in each local
hour: they say what kind of reader someone is, and kinds of reader differ in how quickly they drift
away; on the generated 50k list the churn AUC against the held-back future went from 0.898 to 0.909
with them, by hand), plus :data:`CHURN_DERIVED_FEATURES` (:func:`silence_features`: how unlikely the
current silence is for someone still interested, given their engagement rate and the sends since, and
how often they asked to be mailed in the preference centre).

**Baseline.** :class:`RecencyBaseline` ranks by days since the last real engagement (the most recent
of open, click and order; "never" = the whole tenure) -- the rule every e-mail team already uses --
and maps that ranking to probabilities with an increasing isotonic fit, so the model and the baseline
can be compared on Brier score as well as AUC in the same backtest.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.isotonic import IsotonicRegression
from sklearn.utils.validation import check_is_fitted

from .calibrated import CalibratedProfileClassifier, profile_matrix
from .send_time import HOUR_COLUMNS

__all__ = ["ChurnModel", "RecencyBaseline", "CHURN_FEATURES", "CHURN_DERIVED_FEATURES", "READER_FEATURES",
           "days_since_last_engagement", "sends_since", "silence_features"]

#: The reading habits, when and on what device: kinds of reader differ in how long they stay and how often
#: they buy, and these say what kind of reader someone is where counts and recency do not (see the module
#: docstring). Shared with :mod:`ml.scoring.purchase`.
READER_FEATURES = ("share_mobile", "share_desktop", "share_tablet", *HOUR_COLUMNS)

CHURN_FEATURES = (
    # recency (NULL = never, handled natively by the trees)
    "days_since_last_open", "days_since_last_click", "days_since_last_order", "days_since_last_visit",
    # frequency, recent and lifetime
    "opens_30d", "opens_90d", "opens_180d", "clicks_30d", "clicks_90d", "clicks_180d",
    "real_opens_total", "machine_opens_total", "clicks_total",
    "orders_30d", "orders_90d", "orders_180d", "orders_total", "avg_days_between_orders",
    # rates and direction
    "open_rate_smoothed", "click_rate_smoothed", "engagement_trend",
    # exposure: how much we send
    "sends_30d", "sends_90d", "sends_180d", "sends_total", "sends_per_week_90d",
    # web and value
    "page_views_90d", "product_views_90d", "cart_adds_90d", "abandoned_carts_90d",
    "revenue_90d", "revenue_total", "avg_order_value", "discount_order_share",
    # tenure and mailability
    "tenure_days", "is_unsubscribed", "is_hard_bounced", "has_complained", "is_paused",
    # latest sign of life of any kind (web visits too), and the engaged-send rate the silence is judged by
    "days_since_last_engagement", "engagement_rate_smoothed",
    # what kind of reader: device mix and the share of real engagement in each local hour
    *READER_FEATURES,
)

#: Computed by :func:`silence_features` from the profile columns (see there); not profile columns.
CHURN_DERIVED_FEATURES = (
    "sends_since_last_engagement", "expected_engagements_missed", "silence_log_likelihood",
    "silence_log_likelihood_open", "silence_vs_usual_gap", "days_since_last_send", "preferred_sends_per_week",
)
#: Profile columns :func:`silence_features` reads besides :data:`CHURN_FEATURES`, per derived feature.
SILENCE_INPUTS = {"days_since_last_send": ("as_of", "last_send_at"),
                  "preferred_sends_per_week": ("preferred_frequency",)}
#: Sends a week each ``preferred_frequency`` of the preference centre asks for (the data contract's values).
PREFERRED_SENDS_PER_WEEK = {"daily": 7.0, "weekly": 1.0, "monthly": 12.0 / 52.0}


def days_since_last_engagement(profiles: pd.DataFrame) -> np.ndarray:
    """Days since the latest real open, click or order; the tenure (or NaN) for someone with none."""
    days = profile_matrix(profiles, ["days_since_last_open", "days_since_last_click", "days_since_last_order"])
    latest = np.fmin.reduce(days, axis=1)  # fmin skips NaN; all-NaN rows stay NaN
    if "tenure_days" in profiles.columns:
        tenure = profile_matrix(profiles, ["tenure_days"])[:, 0]
        latest = np.where(np.isfinite(latest), latest, tenure)
    return latest


def sends_since(profiles: pd.DataFrame, days) -> np.ndarray:
    """Sends received in the last ``days`` days (NaN = all of them), interpolated from the windowed counts.

    Linear within each window of ``sends_30d`` / ``sends_90d`` / ``sends_180d`` / ``sends_total``
    (the part older than 180 days spread over the rest of the tenure).
    """
    s30, s90, s180, total, tenure = (np.nan_to_num(profile_matrix(profiles, [c])[:, 0]) for c in (
        "sends_30d", "sends_90d", "sends_180d", "sends_total", "tenure_days"))
    d = np.asarray(days, dtype=float)
    d = np.where(np.isfinite(d), d, 1e9)  # never: every send (the older-than-180-days share clips to 1)
    older = np.clip((d - 180.0) / np.maximum(tenure - 180.0, 1.0), 0.0, 1.0)
    return np.select(
        [d <= 30, d <= 90, d <= 180],
        [s30 * d / 30.0, s30 + (s90 - s30) * (d - 30.0) / 60.0, s90 + (s180 - s90) * (d - 90.0) / 90.0],
        s180 + (total - s180) * older)


def silence_features(profiles: pd.DataFrame, names=CHURN_DERIVED_FEATURES) -> pd.DataFrame:
    """How telling the current silence is, given how much we mail the person and how often they engage.

    Days since the last open say little on their own: 60 silent days are expected of someone who opens
    one e-mail in twenty and gets one a fortnight, and damning for a weekly opener mailed daily.

    * ``sends_since_last_engagement``: sends since the latest real open, click or order
      (:func:`sends_since`; all of them for someone who never engaged);
    * ``expected_engagements_missed``: that times ``engagement_rate_smoothed``;
    * ``silence_log_likelihood``: ``log P(no engagement in those sends)`` for a still-interested person
      with that rate, ``sends * log(1 - rate)``; ``silence_log_likelihood_open`` the same for real opens
      with ``open_rate_smoothed`` and the sends since the last open;
    * ``silence_vs_usual_gap``: days since the last engagement (the tenure when none) over the
      person's mean gap between engagements (tenure / (opens + clicks + orders + 1));
    * ``days_since_last_send``: from ``last_send_at`` to ``as_of`` (NaN if never mailed): no mail, no opens;
    * ``preferred_sends_per_week``: the frequency the person chose in the preference centre
      (:data:`PREFERRED_SENDS_PER_WEEK`; NaN when they never chose one): the sender honours it, so a
      monthly reader has few chances to open in the next 90 days whatever their past rate (on the
      generated 50k list the churn AUC against the held-back future went from 0.892 to 0.898).

    Only ``names`` are computed; every value comes from the profile row itself (point in time).
    """
    names = list(names)
    out = {}
    days = days_since_last_engagement(profiles.loc[:, ["days_since_last_open", "days_since_last_click",
                                                         "days_since_last_order"]])
    rate = np.clip(profile_matrix(profiles, ["engagement_rate_smoothed"])[:, 0], 1e-4, 0.999)
    sends = sends_since(profiles, days)
    out["sends_since_last_engagement"] = sends
    out["expected_engagements_missed"] = sends * rate
    out["silence_log_likelihood"] = sends * np.log1p(-rate)
    if "silence_log_likelihood_open" in names:
        m = profile_matrix(profiles, ["days_since_last_open", "open_rate_smoothed"])
        out["silence_log_likelihood_open"] = sends_since(profiles, m[:, 0]) * np.log1p(
            -np.clip(m[:, 1], 1e-4, 0.999))
    if "silence_vs_usual_gap" in names:
        m = np.nan_to_num(profile_matrix(profiles, ["real_opens_total", "clicks_total", "orders_total"]))
        tenure = profile_matrix(profiles, ["tenure_days"])[:, 0]
        tenure = np.where(np.isfinite(tenure), tenure, 3650.0)
        gap = tenure / (m.sum(axis=1) + 1.0)
        out["silence_vs_usual_gap"] = np.where(np.isfinite(days), days, tenure) / np.maximum(gap, 1.0)
    missing = [c for name in names for c in SILENCE_INPUTS.get(name, ()) if c not in profiles.columns]
    if missing:
        raise ValueError("profile frame is missing feature column(s): " + ", ".join(dict.fromkeys(missing)))
    if "days_since_last_send" in names:
        as_of = pd.to_datetime(profiles["as_of"], utc=True)
        last = pd.to_datetime(profiles["last_send_at"], utc=True)
        out["days_since_last_send"] = ((as_of - last).dt.total_seconds() / 86400.0).to_numpy(float)
    if "preferred_sends_per_week" in names:
        chosen = profiles["preferred_frequency"].map(PREFERRED_SENDS_PER_WEEK)
        out["preferred_sends_per_week"] = chosen.to_numpy(float)
    unknown = [c for c in names if c not in out]
    if unknown:
        raise ValueError("not a derived churn feature: " + ", ".join(unknown))
    return pd.DataFrame({c: out[c] for c in names}, index=profiles.index)


class ChurnModel(CalibratedProfileClassifier):
    """Calibrated probability of no real open, click or order in the next 90 days.

    Parameters and fitted attributes: see :class:`~ml.scoring.calibrated.CalibratedProfileClassifier`
    (``features`` defaults to :data:`CHURN_FEATURES`). ``predict_proba(X)[:, 1]`` is the churn
    probability; ``predict_frame`` names it ``churn_probability`` as in ``serving.subscriber_scores``.
    """

    DEFAULT_FEATURES = CHURN_FEATURES
    DERIVED_FEATURES = CHURN_DERIVED_FEATURES
    OUTPUT_COLUMN = "churn_probability"
    HORIZON_DAYS = 90

    def derive(self, X: pd.DataFrame, names) -> pd.DataFrame:
        """:func:`silence_features` ``names`` of the profile rows."""
        return silence_features(X, names)

    @staticmethod
    def target(labels: pd.DataFrame) -> np.ndarray:
        """0/1 churn label (1 = not ``active_next``) from a :func:`~ml.scoring.pit.make_labels` frame."""
        return (~labels["active_next"].astype(bool)).to_numpy().astype(int)


class RecencyBaseline(ClassifierMixin, BaseEstimator):
    """"The longer since they last engaged, the likelier they are gone", as a probability.

    Score = :func:`days_since_last_engagement` (``never_days`` when even the tenure is unknown).
    ``fit`` learns an increasing isotonic map from that score to the observed churn rate, so
    ``predict_proba`` is a calibrated probability; ``decision_function`` returns the raw days.

    Fitted attributes: ``isotonic_`` (the ``IsotonicRegression``), ``classes_``, ``base_rate_``.
    """

    def __init__(self, never_days: float = 3650.0):
        self.never_days = never_days

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """Days since the last real engagement (higher = more likely to churn)."""
        days = days_since_last_engagement(X)
        return np.where(np.isfinite(days), days, float(self.never_days))

    def fit(self, X: pd.DataFrame, y) -> "RecencyBaseline":
        y = np.asarray(y, dtype=float).ravel()
        self.isotonic_ = IsotonicRegression(increasing=True, out_of_bounds="clip", y_min=0.0, y_max=1.0)
        self.isotonic_.fit(self.decision_function(X), y)
        self.classes_ = np.array([0, 1])
        self.base_rate_ = float(y.mean())
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self, "isotonic_")
        p = self.isotonic_.predict(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)
