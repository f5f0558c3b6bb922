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
probabilities. AUC, Brier and lift take an optional ``sample_weight``: aggregated outcomes (``k`` positives
out of ``n`` trials per row, :func:`expand_counts`) then give the same figures as one row per trial.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss, roc_auc_score

__all__ = ["auc", "brier", "brier_skill", "calibration_table", "calibration_error", "top_decile_lift",
           "expand_counts", "DEFAULT_METRICS", "PROBABILITY_METRICS"]


def _arrays(y_true, score) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true, dtype=float).ravel()
    s = np.asarray(score, dtype=float).ravel()
    if y.shape != s.shape:
        raise ValueError(f"y_true has {y.size} values, score has {s.size}")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("y_true must be 0/1")
    return y, s


def _weights(sample_weight, n: int) -> np.ndarray | None:
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight, dtype=float).ravel()
    if w.shape != (n,):
        raise ValueError(f"sample_weight has {w.size} values, expected {n}")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("sample_weight must be finite and non-negative")
    return w


def expand_counts(score, positives, trials) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(y_true, score, sample_weight)`` for rows of ``positives`` out of ``trials`` sharing one score: a
    positive row weighted ``positives`` and a negative row weighted ``trials - positives`` per input row
    (zero weights dropped), so weighted metrics equal those of one row per trial."""
    s = np.asarray(score, dtype=float).ravel()
    k = np.asarray(positives, dtype=float).ravel()
    n = np.asarray(trials, dtype=float).ravel()
    if not (s.shape == k.shape == n.shape):
        raise ValueError("score, positives and trials must have the same length")
    if (k < 0).any() or (k > n).any():
        raise ValueError("need 0 <= positives <= trials")
    y = np.concatenate([np.ones(len(s)), np.zeros(len(s))])
    w = np.concatenate([k, n - k])
    keep = w > 0
    return y[keep], np.concatenate([s, s])[keep], w[keep]


def auc(y_true, score, sample_weight=None) -> float:
    """ROC AUC (ties count one half); NaN when ``y_true`` holds a single class (with positive weight)."""
    y, s = _arrays(y_true, score)
    w = _weights(sample_weight, len(y))
    present = y if w is None else y[w > 0]
    if len(present) == 0 or present.min() == present.max():
        return float("nan")
    return float(roc_auc_score(y, s, sample_weight=w))


def brier(y_true, prob, sample_weight=None) -> float:
    """Mean squared difference between predicted probability and the 0/1 outcome (lower is better)."""
    y, p = _arrays(y_true, prob)
    return float(brier_score_loss(y, p, sample_weight=_weights(sample_weight, len(y))))


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


def top_decile_lift(y_true, score, fraction: float = 0.1, sample_weight=None) -> float:
    """Positive rate among the top ``fraction`` by score divided by the overall positive rate.

    The top group holds ``ceil(fraction * n)`` rows (with ``sample_weight``: that much weight). Rows tied
    on the score at the cut enter it in part, each at the tied rows' positive rate (the expected figure
    over every order of the ties), so the result does not depend on row order. NaN when there are no
    positives.
    """
    y, s = _arrays(y_true, score)
    w = np.ones(len(y)) if sample_weight is None else _weights(sample_weight, len(y))
    total, positives = w.sum(), (y * w).sum()
    if positives == 0:
        return float("nan")
    k = max(1.0, float(np.ceil(fraction * total)))
    values, group = np.unique(-s, return_inverse=True)  # groups of tied scores, best first
    group_w = np.bincount(group, w, len(values))
    group_pos = np.bincount(group, y * w, len(values))
    before = np.concatenate([[0.0], np.cumsum(group_w)[:-1]])
    taken = np.clip(k - before, 0.0, group_w)  # weight of each tie group inside the top group
    share = np.divide(taken, group_w, out=np.zeros_like(taken), where=group_w > 0)
    return float((group_pos * share).sum() / k / (positives / total))


def calibration_error(y_true, prob, n_bins: int = 10, strategy: str = "quantile") -> float:
    """Expected calibration error: the size-weighted mean of ``|observed - predicted|`` over the bins of
    :func:`calibration_table` (0 = the reliability curve lies on the diagonal)."""
    table = calibration_table(y_true, prob, n_bins=n_bins, strategy=strategy)
    return float((table["n"] * table["gap"].abs()).sum() / table["n"].sum())


DEFAULT_METRICS = {"auc": auc, "brier": brier, "top_decile_lift": top_decile_lift}
PROBABILITY_METRICS = frozenset({"brier", "brier_skill"})
