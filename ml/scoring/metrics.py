"""Evaluation metrics for the propensity models, in plain NumPy / scikit-learn.

* :func:`auc` -- ranking quality (area under the ROC curve); NaN when only one class is present,
  instead of an exception, so a backtest table can still be built for a degenerate cut-off;
* :func:`brier` -- mean squared error of predicted probabilities; :func:`brier_skill` compares it to
  the constant predictor that always says the observed rate (1 = perfect, 0 = no better, < 0 worse);
* :func:`calibration_table` -- predicted versus observed rate per score bin (deciles by default),
  the table behind a reliability plot;
* :func:`top_decile_lift` -- how much more often the top 10 % by score are positive than everyone:
  the number a marketer mailing a tenth of the list cares about.

Scores are "higher = more likely positive"; only the Brier and calibration functions need them to be
probabilities.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss, roc_auc_score

__all__ = ["auc", "brier", "brier_skill", "calibration_table", "top_decile_lift", "DEFAULT_METRICS",
           "PROBABILITY_METRICS"]


def _arrays(y_true, score) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true, dtype=float).ravel()
    s = np.asarray(score, dtype=float).ravel()
    if y.shape != s.shape:
        raise ValueError(f"y_true has {y.size} values, score has {s.size}")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("y_true must be 0/1")
    return y, s


def auc(y_true, score) -> float:
    """ROC AUC; NaN when ``y_true`` holds a single class."""
    y, s = _arrays(y_true, score)
    if y.min() == y.max():
        return float("nan")
    return float(roc_auc_score(y, s))


def brier(y_true, prob) -> float:
    """Mean squared difference between predicted probability and the 0/1 outcome (lower is better)."""
    y, p = _arrays(y_true, prob)
    return float(brier_score_loss(y, p))


def brier_skill(y_true, prob) -> float:
    """``1 - brier / brier(constant observed rate)``: > 0 means better than predicting the base rate."""
    y, p = _arrays(y_true, prob)
    ref = brier(y, np.full_like(y, y.mean()))
    return float(1.0 - brier(y, p) / ref) if ref > 0 else float("nan")


def calibration_table(y_true, prob, n_bins: int = 10, strategy: str = "quantile") -> pd.DataFrame:
    """Predicted versus observed rate per bin of the predicted probability.

    ``strategy="quantile"`` makes bins of (nearly) equal size -- deciles with the default ``n_bins``
    -- so every row has enough people to judge; ``"uniform"`` uses equal-width bins on [0, 1].
    Columns: ``bin`` (1 = lowest scores), ``n``, ``p_min``, ``p_max``, ``mean_predicted``,
    ``observed_rate``, ``gap`` (observed - predicted). Empty bins are dropped.
    """
    y, p = _arrays(y_true, prob)
    if strategy == "quantile":
        order = np.argsort(p, kind="stable")
        bins = np.empty(len(p), dtype=int)
        bins[order] = np.arange(len(p)) * n_bins // max(len(p), 1)
    elif strategy == "uniform":
        bins = np.clip((p * n_bins).astype(int), 0, n_bins - 1)
    else:
        raise ValueError("strategy must be 'quantile' or 'uniform'")
    frame = pd.DataFrame({"bin": bins + 1, "p": p, "y": y})
    out = frame.groupby("bin").agg(n=("y", "size"), p_min=("p", "min"), p_max=("p", "max"),
                                   mean_predicted=("p", "mean"), observed_rate=("y", "mean")).reset_index()
    out["gap"] = out["observed_rate"] - out["mean_predicted"]
    return out


def top_decile_lift(y_true, score, fraction: float = 0.1) -> float:
    """Positive rate among the top ``fraction`` by score divided by the overall positive rate.

    Ties at the cut are broken by position (stable sort), so the top group has exactly
    ``ceil(fraction * n)`` rows. NaN when there are no positives.
    """
    y, s = _arrays(y_true, score)
    if y.sum() == 0:
        return float("nan")
    k = max(1, int(np.ceil(fraction * len(y))))
    top = np.argsort(-s, kind="stable")[:k]
    return float(y[top].mean() / y.mean())


DEFAULT_METRICS = {"auc": auc, "brier": brier, "top_decile_lift": top_decile_lift}
PROBABILITY_METRICS = frozenset({"brier", "brier_skill"})
