"""`mailsift audience`: a ranked, mailable audience for a planned campaign, best first.

Reads the warehouse read-only (the e-mail address lives only in ``marts.dim_subscribers``): the
champion content-affinity model's click probabilities for the campaign's topic and offer
(``serving.subscriber_affinities``), combined on the log-odds scale against each person's overall click
rate exactly as :func:`ml.scoring.affinity.rank_audience` does, and each person's best send hour
(``serving.subscriber_scores``). Only mailable subscribers are ever listed: consent given and not
withdrawn, not unsubscribed, not hard-bounced, never complained, not paused.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from ml.scoring.affinity import combine_affinities, cut_size
from orchestration.warehouse import connect

_MAILABLE = ("dim.is_mailable AND NOT dim.is_paused AND NOT dim.is_unsubscribed AND NOT dim.is_hard_bounced "
             "AND NOT dim.has_complained")
_REQUIRED = (("marts", "dim_subscribers"), ("serving", "subscriber_scores"), ("serving", "subscriber_affinities"),
             ("ml", "subscriber_scores"))


class AudienceError(Exception):
    """A request that cannot be answered (unknown topic or offer, no scored run); the message says why."""


def _known_values(con, dimension: str) -> list[str]:
    rows = con.execute("SELECT DISTINCT value FROM serving.subscriber_affinities WHERE dimension = ? ORDER BY 1",
                       [dimension]).fetchall()
    return [r[0] for r in rows]


def build_audience(warehouse: Path, topic: str, offer: str, size: str | int | None) -> pd.DataFrame:
    """The ranked audience: ``rank, email, subscriber_key, predicted_click_probability,
    send_hour_local, segment_id, audience, exported_at``."""
    if not warehouse.exists():
        raise AudienceError(f"no warehouse at {warehouse}: run `mailsift run` first (or set MAILSIFT_WAREHOUSE).")
    try:
        cut_size(size, 1)
    except ValueError as exc:
        raise AudienceError(f"--size: {exc}") from exc
    with connect(warehouse, read_only=True) as con:
        present = set(con.execute("SELECT table_schema, table_name FROM information_schema.tables").fetchall())
        missing = [f"{s}.{t}" for s, t in _REQUIRED if (s, t) not in present]
        if missing:
            raise AudienceError("the warehouse holds no scored run (missing " + ", ".join(missing)
                                + "): run `mailsift run` first.")
        for dimension, value, flag in (("content_topic", topic, "--topic"), ("offer_type", offer, "--offer")):
            known = _known_values(con, dimension)
            if value not in known:
                raise AudienceError(f"unknown {dimension} {value!r} for {flag}; campaigns so far have: "
                                    + (", ".join(known) or "none"))
        segment_join = ("LEFT JOIN serving.subscriber_segments AS seg ON seg.subscriber_key = dim.subscriber_key"
                        if ("serving", "subscriber_segments") in present else "")
        segment_col = "seg.macro_segment_id" if segment_join else "CAST(NULL AS VARCHAR)"
        frame = con.execute(f"""
            SELECT dim.email, dim.subscriber_key, scores.best_send_hour_local AS send_hour_local,
                   {segment_col} AS segment_id, model.click_probability_overall AS p_overall,
                   topic.affinity AS p_topic, offer.affinity AS p_offer
            FROM marts.dim_subscribers AS dim
            JOIN serving.subscriber_scores AS scores ON scores.subscriber_key = dim.subscriber_key
            JOIN ml.subscriber_scores AS model ON model.subscriber_key = dim.subscriber_key
            LEFT JOIN serving.subscriber_affinities AS topic ON topic.subscriber_key = dim.subscriber_key
                 AND topic.dimension = 'content_topic' AND topic.value = ?
            LEFT JOIN serving.subscriber_affinities AS offer ON offer.subscriber_key = dim.subscriber_key
                 AND offer.dimension = 'offer_type' AND offer.value = ?
            {segment_join}
            WHERE {_MAILABLE}""", [topic, offer]).df()
    base = frame["p_overall"].to_numpy(float)
    p_topic = np.where(frame["p_topic"].notna(), frame["p_topic"].to_numpy(float), base)
    p_offer = np.where(frame["p_offer"].notna(), frame["p_offer"].to_numpy(float), base)
    frame["predicted_click_probability"] = combine_affinities(p_topic, p_offer, base)
    frame = frame.sort_values(["predicted_click_probability", "subscriber_key"], ascending=[False, True],
                              kind="stable")
    frame = frame.head(cut_size(size, len(frame))).reset_index(drop=True)
    frame.insert(0, "rank", np.arange(1, len(frame) + 1))
    frame["audience"] = f"topic={topic};offer={offer}"
    frame["exported_at"] = datetime.now(timezone.utc).replace(tzinfo=None)
    return frame[["rank", "email", "subscriber_key", "predicted_click_probability", "send_hour_local",
                  "segment_id", "audience", "exported_at"]]


def write_audience(frame: pd.DataFrame, out: Path) -> None:
    """CSV (or Parquet for a .parquet name), written beside the target and renamed over it."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    if out.suffix.lower() == ".parquet":
        frame.to_parquet(tmp, index=False)
    else:
        frame.to_csv(tmp, index=False)
    os.replace(tmp, out)
