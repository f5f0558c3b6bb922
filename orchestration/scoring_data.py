"""Reading the scoring models' inputs from the warehouse (read-only; every value a bound parameter).

Two builds of the same dbt models feed them: the main build (schemas ``marts``...) as of ``as_of``, and
the training build (``marts_train``, ``labels_train``...) as of the training cut-off ``as_of - horizon``
with the labels of ``(cut-off, as_of]`` (see :mod:`orchestration.assets.scoring_training`). Send history
is read only as dbt's aggregates (``subscriber_send_cadence``, ``subscriber_content_response`` and, after
the cut-off, ``next_send_cadence_outcomes`` / ``next_send_content_outcomes``): a few rows per subscriber,
never one per send; web, order and link-click interest only as ``subscriber_category_interest``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

from ml.scoring.recipes import TrainingData
from orchestration.warehouse import connect, fetch_frame

HORIZON_DAYS = 90  # churn / CLV label horizon, and the distance of the training cut-off from as_of
TRAIN_SUFFIX = "_train"

_ORDERS = ("SELECT subscriber_key, ordered_at, total_amount FROM {schema}.fct_orders "
           "WHERE is_purchase AND is_subscriber AND total_amount IS NOT NULL "
           "ORDER BY subscriber_key, ordered_at, total_amount")
_CADENCE = ("SELECT subscriber_key, sends_prev_7d, sends, opens FROM {schema}.subscriber_send_cadence "
            "ORDER BY subscriber_key, sends_prev_7d")
_CONTENT = ("SELECT subscriber_key, dimension, value, sends, clicks, opens "
            "FROM {schema}.subscriber_content_response ORDER BY subscriber_key, dimension, value")
_INTEREST = ("SELECT subscriber_key, category, web_events, order_lines, link_clicks "
             "FROM {schema}.subscriber_category_interest ORDER BY subscriber_key, category")
_LATER_CADENCE = ("SELECT subscriber_key, sends_prev_7d, sends, opens FROM {schema}.next_send_cadence_outcomes "
                  "ORDER BY subscriber_key, sends_prev_7d")
_LATER_CONTENT = ("SELECT subscriber_key, content_topic, offer_type, sends, clicks "
                  "FROM {schema}.next_send_content_outcomes ORDER BY subscriber_key, content_topic, offer_type")


def current_as_of(path: Path) -> datetime:
    with connect(path, read_only=True) as con:
        row = con.execute("SELECT max(as_of) FROM marts.subscriber_profiles").fetchone()
    if row is None or row[0] is None:
        raise ValueError("marts.subscriber_profiles is empty: nothing to train or score on")
    return row[0]


def training_cutoff(as_of: datetime, horizon_days: int = HORIZON_DAYS) -> datetime:
    return as_of - timedelta(days=horizon_days)


def load_training_data(path: Path, horizon_days: int = HORIZON_DAYS) -> TrainingData:
    """The frames of :class:`ml.scoring.recipes.TrainingData` from both builds."""
    marts, labels = f"marts{TRAIN_SUFFIX}", f"labels{TRAIN_SUFFIX}"
    with connect(path, read_only=True) as con:
        profiles = fetch_frame(con, f"SELECT * FROM {marts}.subscriber_profiles ORDER BY subscriber_key")
        if profiles.empty:
            raise ValueError(f"{marts}.subscriber_profiles is empty: no subscriber existed at the training cut-off")
        cutoff = profiles["as_of"].max()
        outcomes = fetch_frame(con, f"SELECT * FROM {labels}.subscriber_outcomes ORDER BY subscriber_key")
        orders = fetch_frame(con, _ORDERS.format(schema=marts))
        cadence = fetch_frame(con, _CADENCE.format(schema=marts))
        content = fetch_frame(con, _CONTENT.format(schema=marts))
        later_cadence = fetch_frame(con, _LATER_CADENCE.format(schema=labels))
        later_content = fetch_frame(con, _LATER_CONTENT.format(schema=labels))
        interest = fetch_frame(con, _INTEREST.format(schema=marts))
    return TrainingData(cutoff=pd.Timestamp(cutoff), horizon_days=horizon_days, profiles=profiles,
                        outcomes=outcomes, orders=orders, cadence=cadence, content=content,
                        later_cadence=later_cadence, later_content=later_content, interest=interest)


# Today's purchases and send aggregates keyed by ``subscriber_row``: the person's row in the profiles read
# ``ORDER BY subscriber_key`` (0-based). Millions of aggregate rows come back as integers, not strings: the
# models take any hashable key, and integer keys cost a fraction of string keys to load, group and look up.
_ROWS = ("WITH people AS (SELECT subscriber_key, CAST(row_number() OVER (ORDER BY subscriber_key) - 1 AS BIGINT) "
         "AS subscriber_row FROM marts.subscriber_profiles) ")
_CURRENT = {
    "orders": _ROWS + ("SELECT people.subscriber_row, o.ordered_at, o.total_amount FROM marts.fct_orders AS o "
                       "JOIN people USING (subscriber_key) "
                       "WHERE o.is_purchase AND o.is_subscriber AND o.total_amount IS NOT NULL "
                       "ORDER BY people.subscriber_row, o.ordered_at, o.total_amount"),
    "cadence": _ROWS + ("SELECT people.subscriber_row, c.sends_prev_7d, c.sends, c.opens "
                        "FROM marts.subscriber_send_cadence AS c JOIN people USING (subscriber_key) "
                        "ORDER BY people.subscriber_row, c.sends_prev_7d"),
    "content": _ROWS + ("SELECT people.subscriber_row, c.dimension, c.value, c.sends, c.clicks, c.opens "
                        "FROM marts.subscriber_content_response AS c JOIN people USING (subscriber_key) "
                        "ORDER BY people.subscriber_row, c.dimension, c.value"),
    "interest": _ROWS + ("SELECT people.subscriber_row, i.category, i.web_events, i.order_lines, i.link_clicks "
                         "FROM marts.subscriber_category_interest AS i JOIN people USING (subscriber_key) "
                         "ORDER BY people.subscriber_row, i.category"),
}


def load_current(path: Path) -> dict[str, pd.DataFrame]:
    """Profiles (``ORDER BY subscriber_key``), purchases, send aggregates and category interest as of
    ``as_of``: what the champions score. ``orders``, ``cadence``, ``content`` and ``interest`` carry
    ``subscriber_row`` (the person's row in ``profiles``) instead of ``subscriber_key``; rows of anyone
    without a profile are not read (nobody is scored without one)."""
    with connect(path, read_only=True) as con:
        out = {"profiles": fetch_frame(con, "SELECT * FROM marts.subscriber_profiles ORDER BY subscriber_key")}
        for name, sql in _CURRENT.items():
            out[name] = fetch_frame(con, sql)
        return out
