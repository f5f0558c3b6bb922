"""AI segments vs rule-based segments as audiences for the held-back campaigns (``<landing>/truth/``).

For every held-back broadcast (``truth/future_campaigns.parquet``, ``is_automated`` false) with at
least ``min_recipients`` recipients among the profiled subscribers, two audiences of the SAME size
``k = ceil(audience_share * recipients)`` are picked among its actual recipients (the only people whose
response is known):

* **AI segments**: the champion segmentation's segments (``ml.segment_assignments``, level
  ``ai_level``) ordered by their historical response to the campaign's topic and offer, members of the
  best segment first, then the next, until ``k``;
* **rule segments**: the same from the lifecycle stages (``marts.subscriber_lifecycle``) and the RFM
  segments (``marts.subscriber_rfm``): each person counts with the better of their two rule segments.

A segment's historical response to a (topic, offer) campaign is
``combine_affinities(rate_topic, rate_offer, rate_overall)`` (log-odds, as the audience ranking), where
the rates are shrunk click rates of the segment's members' campaign history
(``marts.subscriber_affinity_features``) from the same estimator for both families
(:class:`ml.segmentation.SegmentResponse`, method-of-moments prior). Within a segment people are taken
in ``subscriber_key`` order (a salted hash: arbitrary, unrelated to behaviour).

Outcomes, from ``truth/future_email_events`` and ``truth/future_orders``: click rate = audience members
who clicked the campaign / k; conversion rate = members who placed a not-cancelled order within
``attribution_days`` after their first click on it / k. Rates are pooled over campaigns (weighted by k).
The rate of all recipients is given as the untargeted reference.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ml.scoring.affinity import combine_affinities
from ml.segmentation import SegmentResponse
from orchestration.warehouse import connect

DIMENSIONS = ("content_topic", "offer_type")
PICKERS = ("ai_segments", "rule_segments", "all_recipients")


def _load(warehouse: Path, ai_level: str) -> dict[str, pd.DataFrame]:
    if ai_level not in ("macro", "micro"):
        raise ValueError("ai_level must be 'macro' or 'micro'")
    col = f"{ai_level}_segment_id"
    with connect(Path(warehouse), read_only=True) as con:
        return {
            "keys": con.execute("SELECT email, subscriber_key FROM marts.dim_subscribers").df(),
            "people": con.execute(f"""
                SELECT a.subscriber_key, a.{col} AS ai_segment, 'lifecycle:' || l.lifecycle_stage AS lifecycle,
                       'rfm:' || r.rfm_segment AS rfm
                FROM ml.segment_assignments a
                JOIN marts.subscriber_lifecycle l USING (subscriber_key)
                JOIN marts.subscriber_rfm r USING (subscriber_key)""").df(),
            "history": con.execute("SELECT subscriber_key, dimension, value, sends, clicks "
                                   "FROM marts.subscriber_affinity_features WHERE dimension IN (?, ?) AND sends > 0",
                                   list(DIMENSIONS)).df(),
        }


def segment_rates(history: pd.DataFrame, membership: pd.DataFrame, segment_col: str) -> dict:
    """Per dimension: shrunk click rate per (segment, value); and each segment's overall raw click rate."""
    h = history.merge(membership[["subscriber_key", segment_col]], on="subscriber_key", how="inner")
    rates = {}
    for dim in DIMENSIONS:
        d = h[h["dimension"] == dim]
        if d.empty:
            rates[dim] = {}
            continue
        fitted = SegmentResponse(item_col="value", segment_col=segment_col).fit(d).rates_
        rates[dim] = {(s, v): r for s, v, r in zip(fitted["segment_id"], fitted["item"], fitted["rate"])}
    topic = h[h["dimension"] == "content_topic"].groupby(segment_col)[["sends", "clicks"]].sum()
    overall = (topic["clicks"] / topic["sends"].where(topic["sends"] > 0)).fillna(0.0)
    return {"value": rates, "overall": overall.to_dict()}


def segment_scores(rates: dict, topic: str, offer: str) -> dict[str, float]:
    """Each segment's historical click response to a (topic, offer) campaign (see the module docstring)."""
    out = {}
    for seg, base in rates["overall"].items():
        p_t = rates["value"]["content_topic"].get((seg, topic), base)
        p_o = rates["value"]["offer_type"].get((seg, offer), base)
        out[seg] = float(combine_affinities(p_t, p_o, base)) if base > 0 else 0.0
    return out


def _pick(positions: np.ndarray, score: np.ndarray, k: int) -> np.ndarray:
    """Indices of the top ``k`` by score (segment order), ties in subscriber_key order (``positions`` are
    the recipients' places in the key-sorted people)."""
    order = np.lexsort((positions, -score))
    return order[:k]


def segments_vs_rules(warehouse: Path, truth_dir: Path, audience_share: float = 0.2, ai_level: str = "micro",
                      attribution_days: int = 7, min_recipients: int = 50) -> dict:
    """Figures comparing equal-size audiences from AI vs rule segments on held-back campaigns.

    Returns ``{"campaigns_evaluated", "audience_size_total", "<picker>_click_rate",
    "<picker>_conversion_rate" for picker in PICKERS, "click_lift_ai_vs_rules",
    "conversion_lift_ai_vs_rules", "per_campaign": DataFrame, "markdown": str}``.
    """
    if not 0 < audience_share <= 1:
        raise ValueError("audience_share must be in (0, 1]")
    d = _load(Path(warehouse), ai_level)
    truth_dir = Path(truth_dir)
    people = d["people"]
    ai_rates = segment_rates(d["history"], people, "ai_segment")
    life_rates = segment_rates(d["history"], people, "lifecycle")
    rfm_rates = segment_rates(d["history"], people, "rfm")

    campaigns = pd.read_parquet(truth_dir / "future_campaigns.parquet")
    campaigns = campaigns[~campaigns["is_automated"].fillna(False).astype(bool)]
    events = pd.read_parquet(truth_dir / "future_email_events.parquet",
                             columns=["email", "event_type", "campaign_id", "occurred_at"])
    events = events[events["event_type"].isin(["sent", "click"])].merge(d["keys"], on="email", how="inner")
    sent = events.loc[events["event_type"] == "sent", ["subscriber_key", "campaign_id"]].drop_duplicates()
    clicks = (events[events["event_type"] == "click"].groupby(["subscriber_key", "campaign_id"])["occurred_at"]
              .min().rename("clicked_at").reset_index())
    orders = pd.read_parquet(truth_dir / "future_orders.parquet", columns=["email", "ordered_at", "status"])
    orders = orders[orders["status"].fillna("completed") != "cancelled"].merge(d["keys"], on="email")
    window = pd.Timedelta(days=attribution_days)
    conv = clicks.merge(orders[["subscriber_key", "ordered_at"]], on="subscriber_key", how="inner")
    conv = conv[(conv["ordered_at"] >= conv["clicked_at"]) & (conv["ordered_at"] <= conv["clicked_at"] + window)]
    # one row per (recipient, campaign) with its outcomes; people as integer positions (no per-campaign
    # string matching: at 1M subscribers that dominated the run)
    sent = sent.merge(clicks[["subscriber_key", "campaign_id"]].assign(clicked=True), how="left",
                      on=["subscriber_key", "campaign_id"])
    sent = sent.merge(conv[["subscriber_key", "campaign_id"]].drop_duplicates().assign(converted=True), how="left",
                      on=["subscriber_key", "campaign_id"])
    people = people.sort_values("subscriber_key", kind="stable").drop_duplicates("subscriber_key").reset_index(drop=True)
    sent["pos"] = pd.Index(people["subscriber_key"]).get_indexer(sent["subscriber_key"])
    sent = sent[sent["pos"] >= 0]
    groups = sent.groupby("campaign_id", sort=False).indices
    pos_all = sent["pos"].to_numpy()
    click_all = sent["clicked"].astype("boolean").fillna(False).to_numpy(bool)
    conv_all = sent["converted"].astype("boolean").fillna(False).to_numpy(bool)
    ai_seg, life_seg, rfm_seg = (people[col].to_numpy(dtype=object) for col in ("ai_segment", "lifecycle", "rfm"))

    rows = []
    for c in campaigns.itertuples(index=False):
        idx = groups.get(c.campaign_id)
        if idx is None or len(idx) < min_recipients:
            continue
        pos = pos_all[idx]
        k = max(1, int(np.ceil(audience_share * len(pos))))
        ai = segment_scores(ai_rates, c.content_topic, c.offer_type)
        life = segment_scores(life_rates, c.content_topic, c.offer_type)
        rfm = segment_scores(rfm_rates, c.content_topic, c.offer_type)
        ai_score = pd.Series(ai_seg[pos]).map(ai).fillna(0.0).to_numpy(float)
        rule_score = np.maximum(pd.Series(life_seg[pos]).map(life).fillna(0.0).to_numpy(float),
                                pd.Series(rfm_seg[pos]).map(rfm).fillna(0.0).to_numpy(float))
        y_click, y_conv = click_all[idx], conv_all[idx]
        picks = {"ai_segments": _pick(pos, ai_score, k), "rule_segments": _pick(pos, rule_score, k),
                 "all_recipients": np.arange(len(pos))}
        row = {"campaign_id": c.campaign_id, "content_topic": c.content_topic, "offer_type": c.offer_type,
               "recipients": len(pos), "audience_size": k}
        for name, chosen in picks.items():
            row[f"{name}_size"] = len(chosen)
            row[f"{name}_clicks"] = int(y_click[chosen].sum())
            row[f"{name}_conversions"] = int(y_conv[chosen].sum())
        rows.append(row)
    per = pd.DataFrame(rows)
    out: dict = {"campaigns_evaluated": len(per), "audience_share": audience_share, "ai_level": ai_level,
                 "attribution_days": attribution_days,
                 "audience_size_total": int(per["audience_size"].sum()) if len(per) else 0}
    for name in PICKERS:
        n = per[f"{name}_size"].sum() if len(per) else 0
        out[f"{name}_click_rate"] = float(per[f"{name}_clicks"].sum() / n) if n else float("nan")
        out[f"{name}_conversion_rate"] = float(per[f"{name}_conversions"].sum() / n) if n else float("nan")
    for metric in ("click", "conversion"):
        rules = out[f"rule_segments_{metric}_rate"]
        out[f"{metric}_lift_ai_vs_rules"] = out[f"ai_segments_{metric}_rate"] / rules if rules else float("nan")
    out["per_campaign"] = per
    out["markdown"] = markdown_table(out)
    return out


def markdown_table(figures: dict) -> str:
    labels = {"ai_segments": f"AI segments ({figures['ai_level']}), best response first",
              "rule_segments": "lifecycle / RFM segments, best response first",
              "all_recipients": "all recipients (untargeted reference)"}
    lines = [f"Held-back broadcasts: {figures['campaigns_evaluated']}; audience = top "
             f"{figures['audience_share']:.0%} of each campaign's recipients ({figures['audience_size_total']:,} "
             f"picks per method); conversion = order within {figures['attribution_days']} days of a click.", "",
             "| audience | click rate | conversion rate |", "|---|---:|---:|"]
    for name in PICKERS:
        lines.append(f"| {labels[name]} | {figures[f'{name}_click_rate']:.2%} | "
                     f"{figures[f'{name}_conversion_rate']:.2%} |")
    lines.append(f"| ratio AI / rules | {figures['click_lift_ai_vs_rules']:.2f}x | "
                 f"{figures['conversion_lift_ai_vs_rules']:.2f}x |")
    return "\n".join(lines)
