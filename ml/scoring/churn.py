"""Churn: the probability that a subscriber shows no real sign of life in the next 90 days.

**Label.** ``churned = 1 - active_next`` from :func:`ml.scoring.pit.make_labels` with
``horizon_days=90``: no real open, no real click and no order in ``(cutoff, cutoff + 90 days]``.
Machine (privacy-proxy) opens do not count as life. :meth:`ChurnModel.target` turns a label frame
into that 0/1 vector.

**Model.** :class:`ChurnModel` is the calibrated gradient-boosting engine of
:mod:`ml.scoring.calibrated` on :data:`CHURN_FEATURES`: recency of every kind of activity, recent and
lifetime frequency, smoothed rates and their trend, how hard we are mailing them, web activity, value
and the mailability flags (an unsubscribed or hard-bounced address cannot open, and that is real
signal for this label; report backtests on mailable subscribers so it does not flatter the AUC).

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

__all__ = ["ChurnModel", "RecencyBaseline", "CHURN_FEATURES", "days_since_last_engagement"]

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
)


def days_since_last_engagement(profiles: pd.DataFrame) -> np.ndarray:
    """Days since the latest real open, click or order; the tenure (or NaN) for someone with none."""
    days = profile_matrix(profiles, ["days_since_last_open", "days_since_last_click", "days_since_last_order"])
    latest = np.fmin.reduce(days, axis=1)  # fmin skips NaN; all-NaN rows stay NaN
    if "tenure_days" in profiles.columns:
        tenure = profile_matrix(profiles, ["tenure_days"])[:, 0]
        latest = np.where(np.isfinite(latest), latest, tenure)
    return latest


class ChurnModel(CalibratedProfileClassifier):
    """Calibrated probability of no real open, click or order in the next 90 days.

    Parameters and fitted attributes: see :class:`~ml.scoring.calibrated.CalibratedProfileClassifier`
    (``features`` defaults to :data:`CHURN_FEATURES`). ``predict_proba(X)[:, 1]`` is the churn
    probability; ``predict_frame`` names it ``churn_probability`` as in ``serving.subscriber_scores``.
    """

    DEFAULT_FEATURES = CHURN_FEATURES
    OUTPUT_COLUMN = "churn_probability"
    HORIZON_DAYS = 90

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
