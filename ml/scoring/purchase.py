"""Purchase propensity: the probability that a subscriber places an order in the next 30 days.

**Label.** ``purchased_next`` from :func:`ml.scoring.pit.make_labels` with ``horizon_days=30``: at least
one order (not cancelled or refunded) in ``(cutoff, cutoff + 30 days]``.

**Model.** :class:`PurchasePropensityModel`: the calibrated gradient-boosting engine of
:mod:`ml.scoring.calibrated` on :data:`PURCHASE_FEATURES` -- order recency, frequency and value,
shopping intent on the web (product views, cart adds, abandoned carts, last visit), e-mail engagement
(clicks say more about buying than opens), discount habits and the reading habits of
:data:`~ml.scoring.churn.READER_FEATURES` (device mix and hour-of-day profile: what kind of reader, and
so of buyer, someone is; on the generated 50k list the AUC against the held-back future went from 0.786
to 0.795 with them, by hand).

**Baseline.** :class:`RecencyFrequencyBaseline` is the classic RF grid: each subscriber falls in a
cell of days-since-last-order bins x order-count bins ("never ordered" is its own cell), and the
score is that cell's observed 30-day purchase rate in the training data, shrunk towards the overall
rate with ``prior_strength`` pseudo-subscribers so a cell of five people cannot claim 0 % or 100 %.
It is a probability by construction, so AUC and Brier compare directly with the model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from .calibrated import CalibratedProfileClassifier, profile_matrix
from .churn import READER_FEATURES

__all__ = ["PurchasePropensityModel", "RecencyFrequencyBaseline", "PURCHASE_FEATURES"]

PURCHASE_FEATURES = (
    "days_since_last_order", "orders_30d", "orders_90d", "orders_180d", "orders_total",
    "avg_days_between_orders", "revenue_90d", "revenue_total", "avg_order_value", "discount_order_share",
    "days_since_last_visit", "page_views_90d", "product_views_90d", "cart_adds_90d", "abandoned_carts_90d",
    "days_since_last_click", "days_since_last_open", "clicks_30d", "clicks_90d", "opens_30d", "opens_90d",
    "click_rate_smoothed", "open_rate_smoothed", "engagement_trend", "discount_click_lift",
    "sends_30d", "sends_per_week_90d", "tenure_days", "is_mailable",
    *READER_FEATURES,
)


class PurchasePropensityModel(CalibratedProfileClassifier):
    """Calibrated probability of at least one order in the next 30 days.

    Parameters and fitted attributes: see :class:`~ml.scoring.calibrated.CalibratedProfileClassifier`
    (``features`` defaults to :data:`PURCHASE_FEATURES`). ``predict_frame`` names the output
    ``purchase_probability_30d`` as in ``serving.subscriber_scores``.
    """

    DEFAULT_FEATURES = PURCHASE_FEATURES
    OUTPUT_COLUMN = "purchase_probability_30d"
    HORIZON_DAYS = 30

    @staticmethod
    def target(labels: pd.DataFrame) -> np.ndarray:
        """0/1 label (``purchased_next``) from a :func:`~ml.scoring.pit.make_labels` frame."""
        return labels["purchased_next"].astype(bool).to_numpy().astype(int)


class RecencyFrequencyBaseline(ClassifierMixin, BaseEstimator):
    """Shrunk purchase rate of the subscriber's recency x frequency cell.

    Parameters
    ----------
    recency_edges : upper bounds (days since last order) of the recency bins; beyond the last edge
        is one more bin, and "never ordered" another.
    frequency_edges : lower bounds (lifetime orders) of the frequency bins above the first
        (default: 1, 2-3, 4-7, 8+).
    prior_strength : pseudo-subscribers at the overall rate added to every cell.

    Fitted attributes: ``cell_rates_`` (DataFrame: recency_bin, frequency_bin, n, positives, rate),
    ``base_rate_``, ``classes_``.
    """

    def __init__(self, recency_edges=(30, 90, 180, 365), frequency_edges=(2, 4, 8), prior_strength: float = 20.0):
        self.recency_edges = recency_edges
        self.frequency_edges = frequency_edges
        self.prior_strength = prior_strength

    def _cells(self, X: pd.DataFrame) -> np.ndarray:
        m = profile_matrix(X, ["days_since_last_order", "orders_total"])
        days, orders = m[:, 0], np.nan_to_num(m[:, 1])
        never = ~np.isfinite(days) | (orders <= 0)
        r = np.searchsorted(np.asarray(self.recency_edges, float), np.nan_to_num(days), side="left")
        f = np.searchsorted(np.asarray(self.frequency_edges, float), orders, side="right")
        n_f = len(self.frequency_edges) + 1
        return np.where(never, -1, r * n_f + f)

    def fit(self, X: pd.DataFrame, y) -> "RecencyFrequencyBaseline":
        y = np.asarray(y, dtype=float).ravel()
        cells = self._cells(X)
        self.base_rate_ = float(y.mean())
        stats = pd.DataFrame({"cell": cells, "y": y}).groupby("cell")["y"].agg(["size", "sum"])
        m = float(self.prior_strength)
        rate = (stats["sum"] + m * self.base_rate_) / (stats["size"] + m)
        n_f = len(self.frequency_edges) + 1
        idx = stats.index.to_numpy()
        self.cell_rates_ = pd.DataFrame({
            "cell": idx, "recency_bin": np.where(idx < 0, -1, idx // n_f),
            "frequency_bin": np.where(idx < 0, -1, idx % n_f),
            "n": stats["size"].to_numpy(), "positives": stats["sum"].to_numpy(), "rate": rate.to_numpy()})
        self.classes_ = np.array([0, 1])
        return self

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """The shrunk cell rate (an unseen cell gets the overall training rate)."""
        check_is_fitted(self, "cell_rates_")
        lookup = pd.Series(self.cell_rates_["rate"].to_numpy(), index=self.cell_rates_["cell"].to_numpy())
        return pd.Series(self._cells(X)).map(lookup).fillna(self.base_rate_).to_numpy(float)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        p = self.decision_function(X)
        return np.column_stack([1.0 - p, p])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)
