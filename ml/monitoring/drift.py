"""Population stability: how far today's feature distributions and segment shares moved from training.

The population stability index (PSI) of a feature compares the share of rows in each bin today (a)
with the share at training (e): ``PSI = sum((a - e) * ln(a / e))`` over the bins. Bins are the
training data's deciles (fewer when values repeat), plus one bin for missing values, so a feature
that starts arriving empty drifts too. Customary reading: below 0.1 stable, 0.1-0.25 a moderate
shift worth a look, above 0.25 a major shift. Shares are floored at ``eps`` so an empty bin does not
make the index infinite.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["DriftReference", "population_stability_index", "share_shift"]

EPS = 1e-4


def population_stability_index(expected: np.ndarray, actual: np.ndarray, eps: float = EPS) -> float:
    """PSI between two vectors of bin shares (each summing to 1)."""
    e = np.clip(np.asarray(expected, dtype=float), eps, None)
    a = np.clip(np.asarray(actual, dtype=float), eps, None)
    if e.shape != a.shape:
        raise ValueError(f"bin share vectors differ in length: {e.shape} vs {a.shape}")
    return float(np.sum((a - e) * np.log(a / e)))


def share_shift(expected: pd.Series, actual: pd.Series) -> dict[str, float]:
    """PSI and largest absolute change between two categorical share tables (e.g. segment shares).

    Categories present on one side only count with share 0 on the other (floored at ``EPS``).
    """
    cats = sorted(set(expected.index) | set(actual.index), key=str)
    e = expected.reindex(cats).fillna(0.0).to_numpy(float)
    a = actual.reindex(cats).fillna(0.0).to_numpy(float)
    e, a = e / max(e.sum(), 1e-12), a / max(a.sum(), 1e-12)
    return {"psi": population_stability_index(e, a), "max_abs_change": float(np.max(np.abs(a - e))) if cats else 0.0}


@dataclass
class DriftReference:
    """Decile bins and bin shares of each numeric column at training time.

    ``fit(frame)`` remembers them; ``psi(frame)`` returns one PSI per column for new data.
    """

    n_bins: int = 10
    edges_: dict[str, np.ndarray] = field(default_factory=dict)
    shares_: dict[str, np.ndarray] = field(default_factory=dict)
    n_rows_: int = 0

    def fit(self, frame: pd.DataFrame) -> "DriftReference":
        if frame.empty:
            raise ValueError("cannot fit a drift reference on an empty frame")
        self.edges_, self.shares_ = {}, {}
        for col in frame.columns:
            values = pd.to_numeric(frame[col], errors="coerce").to_numpy(float)
            present = values[~np.isnan(values)]
            if present.size:
                inner = np.unique(np.quantile(present, np.linspace(0, 1, self.n_bins + 1)[1:-1]))
            else:
                inner = np.array([])
            self.edges_[col] = inner
            self.shares_[col] = self._shares(values, inner)
        self.n_rows_ = len(frame)
        return self

    @staticmethod
    def _shares(values: np.ndarray, inner: np.ndarray) -> np.ndarray:
        """Shares of rows per bin: (-inf, e1], (e1, e2], ..., (ek, inf), then missing."""
        missing = np.isnan(values)
        counts = np.bincount(np.searchsorted(inner, values[~missing], side="left"), minlength=inner.size + 1)
        counts = np.append(counts, missing.sum()).astype(float)
        return counts / max(values.size, 1)

    @property
    def columns(self) -> list[str]:
        return list(self.edges_)

    def psi(self, frame: pd.DataFrame) -> pd.Series:
        """PSI per reference column; a column missing from ``frame`` raises ``ValueError``."""
        if not self.edges_:
            raise ValueError("DriftReference is not fitted")
        missing = [c for c in self.edges_ if c not in frame.columns]
        if missing:
            raise ValueError("columns missing for the drift check: " + ", ".join(missing))
        out = {}
        for col, inner in self.edges_.items():
            values = pd.to_numeric(frame[col], errors="coerce").to_numpy(float)
            out[col] = population_stability_index(self.shares_[col], self._shares(values, inner))
        return pd.Series(out, name="psi").sort_values(ascending=False)
