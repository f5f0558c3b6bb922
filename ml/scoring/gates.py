"""How a backtest is judged: the promotion rule (a new version against the champion on the same
backtest) and the baseline rule (a model against its naive baseline on the same rows).

A :class:`Backtest` is what every recipe's ``evaluate`` returns (:mod:`ml.scoring.recipes`): the
metrics of a model and of its baseline on the held-out subscribers, and the row-level predictions.
Pure numpy / pandas; no Dagster, no DuckDB.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass
class Backtest:
    """Metrics of a model (``metrics``) and its baseline (``baseline``) on the held-out rows."""

    primary: str
    metrics: dict
    baseline: dict
    rows: pd.DataFrame = field(repr=False)

    @property
    def score(self) -> float:
        return float(self.metrics[self.primary])


def no_worse(candidate: Backtest, champion: Backtest | None, tolerance: float = 0.0) -> bool:
    """The promotion rule: no champion yet, or the candidate's primary metric (higher is better) is at
    least the champion's on the same backtest (minus ``tolerance``). A NaN candidate never wins."""
    if not np.isfinite(candidate.score):
        return False
    if champion is None or not np.isfinite(champion.score):
        return True
    return candidate.score >= champion.score - tolerance


def beats(score: float | None, baseline: float | None) -> bool | None:
    """Whether a score (higher is better) is at least its naive baseline's; None when there is no baseline
    figure. A missing or NaN score never beats it."""
    if baseline is None or not np.isfinite(baseline):
        return None
    return bool(score is not None and np.isfinite(score) and score >= baseline)


def beats_baseline(bt: Backtest) -> bool | None:
    """:func:`beats` for the primary metric of a backtest and its baseline on the same backtest."""
    return beats(bt.score, bt.baseline.get(bt.primary))
