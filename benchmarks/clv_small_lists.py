"""What BG/NBD does with a list of 50 buyers: CDNOW resampled, against the fit on all 2,357 customers.

    python -m benchmarks.clv_small_lists

The commercial tools refuse to predict under about 500 buyers. Here the calibration period of the
CDNOW sample (tests/fixtures/cdnow, to 1997-09-30) is resampled into ``n_lists`` lists of ``n_buyers``
customers; each list gets its own BG/NBD fit, and its predicted purchases in the 39-week holdout are
compared with what those customers did and with the predictions of the parameters fitted on everyone.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from ml.clv import BetaGeoModel, calibration_holdout_summary

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "cdnow" / "CDNOW_sample.txt"


def small_list_study(n_buyers: int = 50, n_lists: int = 40, seed: int = 0) -> dict:
    raw = pd.read_csv(FIXTURE, sep=r"\s+", header=None, names=["master_id", "customer_id", "date", "cds", "amount"],
                      dtype={"date": str})
    raw["timestamp"] = pd.to_datetime(raw["date"], format="%Y%m%d")
    s = calibration_holdout_summary(raw, "1997-09-30", "1998-06-30")
    full = BetaGeoModel().fit(s["x"], s["t_x"], s["T"])
    t = float(s["duration_holdout"].iloc[0])
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n_lists):
        d = s.sample(n_buyers, random_state=int(rng.integers(2**31)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = BetaGeoModel().fit(d["x"], d["t_x"], d["T"])
        own = m.conditional_expected_purchases(t, d["x"], d["t_x"], d["T"])
        ref = full.conditional_expected_purchases(t, d["x"], d["t_x"], d["T"])
        actual = d["x_holdout"].to_numpy(float)
        p = m.params_
        rows.append({"err_own": abs(own.sum() - actual.sum()) / max(actual.sum(), 1),
                     "err_full": abs(ref.sum() - actual.sum()) / max(actual.sum(), 1),
                     "rho_own": spearmanr(own, actual).statistic, "rho_full": spearmanr(ref, actual).statistic,
                     "r_over_alpha": p["r"] / p["alpha"],
                     "dropout_unidentified": not (1e-3 < p["a"] < 1e4 and 1e-3 < p["b"] < 1e4)})
    r = pd.DataFrame(rows)
    fp = full.params_
    return {"customers": int(len(s)), "n_buyers": n_buyers, "lists": n_lists,
            "median_abs_error_own_fit": float(r["err_own"].median()),
            "median_abs_error_all_customer_params": float(r["err_full"].median()),
            "median_spearman_own_fit": float(r["rho_own"].median()),
            "median_spearman_all_customer_params": float(r["rho_full"].median()),
            "share_dropout_params_unidentified": float(r["dropout_unidentified"].mean()),
            "median_purchase_rate_own_fit": float(r["r_over_alpha"].median()),
            "purchase_rate_all_customers": float(fp["r"] / fp["alpha"])}


if __name__ == "__main__":
    print(json.dumps(small_list_study()))
