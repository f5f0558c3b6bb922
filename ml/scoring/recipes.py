"""Training recipes of the served scoring models: fit at a cut-off, backtest on what happened after it.

One :class:`Recipe` per registered model (``churn``, ``purchase``, ``open``, ``clv``, ``send_time``,
``fatigue``, ``affinity``, ``topic-ranker``, ``offer-ranker``): ``fit(data)`` returns a fitted model
and ``evaluate(model, data)`` a :class:`Backtest` -- metrics of the model and of its baseline on the
held-out subscribers, and the row-level predictions versus actual outcomes. Because ``evaluate`` takes
any fitted model, the current champion is scored on exactly the same backtest as the new version, which
is what the ``champion`` gate compares (:func:`ml.scoring.gates.no_worse`).

:class:`TrainingData` holds the frames, all as of the training cut-off (features) or after it
(outcomes): profiles and send aggregates built by dbt as of ``cutoff``, labels for
``(cutoff, cutoff + horizon]``, purchases up to ``cutoff``, and the sends after ``cutoff`` with their
open/click outcome, aggregated to the grain the send-level models predict at (subscriber x cadence for
fatigue, subscriber x topic x offer type for content affinity). No frame has a row per send. The held-out subscribers are a fixed share chosen by a
hash of ``subscriber_key`` (:func:`holdout_mask`): the same people in every run, so a champion and a
challenger trained on the other subscribers are never evaluated on rows they were trained on.
Pure pandas / scikit-learn; no Dagster, no DuckDB.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from .affinity import OVERALL, ContentAffinityModel, campaign_click_probability, combine_affinities
from .campaign_ranker import CampaignClickRanker, ContentEvidence, content_evidence, value_counts
from .churn import ChurnModel, RecencyBaseline
from .fatigue import FatigueModel
from .gates import Backtest
from .metrics import auc, brier, calibration_error, expand_counts, top_decile_lift
from .open_propensity import OpenPropensityModel
from .purchase import PurchasePropensityModel, RecencyFrequencyBaseline
from .send_time import GlobalBestHourBaseline, SendTimeModel, hour_hit_rate
from .value_model import CustomerValueModel

__all__ = ["TrainingData", "Recipe", "RECIPES", "OPTIONAL", "holdout_mask", "SEGMENT_COL",
           "holdout_campaign_probabilities"]

HOLDOUT_SHARE = 0.3
SEGMENT_COL = "lifecycle_stage"  # the segment every shrinkage model pools within (in both builds)


def holdout_mask(keys, share: float = HOLDOUT_SHARE) -> np.ndarray:
    """True for the held-out subscribers: a stable hash of the key below ``share`` of its range."""
    keys = np.asarray(keys, dtype=object)
    h = np.fromiter((int(hashlib.blake2b(str(k).encode(), digest_size=8).hexdigest(), 16) for k in keys),
                    dtype=np.float64, count=len(keys))
    return h / 2.0 ** 64 < share


@dataclass
class TrainingData:
    cutoff: pd.Timestamp
    horizon_days: int
    profiles: pd.DataFrame  # subscriber_profiles as of cutoff
    outcomes: pd.DataFrame  # labels for (cutoff, cutoff + horizon]
    orders: pd.DataFrame  # purchases up to cutoff: subscriber_key, ordered_at, total_amount
    cadence: pd.DataFrame  # subscriber_send_cadence as of cutoff: subscriber_key, sends_prev_7d, sends, opens
    content: pd.DataFrame  # subscriber_content_response as of cutoff: subscriber_key, dimension, value, sends, clicks
    later_cadence: pd.DataFrame  # sends after cutoff (7-day outcome known) per subscriber x sends_prev_7d: sends, opens
    later_content: pd.DataFrame  # the same sends per subscriber x content_topic x offer_type: sends, clicks
    # subscriber_category_interest as of cutoff: subscriber_key, category, web_events, order_lines, link_clicks
    interest: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        {"subscriber_key": pd.Series(dtype=object), "category": pd.Series(dtype=object)}))

    def __post_init__(self):
        self.holdout = holdout_mask(self.profiles["subscriber_key"])
        self.frame = self.profiles.merge(self.outcomes.drop(columns=["as_of"], errors="ignore"),
                                         on="subscriber_key", how="inner", validate="one_to_one")
        self.frame_holdout = holdout_mask(self.frame["subscriber_key"])
        held = set(self.profiles.loc[self.holdout, "subscriber_key"])
        segments = self.profiles.set_index("subscriber_key")[SEGMENT_COL]

        def with_segment(frame):
            return frame.assign(**{SEGMENT_COL: frame["subscriber_key"].map(segments)})

        self.cadence, self.content = with_segment(self.cadence), with_segment(self.content)
        self.later_cadence_holdout, self.later_content_holdout = (
            with_segment(f.loc[f["subscriber_key"].isin(held)].reset_index(drop=True))
            for f in (self.later_cadence, self.later_content))
        self._evidence: dict[str, ContentEvidence] = {}

    def content_evidence(self, dimension: str) -> ContentEvidence:
        """The campaign click rankers' evidence of every profiled subscriber for ``dimension`` as of the
        cut-off (:func:`ml.scoring.campaign_ranker.content_evidence`), with the beta-binomial affinities of
        one :class:`ContentAffinityModel` fitted on the cut-off counts; built once per dimension."""
        if dimension not in self._evidence:
            if not hasattr(self, "_affinity"):
                self._affinity = ContentAffinityModel(segment_col=SEGMENT_COL).fit(self.content)
            model = self._affinity
            values = sorted(v for d, v in model.value_pairs() if d == dimension)
            aff, _ = model.affinity_matrix(self.profiles[["subscriber_key", SEGMENT_COL]],
                                           [(dimension, v) for v in values] + [OVERALL])
            self._evidence[dimension] = content_evidence(
                pd.Index(self.profiles["subscriber_key"]), dimension, values, aff[:, :-1], aff[:, -1],
                self.content, self.interest, self.profiles)
        return self._evidence[dimension]


@dataclass(frozen=True)
class Recipe:
    name: str  # registered as mailsift-<name>
    description: str
    fit: Callable[[TrainingData], object]
    evaluate: Callable[[object, TrainingData], Backtest]


def _classification(y, p, base) -> tuple[dict, dict]:
    def m(score):
        out = {"auc": auc(y, score), "top_decile_lift": top_decile_lift(y, score)}
        if np.nanmin(score) >= 0 and np.nanmax(score) <= 1:
            out["brier"] = brier(y, score)
            out["calibration_error"] = calibration_error(y, score)
        return out
    return {**m(p), "rows": int(len(y)), "positive_rate": float(np.mean(y))}, m(base)


def _count_classification(positives, trials, p, base) -> tuple[dict, dict]:
    """:func:`_classification` on aggregated outcomes: the same figures as one row per trial (send)."""
    y, score, w = expand_counts(p, positives, trials)
    _, base_score, _ = expand_counts(base, positives, trials)

    def m(sc):
        out = {"auc": auc(y, sc, w), "top_decile_lift": top_decile_lift(y, sc, sample_weight=w)}
        if len(sc) and np.nanmin(sc) >= 0 and np.nanmax(sc) <= 1:
            out["brier"] = brier(y, sc, w)
        return out
    n = float(np.sum(trials))
    return ({**m(score), "rows": int(n), "positive_rate": float(np.sum(positives) / n) if n else float("nan")},
            m(base_score))


# --- churn, purchase, open: calibrated classifiers on the cut-off profiles --------------------------------

def _labelled(data: TrainingData, label: str) -> pd.DataFrame:
    frame = data.frame.assign(_holdout=data.frame_holdout)
    return frame.loc[frame[label].notna()].reset_index(drop=True)


def _churn_y(frame):
    return (~frame["active_next"].astype(bool)).to_numpy().astype(int)


def _fit_classifier(cls, label, target) -> Callable[[TrainingData], object]:
    def fit(data: TrainingData):
        frame = _labelled(data, label)
        train = frame.loc[~frame["_holdout"]]
        return cls().fit(train, target(train))
    return fit


def _evaluate_classifier(label, target, baseline_score, output_name):
    def evaluate(model, data: TrainingData) -> Backtest:
        frame = _labelled(data, label)
        train, test = frame.loc[~frame["_holdout"]], frame.loc[frame["_holdout"]].reset_index(drop=True)
        y = target(test)
        p = model.predict_proba(test)[:, 1]
        base = baseline_score(train, target(train), test)
        metrics, base_metrics = _classification(y, p, base)
        if "is_mailable" in test.columns:  # churn: unsubscribed people cannot open; judge on the mailable too
            mailable = test["is_mailable"].astype(bool).to_numpy()
            metrics["auc_mailable"] = auc(y[mailable], p[mailable])
            base_metrics["auc_mailable"] = auc(y[mailable], base[mailable])
        rows = pd.DataFrame({"subscriber_key": test["subscriber_key"], "predicted": p, "baseline": base,
                             "actual": y, "target": output_name})
        return Backtest("auc", metrics, base_metrics, rows)
    return evaluate


def _recency_baseline(train, y, test):
    return RecencyBaseline().fit(train, y).predict_proba(test)[:, 1]


def _rf_baseline(train, y, test):
    return RecencyFrequencyBaseline().fit(train, y).predict_proba(test)[:, 1]


def _open_rate_baseline(train, y, test):
    return pd.to_numeric(test["open_rate_smoothed"], errors="coerce").fillna(0).to_numpy(float)


def _purchase_y(frame):
    return frame["purchased_next_purchase_window"].astype(bool).to_numpy().astype(int)


def _open_y(frame):
    return frame["opened_next_send"].astype(bool).to_numpy().astype(int)


# --- customer value (BG/NBD + Gamma-Gamma) ---------------------------------------------------------------

def _fit_value(data: TrainingData):
    return CustomerValueModel(horizon_days=data.horizon_days).fit(data.orders, data.cutoff, len(data.profiles))


def _evaluate_value(model, data: TrainingData) -> Backtest:
    test = data.frame.loc[data.frame_holdout].reset_index(drop=True)
    pred = model.predict(data.orders, data.cutoff, test["subscriber_key"]).set_index("subscriber_key")
    pred = pred.reindex(test["subscriber_key"])
    actual = test["orders_next"].to_numpy(float)
    expected = pred["expected_orders_90d"].to_numpy(float)
    buyers = pred["p_alive"].notna().to_numpy()
    base = pd.to_numeric(test["orders_90d"], errors="coerce").fillna(0).to_numpy(float)  # "last 90 days repeat"

    def m(score, mask):
        rho = spearmanr(score[mask], actual[mask]).statistic if mask.sum() > 2 else np.nan
        return {"spearman_orders": float(rho), "mae_orders": float(np.mean(np.abs(score[mask] - actual[mask])))}
    metrics = {**m(expected, buyers), "rows": int(buyers.sum()),
               "predicted_orders_total": float(expected.sum()), "actual_orders_total": float(actual.sum()),
               "spearman_revenue_all": float(spearmanr(pred["predicted_clv_365d"].to_numpy(float),
                                                       test["revenue_next"].to_numpy(float)).statistic)}
    rows = pd.DataFrame({"subscriber_key": test["subscriber_key"], "predicted": expected, "baseline": base,
                         "actual": actual, "target": "orders_next_90d",
                         "predicted_clv_365d": pred["predicted_clv_365d"].to_numpy(float),
                         "actual_revenue": test["revenue_next"].to_numpy(float)})
    return Backtest("spearman_orders", metrics, m(base, buyers), rows)


# --- send time ------------------------------------------------------------------------------------------

def _fit_send_time(data: TrainingData):
    return SendTimeModel(segment_col=SEGMENT_COL).fit(data.profiles)


def _evaluate_send_time(model, data: TrainingData) -> Backtest:
    test = data.frame.loc[data.frame_holdout & data.frame["modal_engagement_hour_next"].notna().to_numpy()]
    test = test.reset_index(drop=True)
    pred = model.predict(test)["best_send_hour_local"].to_numpy()
    base = GlobalBestHourBaseline().fit(data.profiles).predict(test)["best_send_hour_local"].to_numpy()
    actual = test["modal_engagement_hour_next"].to_numpy(float)
    rows = pd.DataFrame({"subscriber_key": test["subscriber_key"], "predicted": pred, "baseline": base,
                         "actual": actual, "target": "modal_engagement_hour_next"})
    return Backtest("hit_rate_1h", {"hit_rate_1h": hour_hit_rate(pred, actual), "rows": len(test)},
                    {"hit_rate_1h": hour_hit_rate(base, actual)}, rows)


# --- fatigue and content affinity: send-level models on aggregated sends -------------------------------

def _fit_fatigue(data: TrainingData):
    return FatigueModel(segment_col=SEGMENT_COL).fit(data.cadence)


def _count_rows(s: pd.DataFrame, keys, positives: str, predicted, baseline, target) -> pd.DataFrame:
    """Backtest rows at the aggregate's grain: the sends, the observed share (``actual``) and the predictions."""
    sends = s["sends"].to_numpy(float)
    return pd.DataFrame({**{k: s[k].to_numpy() for k in keys}, "sends": s["sends"].to_numpy(np.int64),
                         "positives": s[positives].to_numpy(np.int64), "predicted": predicted,
                         "baseline": baseline, "actual": s[positives].to_numpy(float) / sends, "target": target})


def _evaluate_fatigue(model, data: TrainingData) -> Backtest:
    s = data.later_cadence_holdout
    p = model.open_probability(s, s["sends_prev_7d"].to_numpy(float))
    base = model.open_probability(s, np.ones(len(s)))  # the same people, frequency ignored
    metrics, base_metrics = _count_classification(s["opens"].to_numpy(float), s["sends"].to_numpy(float), p, base)
    rows = _count_rows(s, ("subscriber_key", "sends_prev_7d"), "opens", p, base, "opened_within_7d")
    return Backtest("auc", metrics, base_metrics, rows)


def _fit_affinity(data: TrainingData):
    return ContentAffinityModel(segment_col=SEGMENT_COL).fit(data.content)


def _evaluate_affinity(model, data: TrainingData) -> Backtest:
    s = data.later_content_holdout
    p = np.empty(len(s))
    for (topic, offer), idx in s.groupby(["content_topic", "offer_type"], dropna=False).groups.items():
        pos = s.index.get_indexer(idx)
        p[pos] = campaign_click_probability(model, s.iloc[pos], None if pd.isna(topic) else topic,
                                            None if pd.isna(offer) else offer)
    base = campaign_click_probability(model, s)  # each person's overall click rate: no content targeting
    metrics, base_metrics = _count_classification(s["clicks"].to_numpy(float), s["sends"].to_numpy(float), p, base)
    rows = _count_rows(s, ("subscriber_key", "content_topic", "offer_type"), "clicks", p, base, "clicked_within_7d")
    return Backtest("auc", metrics, base_metrics, rows)


# --- campaign click rankers: a booster over each person's content evidence, on the sends after the cut-off ---

def _later_by_value(data: TrainingData, dimension: str, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(sends, clicks) of ``frame``'s later sends per profiled subscriber x value: ``n x V`` each."""
    ev = data.content_evidence(dimension)
    long = (frame.groupby(["subscriber_key", dimension], as_index=False)[["sends", "clicks"]].sum()
            .rename(columns={dimension: "value"}).assign(dimension=dimension))
    (sends, clicks), _ = value_counts(long, "subscriber_key", pd.Index(data.profiles["subscriber_key"]),
                                      dimension, ev.values, columns=("sends", "clicks"))
    return sends, clicks


def _fit_ranker(dimension: str) -> Callable[[TrainingData], object]:
    def fit(data: TrainingData):
        held = set(data.profiles.loc[data.holdout, "subscriber_key"])
        train = data.later_content.loc[~data.later_content["subscriber_key"].isin(held)]
        sends, clicks = _later_by_value(data, dimension, train)
        return CampaignClickRanker().fit(data.content_evidence(dimension), clicks, sends)
    return fit


def holdout_campaign_probabilities(data: TrainingData, rankers: dict) -> tuple[np.ndarray, np.ndarray,
                                                                               np.ndarray, pd.DataFrame]:
    """``(p_topic, p_offer, p_overall, sends)`` for the held-out later sends (``later_content_holdout``, one
    row per subscriber x topic x offer with ``sends`` and ``clicks``; only profiled subscribers, in the order
    of ``sends``): the click probabilities as serving gives them for the cut-off evidence -- a dimension's
    campaign click ranker (``rankers``: ``{dimension: fitted CampaignClickRanker}``) where there is one, else
    the beta-binomial affinity; a value unknown at the cut-off gets the person's overall click probability.
    The held-out subscribers are never in a ranker's training rows."""
    s = data.later_content_holdout
    people = pd.Index(data.profiles["subscriber_key"])
    pos = people.get_indexer(s["subscriber_key"])
    sel = np.unique(pos[pos >= 0])
    s, pos = s.loc[pos >= 0].reset_index(drop=True), np.searchsorted(sel, pos[pos >= 0])
    columns, base = {}, np.empty(0)
    for dimension in ("content_topic", "offer_type"):
        ev = data.content_evidence(dimension).take(sel)
        j = pd.Index(ev.values).get_indexer(s[dimension].astype(object).where(s[dimension].notna(), None))
        base = ev.p_overall[pos]
        ranker = rankers.get(dimension)
        matrix = ranker.predict_proba(ev) if ranker is not None else ev.p_value
        # the row's value, the overall affinity for a value unknown at the cut-off
        columns[dimension] = np.where(j >= 0, matrix[pos, np.maximum(j, 0)], base) if matrix.shape[1] else base
    return columns["content_topic"], columns["offer_type"], base, s


def _evaluate_ranker(model, data: TrainingData) -> Backtest:
    """Held-out later sends (subscriber x topic x offer): the campaign click probability with the ranker's
    values for its dimension vs the beta-binomial affinities alone (the ``affinity`` model's ranking)."""
    t_rank, o_rank, base, s = holdout_campaign_probabilities(data, {model.dimension_: model})
    t_eb, o_eb, _, _ = holdout_campaign_probabilities(data, {})
    p, b = combine_affinities(t_rank, o_rank, base), combine_affinities(t_eb, o_eb, base)
    metrics, base_metrics = _count_classification(s["clicks"].to_numpy(float), s["sends"].to_numpy(float), p, b)
    rows = _count_rows(s, ("subscriber_key", "content_topic", "offer_type"), "clicks", p, b, "clicked_within_7d")
    return Backtest("auc", metrics, base_metrics, rows)


RECIPES: dict[str, Recipe] = {r.name: r for r in (
    Recipe("churn", "Calibrated probability of no real open, click or order in the next 90 days.",
           _fit_classifier(ChurnModel, "active_next", _churn_y),
           _evaluate_classifier("active_next", _churn_y, _recency_baseline, "churned_90d")),
    Recipe("purchase", "Calibrated probability of an order in the next 30 days.",
           _fit_classifier(PurchasePropensityModel, "purchased_next_purchase_window", _purchase_y),
           _evaluate_classifier("purchased_next_purchase_window", _purchase_y, _rf_baseline, "purchased_30d")),
    Recipe("open", "Calibrated probability of a real open of the next send.",
           _fit_classifier(OpenPropensityModel, "opened_next_send", _open_y),
           _evaluate_classifier("opened_next_send", _open_y, _open_rate_baseline, "opened_next_send")),
    Recipe("clv", "BG/NBD + Gamma-Gamma: p_alive, expected 90-day orders, discounted 365-day CLV.",
           _fit_value, _evaluate_value),
    Recipe("send-time", "Best local send hour and weekday, shrunk to the lifecycle stage and the list.",
           _fit_send_time, _evaluate_send_time),
    Recipe("fatigue", "Open probability versus weekly cadence per subscriber: fatigue score, max e-mails a week.",
           _fit_fatigue, _evaluate_fatigue),
    Recipe("affinity", "Click probability per subscriber x content topic / offer type (beta-binomial).",
           _fit_affinity, _evaluate_affinity),
    Recipe("topic-ranker", "Click probability per subscriber x content topic: a booster over the beta-binomial "
                           "affinity, opens by topic, product-category interest and recency.",
           _fit_ranker("content_topic"), _evaluate_ranker),
    Recipe("offer-ranker", "Click probability per subscriber x offer type: a booster over the beta-binomial "
                           "affinity, opens by offer, product-category interest, recency and discount response.",
           _fit_ranker("offer_type"), _evaluate_ranker),
)}
# the rankers refine the affinity model's values; scoring without their champions keeps the affinities
OPTIONAL = ("topic-ranker", "offer-ranker")
