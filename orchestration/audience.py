"""`mailsift audience`: a ranked, mailable audience for a planned campaign or a segment, best first.

Reads the warehouse read-only (the e-mail address lives only in ``marts.dim_subscribers``). For a
planned campaign (``topic`` and/or ``offer``): the click probabilities for the campaign's topic and
offer in ``serving.subscriber_affinities`` (the campaign click rankers' where they have a champion, else
the champion content-affinity model's), combined on the
log-odds scale against each person's overall click rate exactly as
:func:`ml.scoring.affinity.rank_audience` does. For a segment (``segment``, a macro or micro id of
``ml.segment_assignments``): its members, ranked by the campaign's click probability when a topic or
offer is given too, else by their overall click probability. Each person's best send hour comes from
``serving.subscriber_scores``. Only mailable subscribers are ever listed: consent given and not
withdrawn (not pending, not cleaned), not unsubscribed, not hard-bounced, never complained, not paused
by a preference at as_of; erased people are gone from ``dim_subscribers``.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from ml.scoring.affinity import combine_affinities, cut_size
from ml.scoring.click_calibration import CampaignClickCalibration, campaign_mode, parse_versions
from orchestration.warehouse import connect

MAILABLE_SQL = ("dim.is_mailable AND NOT dim.is_paused AND NOT dim.is_unsubscribed AND NOT dim.is_hard_bounced "
                "AND NOT dim.has_complained AND coalesce(dim.consent_status, 'subscribed') = 'subscribed'")
_BASE_REQUIRED = (("marts", "dim_subscribers"), ("serving", "subscriber_scores"), ("ml", "subscriber_scores"))
AUDIENCE_COLUMNS = ["rank", "email", "subscriber_key", "first_name", "last_name", "predicted_click_probability",
                    "send_hour_local", "segment_id", "audience", "exported_at"]


class AudienceError(Exception):
    """A request that cannot be answered (unknown topic, offer or segment, no scored run); the message says why."""


def _known_values(con, dimension: str) -> list[str]:
    rows = con.execute("SELECT DISTINCT value FROM serving.subscriber_affinities WHERE dimension = ? ORDER BY 1",
                       [dimension]).fetchall()
    return [r[0] for r in rows]


def audience_name(topic: str | None, offer: str | None, segment: str | None) -> str:
    parts = ([f"segment={segment}"] if segment else []) + ([f"topic={topic}"] if topic else []) \
        + ([f"offer={offer}"] if offer else [])
    return ";".join(parts)


def _check(con, topic, offer, segment) -> set:
    present = set(con.execute("SELECT table_schema, table_name FROM information_schema.tables").fetchall())
    required = list(_BASE_REQUIRED)
    if topic or offer:
        required.append(("serving", "subscriber_affinities"))
    if segment:
        required.append(("ml", "segment_assignments"))
    missing = [f"{s}.{t}" for s, t in required if (s, t) not in present]
    if missing:
        raise AudienceError("the warehouse holds no scored run (missing " + ", ".join(missing)
                            + "): run `mailsift run` first.")
    for dimension, value, flag in (("content_topic", topic, "--topic"), ("offer_type", offer, "--offer")):
        if value is None:
            continue
        known = _known_values(con, dimension)
        if value not in known:
            raise AudienceError(f"unknown {dimension} {value!r} for {flag}; campaigns so far have: "
                                + (", ".join(known) or "none"))
    if segment:
        known = [r[0] for r in con.execute(
            "SELECT DISTINCT macro_segment_id FROM ml.segment_assignments UNION "
            "SELECT DISTINCT micro_segment_id FROM ml.segment_assignments ORDER BY 1").fetchall()]
        if segment not in known:
            raise AudienceError(f"unknown segment {segment!r} for --segment; the current segments are: "
                                + (", ".join(known) or "none"))
    return present


def _click_calibration(con, present: set, mode: str) -> tuple[CampaignClickCalibration | None, str]:
    """The stored campaign click calibration of ``mode`` when it was fitted for the champions that scored
    the warehouse (same affinity and ranker versions), else None; and a sentence saying which."""
    if ("ml", "campaign_click_calibration") not in present:
        return None, ("not calibrated: the models were trained before calibration existed (0.4.16); "
                      "the next `mailsift run` fits it")
    scored = con.execute("SELECT any_value(model_version) FROM ml.subscriber_scores").fetchone()[0]
    rows = con.execute("SELECT mode, slope, intercept, fitted, holdout_sends, model_versions, reason "
                       "FROM ml.campaign_click_calibration").fetchall()
    if not rows:
        return None, "not calibrated: the calibration table is empty"
    fitted_for = rows[0][5]
    if parse_versions(fitted_for) != parse_versions(scored):
        scored_with = ";".join(f"{k}={v}" for k, v in parse_versions(scored).items()) or "unknown models"
        return None, (f"not calibrated: the calibration was fitted for {fitted_for or 'no models'}, the scores "
                      f"come from {scored_with}")
    row = next((r for r in rows if r[0] == mode), None)
    if row is None or not row[3]:
        return None, f"not calibrated: {(row[6] if row is not None else None) or 'no calibration for this kind'}"
    cal = CampaignClickCalibration.from_parameters({row[0]: row[1]}, {row[0]: row[2]})
    return cal, f"calibrated on {int(row[4] or 0):,} held-out sends ({fitted_for})"


def build_audience(warehouse: Path, topic: str | None = None, offer: str | None = None,
                   size: str | int | None = None, segment: str | None = None) -> pd.DataFrame:
    """The ranked audience (columns ``AUDIENCE_COLUMNS``): mailable subscribers, best first, cut to ``size``
    (``None`` = all, N, or 'P%')."""
    if not (topic or offer or segment):
        raise AudienceError("name a planned campaign (--topic and/or --offer) or a segment (--segment).")
    if not warehouse.exists():
        raise AudienceError(f"no warehouse at {warehouse}: run `mailsift run` first (or set MAILSIFT_WAREHOUSE).")
    try:
        cut_size(size, 1)
    except ValueError as exc:
        raise AudienceError(f"--size: {exc}") from exc
    with connect(warehouse, read_only=True) as con:
        present = _check(con, topic, offer, segment)
        # bound parameters in the order of the `?` markers below: SELECT, affinity joins, WHERE
        select_params, join_params, where_params = [], [], []
        if segment:
            seg_join, seg_col = "JOIN ml.segment_assignments AS seg ON seg.subscriber_key = dim.subscriber_key", "?"
            where = " AND (seg.macro_segment_id = ? OR seg.micro_segment_id = ?)"
            select_params, where_params = [segment], [segment, segment]
        elif ("ml", "segment_assignments") in present:
            seg_join = "LEFT JOIN ml.segment_assignments AS seg ON seg.subscriber_key = dim.subscriber_key"
            seg_col, where = "seg.macro_segment_id", ""
        else:
            seg_join, seg_col, where = "", "CAST(NULL AS VARCHAR)", ""
        if topic or offer:
            affinity_join = """
            LEFT JOIN serving.subscriber_affinities AS topic ON topic.subscriber_key = dim.subscriber_key
                 AND topic.dimension = 'content_topic' AND topic.value = ?
            LEFT JOIN serving.subscriber_affinities AS offer ON offer.subscriber_key = dim.subscriber_key
                 AND offer.dimension = 'offer_type' AND offer.value = ?"""
            affinity_cols = "topic.affinity AS p_topic, offer.affinity AS p_offer"
            join_params = [topic, offer]
        else:
            affinity_join = ""
            affinity_cols = "CAST(NULL AS DOUBLE) AS p_topic, CAST(NULL AS DOUBLE) AS p_offer"
        params = select_params + join_params + where_params
        frame = con.execute(f"""
            SELECT dim.email, dim.subscriber_key, dim.first_name, dim.last_name,
                   scores.best_send_hour_local AS send_hour_local, {seg_col} AS segment_id,
                   model.click_probability_overall AS p_overall, {affinity_cols}
            FROM marts.dim_subscribers AS dim
            JOIN serving.subscriber_scores AS scores ON scores.subscriber_key = dim.subscriber_key
            JOIN ml.subscriber_scores AS model ON model.subscriber_key = dim.subscriber_key
            {affinity_join}
            {seg_join}
            WHERE {MAILABLE_SQL}{where}""", params).df()
        mode = campaign_mode(topic, offer)
        calibration, note = (_click_calibration(con, present, mode) if mode
                             else (None, "each person's overall click rate"))
    base = frame["p_overall"].to_numpy(float)
    p_topic = np.where(frame["p_topic"].notna(), frame["p_topic"].to_numpy(float), base)
    p_offer = np.where(frame["p_offer"].notna(), frame["p_offer"].to_numpy(float), base)
    frame["predicted_click_probability"] = (calibration.predict_proba(mode, p_topic, p_offer, base)
                                            if calibration is not None else combine_affinities(p_topic, p_offer, base))
    frame = frame.sort_values(["predicted_click_probability", "subscriber_key"], ascending=[False, True],
                              kind="stable")
    frame = frame.head(cut_size(size, len(frame))).reset_index(drop=True)
    frame.insert(0, "rank", np.arange(1, len(frame) + 1))
    frame["audience"] = audience_name(topic, offer, segment)
    frame["exported_at"] = datetime.now(timezone.utc).replace(tzinfo=None)
    out = frame[AUDIENCE_COLUMNS]
    out.attrs["click_probability"] = note  # how the probabilities were made, for the command's output
    return out


def write_audience(frame: pd.DataFrame, out: Path) -> None:
    """CSV (or Parquet for a .parquet name), written beside the target and renamed over it."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    if out.suffix.lower() == ".parquet":
        frame.to_parquet(tmp, index=False)
    else:
        frame.to_csv(tmp, index=False)
    os.replace(tmp, out)
