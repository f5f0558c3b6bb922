"""Quality of the served scores against the generator's held-back future (``<landing>/truth/``).

:func:`scoring_quality` reads the warehouse (read-only) after ``mailsift run`` and the truth folder of
``mailsift generate`` (what each person did after as_of, planted send hours, the held-back campaigns
and their e-mail events) and returns a flat dict of figures:

* churn AUC of ``churn_probability`` vs the baseline "days since last real engagement", on
  ``future_active_90d``;
* purchase AUC of ``purchase_probability_30d`` on ``future_purchase_30d``;
* Spearman of ``predicted_clv_365d`` vs ``future_revenue``;
* share of people with 5+ real opens whose ``best_send_hour_local`` is within +-1 h of their planted
  hour, vs one best hour (the list's most engaged local hour) for everyone;
* per held-back campaign, the real-click rate of the top 20 % of its recipients picked by the
  audience ranking (topic and offer affinities, as ``mailsift audience``) vs the better of two manual
  rules at the same size (most recently engaged; RFM champions first, then most recent), averaged
  over campaigns (recipient-weighted);
* ``scoring_seconds``: the champions re-scoring today's data (as the ``subscriber_scores`` step).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from ml.scoring import auc
from ml.scoring.affinity import combine_affinities
from ml.scoring.churn import days_since_last_engagement
from ml.scoring.send_time import HOUR_COLUMNS, circular_hour_distance
from orchestration.warehouse import connect

TOP_SHARE = 0.2


def _load(warehouse: Path) -> dict[str, pd.DataFrame]:
    with connect(warehouse, read_only=True) as con:
        return {
            "keys": con.execute("SELECT email, subscriber_key FROM marts.dim_subscribers").df(),
            "profiles": con.execute("SELECT * FROM marts.subscriber_profiles").df(),
            "scores": con.execute("SELECT s.*, m.click_probability_overall FROM serving.subscriber_scores s "
                                  "JOIN ml.subscriber_scores m USING (subscriber_key)").df(),
            "affinities": con.execute("SELECT subscriber_key, dimension, value, affinity "
                                      "FROM serving.subscriber_affinities").df(),
        }


def _campaign_lift(d, truth_dir: Path) -> dict:
    campaigns = pd.read_parquet(truth_dir / "future_campaigns.parquet")
    events = pd.read_parquet(truth_dir / "future_email_events.parquet",
                             columns=["email", "event_type", "campaign_id"])
    events = events.merge(d["keys"], on="email", how="inner")
    sent = events.loc[events["event_type"] == "sent", ["subscriber_key", "campaign_id"]].drop_duplicates()
    clicked = events.loc[events["event_type"] == "click", ["subscriber_key", "campaign_id"]].drop_duplicates()
    clicked["clicked"] = True
    aff = d["affinities"].pivot_table(index="subscriber_key", columns=["dimension", "value"], values="affinity")
    prof = d["profiles"].set_index("subscriber_key")
    recency = pd.Series(days_since_last_engagement(d["profiles"]), index=d["profiles"]["subscriber_key"])
    base = d["scores"].set_index("subscriber_key")["click_probability_overall"]
    totals = {"model": [0, 0], "recent": [0, 0], "rfm_champions": [0, 0]}
    n_campaigns = 0
    for c in campaigns.itertuples(index=False):
        r = sent.loc[sent["campaign_id"] == c.campaign_id, ["subscriber_key"]]
        r = r.loc[r["subscriber_key"].isin(base.index)].merge(
            clicked.loc[clicked["campaign_id"] == c.campaign_id, ["subscriber_key", "clicked"]],
            on="subscriber_key", how="left")
        if len(r) < 10:
            continue
        n_campaigns += 1
        r["clicked"] = r["clicked"].astype("boolean").fillna(False).astype(bool)
        k = max(1, int(np.ceil(TOP_SHARE * len(r))))
        p0 = base.reindex(r["subscriber_key"]).to_numpy(float)

        def col(dim, value):
            if (dim, value) in aff.columns:
                v = aff[(dim, value)].reindex(r["subscriber_key"]).to_numpy(float)
                return np.where(np.isfinite(v), v, p0)
            return p0
        r["model"] = combine_affinities(col("content_topic", c.content_topic), col("offer_type", c.offer_type), p0)
        r["recent"] = -recency.reindex(r["subscriber_key"]).fillna(1e9).to_numpy(float)
        champs = (prof["rfm_segment"].reindex(r["subscriber_key"]) == "champions").to_numpy(float)
        r["rfm_champions"] = champs * 1e6 + r["recent"]
        for rule in totals:
            top = r.sort_values([rule, "subscriber_key"], ascending=[False, True]).head(k)
            totals[rule][0] += int(top["clicked"].sum())
            totals[rule][1] += k
    rate = {rule: (c / n if n else float("nan")) for rule, (c, n) in totals.items()}
    best_manual = max(rate["recent"], rate["rfm_champions"])
    return {"campaigns_evaluated": n_campaigns, "top20_click_rate_model": rate["model"],
            "top20_click_rate_recently_engaged": rate["recent"], "top20_click_rate_rfm_champions": rate["rfm_champions"],
            "top20_click_rate_best_manual": best_manual,
            "top20_click_lift_vs_best_manual": rate["model"] / best_manual if best_manual else float("nan")}


def _scoring_seconds() -> float:
    from ml.scoring.recipes import RECIPES
    from orchestration import model_registry as registry
    from orchestration.assets.scores import _champions, score_all
    from orchestration.scoring_data import load_current
    from orchestration.settings import load_settings

    settings = load_settings()
    registry.configure(settings)
    champions = _champions(RECIPES)
    current = load_current(settings.warehouse)
    t0 = time.perf_counter()
    score_all(champions, current)
    return time.perf_counter() - t0


def scoring_quality(warehouse: Path, truth_dir: Path, time_scoring: bool = True) -> dict:
    """The figures of the module docstring. ``warehouse`` after ``mailsift run`` of ``truth_dir``'s world;
    ``time_scoring`` re-scores with the champions of the MLflow store in the environment's settings."""
    d = _load(Path(warehouse))
    truth = pd.read_parquet(Path(truth_dir) / "subscribers.parquet").merge(d["keys"], on="email", how="inner")
    frame = truth.merge(d["scores"], on="subscriber_key").merge(d["profiles"], on="subscriber_key",
                                                                suffixes=("", "_profile"))
    churned = (~frame["future_active_90d"].astype(bool)).to_numpy().astype(int)
    out = {"subscribers": len(frame),
           "churn_auc": auc(churned, frame["churn_probability"]),
           "churn_auc_baseline_days_since_engagement": auc(churned, days_since_last_engagement(frame)),
           "purchase_auc": auc(frame["future_purchase_30d"].astype(int), frame["purchase_probability_30d"]),
           "clv_spearman_vs_future_revenue": float(spearmanr(frame["predicted_clv_365d"],
                                                             frame["future_revenue"]).statistic)}
    engaged = frame["real_opens_total"].to_numpy(float) >= 5
    planted = frame["preferred_hour_local"].to_numpy(float)
    global_hour = int(np.argmax(d["profiles"][list(HOUR_COLUMNS)].mul(
        d["profiles"]["engagement_events_total"], axis=0).sum().to_numpy()))
    out.update({
        "best_hour_people_5plus_opens": int(engaged.sum()),
        "best_hour_within_1h": float((circular_hour_distance(frame["best_send_hour_local"], planted)[engaged] <= 1).mean()),
        "best_hour_within_1h_one_hour_for_all": float((circular_hour_distance(global_hour, planted)[engaged] <= 1).mean()),
    })
    out.update(_campaign_lift(d, Path(truth_dir)))
    if time_scoring:
        out["scoring_seconds"] = _scoring_seconds()
    return out
