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
* how well the audience's click *probability* matches the clicks of the held-back campaigns (those with a
  topic and an offer; every recipient): the share clicked vs the mean predicted, raw
  (:func:`~ml.scoring.affinity.combine_affinities`) and calibrated (``ml.campaign_click_calibration``, as
  ``mailsift audience`` applies it), over the top decile and top 1 % of sends by prediction, and the
  expected calibration error over 20 equal-count bins (``click_*``);
* the held-out backtest AUC of the campaign click rankers and of the affinities alone (``ml.model_backtests``:
  the later sends of held-out subscribers after the training cut-off);
* ``scoring_seconds``: the champions re-scoring today's data (as the ``subscriber_scores`` step); then
  once more without the campaign click rankers, whose affinities give the same audience figure for the
  beta-binomial affinities alone (``top20_click_rate_affinities_alone``: the rankers' gain, same run);
* ceilings from the planted truth (:func:`planted_ceilings`): how far a score that *knew* each person's
  planted purchase rate, basket value and the date they go quiet would get on the same figures --
  realised purchases are Poisson draws, so even that score is far from 1; and the top-20 % click rate
  of a ranking by each recipient's planted open x click probability for the campaign
  (:func:`ml.synthetic.email_activity.planted_click_probability`, the world rebuilt from its seed); and
  the same with each person's planted *browsing* weights over the product categories in place of their
  planted topic weights: a ranking that knew every planted trait but the topic weights and read those
  off the browsing without error (``top20_click_lift_browsing_ceiling_vs_best_manual``; the click data
  hold a few sends per topic per person, so the topic weights are known little better than that).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from ml.scoring import auc, calibration_error
from ml.scoring.affinity import combine_affinities
from ml.scoring.click_calibration import CampaignClickCalibration
from ml.scoring.churn import days_since_last_engagement
from ml.scoring.send_time import HOUR_COLUMNS, circular_hour_distance
from ml.synthetic.email_activity import planted_click_probability
from ml.synthetic.personas import TOPIC_TO_CATEGORY
from ml.synthetic.world import planted_world
from orchestration.warehouse import connect

TOP_SHARE = 0.2


def _backtests(warehouse: Path) -> dict:
    """Held-out backtests of this run's candidates (the latest training): every model's primary metric
    and its naive baseline (``backtests``: model -> metric, value, baseline), and the campaign click
    rankers' AUC beside the beta-binomial affinities they are compared with (their baseline)."""
    with connect(warehouse, read_only=True) as con:
        rows = con.execute("SELECT model, metric, value, baseline_value FROM ml.model_backtests "
                           "WHERE role = 'candidate' AND is_primary "
                           "QUALIFY evaluated_at = max(evaluated_at) OVER (PARTITION BY model) "
                           "ORDER BY model").fetchall()
    out: dict = {"backtests": {}}
    for model, metric, value, baseline in rows:
        out["backtests"][model] = {"metric": metric, "value": value, "baseline": baseline}
        if model in ("mailsift-topic-ranker", "mailsift-offer-ranker"):
            name = model.removeprefix("mailsift-").replace("-", "_")
            out[f"{name}_backtest_auc"], out["affinity_backtest_auc"] = value, baseline
    return out


def _load(warehouse: Path) -> dict[str, pd.DataFrame]:
    with connect(warehouse, read_only=True) as con:
        return {
            "keys": con.execute("SELECT email, subscriber_key FROM marts.dim_subscribers").df(),
            "profiles": con.execute("SELECT * FROM marts.subscriber_profiles").df(),
            "scores": con.execute("SELECT s.*, m.click_probability_overall FROM serving.subscriber_scores s "
                                  "JOIN ml.subscriber_scores m USING (subscriber_key)").df(),
            "affinities": con.execute("SELECT subscriber_key, dimension, value, affinity "
                                      "FROM serving.subscriber_affinities").df(),
            "calibration": con.execute("SELECT mode, slope, intercept FROM ml.campaign_click_calibration "
                                       "WHERE fitted").df()
            if con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'ml' "
                           "AND table_name = 'campaign_click_calibration'").fetchone()[0] else None,
        }


def _reliability(pred: np.ndarray, calibrated: np.ndarray, clicked: np.ndarray, bins: int = 20) -> dict:
    """Predicted vs clicked over every send, its top decile and top 1 % (by prediction), and the expected
    calibration error (equal-count bins), for the raw and the calibrated click probability."""
    out = {"click_sends": int(len(pred)), "click_rate_all": float(clicked.mean()) if len(pred) else float("nan")}
    if not len(pred):
        return out
    order = np.argsort(-pred, kind="stable")
    for name, share in (("top_decile", 0.1), ("top1pct", 0.01)):
        top = order[: max(1, int(round(share * len(pred))))]
        out[f"click_{name}_clicked"] = float(clicked[top].mean())
        out[f"click_{name}_predicted_raw"] = float(pred[top].mean())
        out[f"click_{name}_predicted_calibrated"] = float(calibrated[top].mean())
    for name, p in (("raw", pred), ("calibrated", calibrated)):
        out[f"click_ece_{name}"] = calibration_error(clicked, p, n_bins=bins)
        out[f"click_mean_predicted_{name}"] = float(p.mean())
    return out


def _campaign_lift(d, truth_dir: Path, affinities_alone: pd.DataFrame | None = None) -> dict:
    """Top-20 % click rate per held-back campaign: the audience ranking vs the manual rules. Everything is
    aligned to integer positions of the scored subscribers (sorted by key, so position order breaks ties
    by subscriber_key as ``mailsift audience`` does); no per-campaign string matching. With
    ``affinities_alone`` (the beta-binomial affinities scored without the campaign click rankers) the
    same ranking from those is measured too."""
    campaigns = pd.read_parquet(truth_dir / "future_campaigns.parquet")
    events = pd.read_parquet(truth_dir / "future_email_events.parquet",
                             columns=["email", "event_type", "campaign_id"])
    events = events.merge(d["keys"], on="email", how="inner")
    scored = pd.Index(np.sort(d["scores"]["subscriber_key"].to_numpy(dtype=object)))
    events["pos"] = scored.get_indexer(events["subscriber_key"].to_numpy(dtype=object))
    events = events.loc[events["pos"] >= 0]
    sent = events.loc[events["event_type"] == "sent", ["campaign_id", "pos"]].drop_duplicates()
    clicked = events.loc[events["event_type"] == "click", ["campaign_id", "pos"]].drop_duplicates()
    sent = sent.merge(clicked.assign(clicked=True), on=["campaign_id", "pos"], how="left")
    sent["clicked"] = sent["clicked"].astype("boolean").fillna(False).astype(bool)

    def aligned(frame, col):
        out = np.full(len(scored), np.nan)
        pos = scored.get_indexer(frame["subscriber_key"].to_numpy(dtype=object))
        out[pos[pos >= 0]] = frame[col].to_numpy(float)[pos >= 0]
        return out

    p0 = aligned(d["scores"], "click_probability_overall")

    def columns(aff):
        out = {}
        for (dim, value), part in aff.groupby(["dimension", "value"], sort=False):
            col = aligned(part, "affinity")
            out[(dim, value)] = np.where(np.isfinite(col), col, p0)
        return out
    aff_cols = columns(d["affinities"])
    alone_cols = columns(affinities_alone) if affinities_alone is not None else None
    prof = d["profiles"]
    recency = aligned(prof.assign(r=days_since_last_engagement(prof)), "r")
    recent = -np.where(np.isfinite(recency), recency, 1e9)
    champs = np.zeros(len(scored))
    champs[scored.get_indexer(prof.loc[prof["rfm_segment"] == "champions", "subscriber_key"].to_numpy(object))] = 1.0
    # the ceiling reads the generator's planted traits: truth/subscribers.parquet is in the people's order
    pop, camps = planted_world(json.loads((truth_dir / "meta.json").read_text()))
    index_of = {cid: c for c, cid in enumerate(camps.campaign_id)}
    people = pd.read_parquet(truth_dir / "subscribers.parquet", columns=["email"]).reset_index(names="person")
    people = people.merge(d["keys"], on="email", how="inner").drop_duplicates("subscriber_key")
    person_at = np.full(len(scored), -1)
    at = scored.get_indexer(people["subscriber_key"].to_numpy(dtype=object))
    person_at[at[at >= 0]] = people["person"].to_numpy()[at >= 0]

    browsing = pop.cat_w[:, list(TOPIC_TO_CATEGORY)]  # topic i's category weight in column i

    def planted(c, pos, topic_weights=None):
        person, value = person_at[pos], np.full(len(pos), -1.0)
        value[person >= 0] = planted_click_probability(pop, camps, index_of[c.campaign_id], person[person >= 0],
                                                       topic_weights)
        return value

    rules = {  # each: (campaign, recipients' positions) -> ranking score, higher first
        "model": lambda c, pos: combine_affinities(aff_cols.get(("content_topic", c.content_topic), p0)[pos],
                                                   aff_cols.get(("offer_type", c.offer_type), p0)[pos], p0[pos]),
        "recent": lambda c, pos: recent[pos],
        "rfm_champions": lambda c, pos, champs_first=champs * 1e6 + recent: champs_first[pos],
        "planted": planted,
        "planted_browsing": lambda c, pos: planted(c, pos, browsing),
    }
    if alone_cols is not None:
        rules["affinities_alone"] = lambda c, pos: combine_affinities(
            alone_cols.get(("content_topic", c.content_topic), p0)[pos],
            alone_cols.get(("offer_type", c.offer_type), p0)[pos], p0[pos])
    totals = {rule: [0, 0] for rule in rules}
    n_campaigns = 0
    cal_table = d.get("calibration")
    calibration = (CampaignClickCalibration.from_parameters(dict(zip(cal_table["mode"], cal_table["slope"])),
                                                            dict(zip(cal_table["mode"], cal_table["intercept"])))
                   if cal_table is not None and len(cal_table) else None)
    raw_p, cal_p, hits = [], [], []  # every recipient of a campaign with a topic and an offer
    groups = sent.groupby("campaign_id", sort=False).indices
    for c in campaigns.itertuples(index=False):
        rows = groups.get(c.campaign_id)
        if rows is None or len(rows) < 10:
            continue
        n_campaigns += 1
        pos, hit = sent["pos"].to_numpy()[rows], sent["clicked"].to_numpy()[rows]
        k = max(1, int(np.ceil(TOP_SHARE * len(pos))))
        if pd.notna(c.content_topic) and pd.notna(c.offer_type):
            pt, po = (aff_cols.get((dim, value), p0)[pos] for dim, value in
                      (("content_topic", c.content_topic), ("offer_type", c.offer_type)))
            raw_p.append(combine_affinities(pt, po, p0[pos]))
            cal_p.append(calibration.predict_proba("topic+offer", pt, po, p0[pos]) if calibration else raw_p[-1])
            hits.append(hit.astype(float))
        for rule, score in rules.items():
            value = score(c, pos)
            top = np.lexsort((pos, -value))[:k]  # best first; ties by subscriber_key
            totals[rule][0] += int(hit[top].sum())
            totals[rule][1] += k
    rate = {rule: (c / n if n else float("nan")) for rule, (c, n) in totals.items()}
    best_manual = max(rate["recent"], rate["rfm_champions"])
    joined = [np.concatenate(a) if a else np.empty(0) for a in (raw_p, cal_p, hits)]
    return {**_reliability(*joined), "click_calibrated": calibration is not None,
            "campaigns_evaluated": n_campaigns, "top20_click_rate_model": rate["model"],
            "top20_click_rate_recently_engaged": rate["recent"], "top20_click_rate_rfm_champions": rate["rfm_champions"],
            "top20_click_rate_best_manual": best_manual,
            "top20_click_lift_vs_best_manual": rate["model"] / best_manual if best_manual else float("nan"),
            **({"top20_click_rate_affinities_alone": rate["affinities_alone"],
                "top20_click_lift_affinities_alone_vs_best_manual": rate["affinities_alone"] / best_manual
                if best_manual else float("nan")} if "affinities_alone" in rate else {}),
            "top20_click_rate_planted_ceiling": rate["planted"],
            "top20_click_lift_ceiling_vs_best_manual": rate["planted"] / best_manual if best_manual else float("nan"),
            "top20_click_rate_planted_browsing": rate["planted_browsing"],
            "top20_click_lift_browsing_ceiling_vs_best_manual":
                rate["planted_browsing"] / best_manual if best_manual else float("nan")}


def planted_ceilings(truth: pd.DataFrame, truth_dir: Path) -> dict:
    """Purchase AUC and revenue Spearman of the planted expectation (not a model: it reads the truth).

    Expected orders in a window = planted ``purchase_rate_per_year`` / 365 x days still active in it
    (``churned_at`` ends activity); revenue x planted ``avg_order_value``. Seasonality and campaign-driven
    orders are left out, so the true ceiling is somewhat higher.
    """
    meta = json.loads((Path(truth_dir) / "meta.json").read_text())
    as_of = pd.Timestamp(meta["as_of"])
    quiet = pd.to_datetime(truth["churned_at"], utc=True)

    def active_days(days):
        end = as_of + pd.Timedelta(days=days)
        last = quiet.fillna(end).clip(upper=end)
        return np.clip((last - as_of).dt.total_seconds().to_numpy(float) / 86400.0, 0.0, days)

    rate = truth["purchase_rate_per_year"].to_numpy(float) / 365.0
    p30 = 1.0 - np.exp(-rate * active_days(30))
    revenue = rate * active_days(int(meta["holdout_days"])) * truth["avg_order_value"].to_numpy(float)
    return {"purchase_auc_ceiling_planted": auc(truth["future_purchase_30d"].astype(int), p30),
            "clv_spearman_ceiling_planted": float(spearmanr(revenue, truth["future_revenue"]).statistic)}


def _rescore() -> tuple[float, pd.DataFrame | None]:
    """Seconds the champions take to score everyone (as the ``subscriber_scores`` step), and the
    affinities scored again without the campaign click rankers (None when there are none)."""
    from ml.scoring.recipes import OPTIONAL, RECIPES
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
    seconds = time.perf_counter() - t0
    if not any(name in champions for name in OPTIONAL):
        return seconds, None
    without = {name: champ for name, champ in champions.items() if name not in OPTIONAL}
    return seconds, score_all(without, current)[1]


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
    out.update(planted_ceilings(frame, Path(truth_dir)))
    alone = None
    if time_scoring:
        out["scoring_seconds"], alone = _rescore()
    out.update(_campaign_lift(d, Path(truth_dir), alone))
    out.update(_backtests(Path(warehouse)))
    return out
