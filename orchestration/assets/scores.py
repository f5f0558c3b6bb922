"""Score every subscriber with the champion of each scoring model; write ml.subscriber_scores/affinities.

Churn, purchase and open propensity, customer value (BG/NBD + Gamma-Gamma), send time and the
campaign click rankers (topic, offer type) are the
champions applied to today's profiles and purchases (their population parameters from the training
cut-off, each person's evidence as of today). Fatigue and content affinity keep each person's
evidence *inside* the fitted model (per-person slopes and click counts), so the champion's recipe --
its exact hyper-parameters -- is refitted on today's send aggregates (``marts.subscriber_send_cadence``,
``marts.subscriber_content_response``: a posterior update with the champion's priors), else a person's
last 90 days would be ignored. The rankers then replace the refitted affinities of their dimension
with their click probabilities (:func:`_rank_content`). ``model_version`` names the
champion version of every model used, e.g. ``churn=3;purchase=3;open=2;...``.
"""


import time
from datetime import datetime, timezone

import dagster as dg
import numpy as np
import pandas as pd
from sklearn.base import clone

from ml.scoring.affinity import OVERALL, long_table
from ml.scoring.campaign_ranker import content_evidence
from ml.scoring.recipes import OPTIONAL, RECIPES, SEGMENT_COL
from orchestration import model_registry as registry
from orchestration.assets.ingestion import WAREHOUSE_POOL
from orchestration.assets.scoring_models import MODEL_BACKTESTS, registered_name
# today's profiles and send aggregates: score only after they are rebuilt (the refresh job has no training step)
from orchestration.assets.scoring_training import PROFILES, SEND_AGGREGATES
from orchestration.resources import WarehouseResource
from orchestration.scoring_data import load_current
from orchestration.serving import ML_SCHEMA, replace_table

SCORES = dg.AssetKey(["ml", "subscriber_scores"])
AFFINITIES = dg.AssetKey(["ml", "subscriber_affinities"])


def _champions(names) -> dict:
    """The champion of every model; the optional ones (the campaign click rankers) only when they have
    one, so a warehouse trained before they existed still scores (with the affinities alone)."""
    out, missing = {}, []
    for n in names:
        champ = registry.champion(registered_name(n))
        if champ is None and n not in OPTIONAL:
            missing.append(registered_name(n))
        if champ is not None:
            out[n] = champ
    if missing:
        raise dg.Failure("No champion yet for " + ", ".join(missing) + ": the first trained version was not "
                         "promoted (see the scoring_models step and its MLflow runs); nothing is scored.")
    return out


def score_all(champions: dict, current: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(scores, affinities) for every profiled subscriber, from the champions and today's data
    (:func:`orchestration.scoring_data.load_current`: the aggregates keyed by ``subscriber_row``).

    The refitted per-person models (fatigue, affinity) see each person as their profile row and their
    lifecycle stage as an integer code: the same groups as the strings, at a fraction of the cost of
    hashing millions of string keys; the keys go back to strings only in the two output tables."""
    profiles = current["profiles"]
    orders, cadence, content = (current[name].rename(columns={"subscriber_row": "subscriber_key"})
                                for name in ("orders", "cadence", "content"))
    keys = profiles["subscriber_key"]
    rows = np.arange(len(profiles), dtype=np.int64)
    segment_code = pd.factorize(profiles[SEGMENT_COL])[0]  # -1 (no stage) is a group of its own, as None was
    cadence_col = champions["fatigue"].model.cadence_col
    people = pd.DataFrame({"subscriber_key": rows, SEGMENT_COL: segment_code,
                           cadence_col: profiles[cadence_col].to_numpy()})
    for frame in (cadence, content):
        frame[SEGMENT_COL] = segment_code[frame["subscriber_key"].to_numpy()]
    as_of = pd.Timestamp(profiles["as_of"].max())
    scores = pd.DataFrame({"subscriber_key": keys})
    scores["churn_probability"] = champions["churn"].model.predict_proba(profiles)[:, 1]
    purchase = champions["purchase"].model.predict_proba(profiles)[:, 1]
    # non-buyers share the list's first-purchase rate in proportion to their purchase propensity; the
    # buyers' forecasts are rescaled by it over the BG/NBD's own 30-day purchase probability
    value = champions["clv"].model.predict(orders, as_of, rows, first_purchase_weight=purchase,
                                           purchase_probability_30d=purchase)
    value = value.set_index("subscriber_key").reindex(rows)
    for col in value.columns:
        scores[col] = value[col].to_numpy(float)
    scores["purchase_probability_30d"] = purchase
    scores["open_probability_next_send"] = champions["open"].model.predict_proba(profiles)[:, 1]
    send = champions["send-time"].model.predict(profiles)
    for col in ("best_send_hour_local", "best_send_dow", "send_time_confidence"):
        scores[col] = send[col].to_numpy()
    # without today's sends the champions keep their own (string-keyed) people: ask them with the profiles
    fatigue_model = clone(champions["fatigue"].model).fit(cadence) if len(cadence) else champions["fatigue"].model
    fatigue = fatigue_model.predict(people if len(cadence) else profiles)
    scores["fatigue_score"] = fatigue["fatigue_score"].to_numpy(float)
    scores["recommended_max_emails_per_week"] = fatigue["recommended_max_emails_per_week"].to_numpy()
    affinity_model = (clone(champions["affinity"].model).fit(content) if len(content)
                      else champions["affinity"].model)
    candidates = (people if len(content) else profiles)[["subscriber_key", SEGMENT_COL]]
    pairs = affinity_model.value_pairs()  # sorted by dimension, then value
    aff, evidence = affinity_model.affinity_matrix(candidates, [*pairs, OVERALL])  # one pass for every column
    _rank_content(champions, aff, pairs, candidates["subscriber_key"], content, current.get("interest"), profiles)
    affinities = long_table(keys, pairs, aff[:, :-1], evidence[:, :-1])
    scores["click_probability_overall"] = aff[:, -1]
    topics = [j for j, (dimension, _) in enumerate(pairs) if dimension == "content_topic"]
    if topics:  # the highest affinity; a tie goes to the first topic in alphabetical order
        best = aff[:, topics].argmax(axis=1)
        scores["top_content_affinity"] = np.array([pairs[j][1] for j in topics], dtype=object)[best]
    else:
        scores["top_content_affinity"] = None
    scores["model_version"] = ";".join(f"{n}={champions[n].version}" for n in RECIPES if n in champions)
    scores["scored_at"] = datetime.now(timezone.utc).replace(tzinfo=None)
    scores["as_of"] = as_of.to_pydatetime()
    return scores, affinities


def _rank_content(champions, aff, pairs, people, content, interest, profiles) -> None:
    """Replace the affinity columns of each dimension that has a campaign click ranker champion by the
    ranker's click probabilities (in place; the ``OVERALL`` column and the evidence sends stay).
    ``people`` are the rows' keys as ``content`` and ``interest`` name them."""
    interest = interest.rename(columns={"subscriber_row": "subscriber_key"}) if interest is not None else \
        pd.DataFrame({"subscriber_key": pd.Series(dtype=object), "category": pd.Series(dtype=object)})
    if not len(content):  # without today's sends the people are named by their string keys
        interest = interest.assign(subscriber_key=profiles["subscriber_key"].to_numpy()[
            interest["subscriber_key"].to_numpy(np.int64)]) if len(interest) else interest
    people = np.asarray(people)
    # today's rows are the profile rows 0..n-1: a RangeIndex finds them by arithmetic, not by hashing
    rows = people.dtype.kind in "iu" and np.array_equal(people, np.arange(len(people)))
    index = pd.RangeIndex(len(people)) if rows else pd.Index(people)
    for name in OPTIONAL:
        if name not in champions:
            continue
        ranker = champions[name].model
        cols = [j for j, (dimension, _) in enumerate(pairs) if dimension == ranker.dimension_]
        if not cols:
            continue
        ev = content_evidence(index, ranker.dimension_, [pairs[j][1] for j in cols], aff[:, cols], aff[:, -1],
                              content, interest, profiles)
        aff[:, cols] = ranker.predict_proba(ev)


@dg.multi_asset(
    specs=[dg.AssetSpec(SCORES, group_name="scoring", deps=[MODEL_BACKTESTS, PROFILES, *SEND_AGGREGATES],
                        description="One row per profiled subscriber: every champion scoring model's output."),
           dg.AssetSpec(AFFINITIES, group_name="scoring", deps=[MODEL_BACKTESTS, PROFILES, *SEND_AGGREGATES],
                        description="Subscriber x content topic / offer type: predicted click probability.")],
    check_specs=[dg.AssetCheckSpec("every_subscriber_scored", asset=SCORES),
                 dg.AssetCheckSpec("probabilities_in_range", asset=SCORES)],
    pool=WAREHOUSE_POOL, name="subscriber_scores")
def subscriber_scores(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    settings = warehouse.settings()
    registry.configure(settings)
    champions = _champions(RECIPES)
    current = load_current(settings.warehouse)
    t0 = time.perf_counter()
    scores, affinities = score_all(champions, current)
    score_s = time.perf_counter() - t0
    with warehouse.connection() as con:
        replace_table(con, ML_SCHEMA, "subscriber_scores", scores)
        replace_table(con, ML_SCHEMA, "subscriber_affinities", affinities)
    version = scores["model_version"].iloc[0] if len(scores) else ""
    context.log.info(f"Scored {len(scores):,} subscribers in {score_s:.1f} s with {version}")
    yield dg.MaterializeResult(asset_key=SCORES, metadata={"subscribers": len(scores), "model_version": version,
                                                           "score_seconds": round(score_s, 1)})
    yield dg.MaterializeResult(asset_key=AFFINITIES, metadata={"rows": len(affinities)})
    probs = scores[["churn_probability", "purchase_probability_30d", "open_probability_next_send", "fatigue_score"]]
    alive = scores["p_alive"].dropna()
    in_range = bool(((probs >= 0) & (probs <= 1)).all().all() and ((alive >= 0) & (alive <= 1)).all())
    yield dg.AssetCheckResult(asset_key=SCORES, check_name="every_subscriber_scored",
                              passed=len(scores) == len(current["profiles"]) and not probs.isna().any().any(),
                              metadata={"profiles": len(current["profiles"]), "scored": len(scores)})
    yield dg.AssetCheckResult(asset_key=SCORES, check_name="probabilities_in_range", passed=in_range)
