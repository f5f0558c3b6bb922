"""Churn / purchase recipe quality against the generator's held-back future, without a pipeline run.

Fits a recipe as the pipeline does (``RECIPES[name].fit`` on :func:`load_training_data`), logs its
backtest, scores ``marts.subscriber_profiles`` and reports the AUC against ``truth/subscribers.parquet``
(churned = not ``future_active_90d``; purchase = ``future_purchase_30d``), as
:mod:`benchmarks.scoring_quality` computes the served figure. Usage::

    OMP_NUM_THREADS=1 python -m benchmarks.churn_vs_truth WAREHOUSE TRUTH_DIR [churn purchase]

(``OMP_NUM_THREADS=1``: on a busy 2-core machine the boosting's OpenMP threads slowed a 7 s fit to 11 min.)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

from ml.scoring import auc
from ml.scoring.recipes import RECIPES
from orchestration.scoring_data import load_current, load_training_data
from orchestration.warehouse import connect

TRUTH_LABELS = {"churn": lambda t: ~t["future_active_90d"].astype(bool),
                "purchase": lambda t: t["future_purchase_30d"].astype(bool)}


def main(warehouse: Path, truth_dir: Path, names=("churn", "purchase")) -> None:
    data, profiles = load_training_data(warehouse), load_current(warehouse)["profiles"]
    with connect(warehouse, read_only=True) as con:
        keys = con.execute("SELECT email, subscriber_key FROM marts.dim_subscribers").df()
    truth = pd.read_parquet(truth_dir / "subscribers.parquet").merge(keys, on="email").set_index("subscriber_key")
    truth = truth.reindex(profiles["subscriber_key"])
    for name in names:
        recipe = RECIPES[name]
        t0 = time.perf_counter()
        model = recipe.fit(data)
        t1 = time.perf_counter()
        p = model.predict_proba(profiles)[:, 1]
        t2 = time.perf_counter()
        bt = recipe.evaluate(model, data)
        y = TRUTH_LABELS[name](truth).to_numpy().astype(int)
        print(f"{name}: auc_vs_future={auc(y, p):.4f} backtest_auc={bt.metrics['auc']:.4f} "
              f"backtest_auc_mailable={bt.metrics.get('auc_mailable', float('nan')):.4f} "
              f"fit_s={t1 - t0:.1f} predict_s={t2 - t1:.1f} scored={len(p)}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), tuple(sys.argv[3:]) or ("churn", "purchase"))
