"""Point-in-time discipline for the scoring models: labels after a cut-off, features up to it.

Every predictive model here is trained on features that describe subscribers *as of* a cut-off and on
labels that describe what they did *after* it. A label computed from an event that the features could
also see would leak the answer into the question and make a backtest look better than production
ever will, so the boundary is fixed once, here:

* **features** may use events with ``time <= cutoff`` (an event exactly at the cut-off is in the past);
* **labels** use events with ``cutoff < time <= cutoff + horizon`` (left-open, right-closed).

:func:`make_labels` computes the standard labels, :func:`make_next_send_labels` the "opened the next
send" label, :func:`events_until` cuts an event table for feature building and
:func:`assert_point_in_time` refuses a feature frame that reaches past the cut-off.
:func:`backtest_frame` lays model-versus-baseline metrics out as one tidy table, so results of
several cut-offs and horizons can simply be concatenated.

Timestamps are compared in UTC: naive timestamps are taken as UTC (as in the data contract), aware
ones are converted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import numpy as np
import pandas as pd

from .metrics import DEFAULT_METRICS, PROBABILITY_METRICS

__all__ = [
    "PointInTimeError", "make_labels", "make_next_send_labels", "events_until",
    "assert_point_in_time", "backtest_frame", "real_engagement_mask", "to_utc",
]

ENGAGEMENT_TYPES = ("open", "click")
EXCLUDED_ORDER_STATUSES = ("cancelled", "refunded")
_AMOUNT_COLUMNS = ("total_amount", "revenue", "order_total", "amount")
_KNOWN_TIME_COLUMNS = ("occurred_at", "ordered_at", "sent_at", "as_of", "event_at", "last_event_at",
                       "max_event_at")


class PointInTimeError(ValueError):
    """A feature frame holds information from after the cut-off it claims to describe."""


def to_utc(values) -> pd.Series:
    """Timestamps as a tz-aware UTC Series (naive values are read as UTC)."""
    values = pd.Series(values)
    if pd.api.types.is_datetime64_any_dtype(values):
        return pd.to_datetime(values, utc=True)
    return pd.to_datetime(values, utc=True, format="ISO8601")


def _cutoff(value) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def real_engagement_mask(events: pd.DataFrame) -> np.ndarray:
    """True for real opens and clicks.

    Uses the warehouse's ``is_real_engagement`` flag when present (it already drops privacy-proxy
    machine opens and scanner clicks); otherwise opens with ``is_machine_open`` true are dropped and
    every click counts.
    """
    etype = events["event_type"].astype("string").str.lower()
    mask = etype.isin(ENGAGEMENT_TYPES).fillna(False).to_numpy(dtype=bool)
    if "is_real_engagement" in events.columns:
        mask = mask & events["is_real_engagement"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    elif "is_machine_open" in events.columns:
        machine = events["is_machine_open"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        mask = mask & ~((etype == "open").fillna(False).to_numpy(dtype=bool) & machine)
    return mask


def events_until(frame: pd.DataFrame, cutoff, time_col: str = "occurred_at") -> pd.DataFrame:
    """Rows with ``time_col <= cutoff``: what feature building at ``cutoff`` may see."""
    return frame.loc[(to_utc(frame[time_col]) <= _cutoff(cutoff)).to_numpy()]


def _order_frame(orders: pd.DataFrame, key_col: str, time_col: str, amount_col: str | None) -> pd.DataFrame:
    if amount_col is None:
        amount_col = next((c for c in _AMOUNT_COLUMNS if c in orders.columns), None)
    amount = (pd.to_numeric(orders[amount_col], errors="coerce").fillna(0.0).to_numpy(float)
              if amount_col is not None else np.zeros(len(orders)))
    keep = np.ones(len(orders), dtype=bool)
    if "is_purchase" in orders.columns:  # fct_orders: completed (or no status) = a purchase
        keep = orders["is_purchase"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    elif "status" in orders.columns:
        status = orders["status"].astype("string").str.lower()
        keep = ~status.isin(EXCLUDED_ORDER_STATUSES).fillna(False).to_numpy(dtype=bool)
    out = pd.DataFrame({"subscriber_key": orders[key_col].to_numpy(), "t": to_utc(orders[time_col]).array,
                        "amount": amount})
    return out.loc[keep]


def make_labels(events_df: pd.DataFrame, orders_df: pd.DataFrame | None, cutoff, horizon_days: float,
                subscribers: Iterable | None = None, *, key_col: str = "subscriber_key",
                event_time_col: str = "occurred_at", order_time_col: str = "ordered_at",
                amount_col: str | None = None) -> pd.DataFrame:
    """What each subscriber did in ``(cutoff, cutoff + horizon_days]``.

    Returns one row per subscriber with ``active_next`` (any real open, real click or order in the
    window), ``purchased_next`` (any order), ``orders_next`` (number of orders) and ``revenue_next``
    (sum of order amounts, from ``amount_col`` or the first of ``total_amount``, ``revenue``,
    ``order_total``, ``amount``). Only purchases count: rows with a false ``is_purchase`` (the
    ``fct_orders`` flag) or, without that column, a ``status`` of cancelled or refunded are dropped.

    ``subscribers`` is the population to label (typically the feature frame's keys); by default it is
    everyone with an event or order at or before the cut-off -- people who only appear later could
    not have been scored at the cut-off. Subscribers with nothing in the window get 0 / False.
    """
    start = _cutoff(cutoff)
    end = start + pd.Timedelta(days=float(horizon_days))
    ev_t = to_utc(events_df[event_time_col])
    ev_keys = events_df[key_col].to_numpy()
    orders = (_order_frame(orders_df, key_col, order_time_col, amount_col) if orders_df is not None
              else pd.DataFrame({"subscriber_key": [], "t": pd.to_datetime([], utc=True), "amount": []}))
    if subscribers is None:
        known = np.concatenate([ev_keys[(ev_t <= start).to_numpy(bool)],
                                orders["subscriber_key"].to_numpy()[(orders["t"] <= start).to_numpy(bool)]])
        population = pd.unique(known)
    else:
        population = pd.unique(np.asarray(list(subscribers), dtype=object))
    in_window_ev = ((ev_t > start) & (ev_t <= end)).to_numpy(bool) & real_engagement_mask(events_df)
    engaged = pd.unique(ev_keys[in_window_ev])
    win_orders = orders.loc[((orders["t"] > start) & (orders["t"] <= end)).to_numpy(bool)]
    per = win_orders.groupby("subscriber_key")["amount"].agg(["size", "sum"])
    out = pd.DataFrame({key_col: population})
    out["cutoff"] = start
    out["horizon_days"] = float(horizon_days)
    out["orders_next"] = out[key_col].map(per["size"]).fillna(0).astype(np.int64)
    out["revenue_next"] = out[key_col].map(per["sum"]).fillna(0.0).astype(float)
    out["purchased_next"] = out["orders_next"] > 0
    out["active_next"] = out[key_col].isin(engaged) | out["purchased_next"]
    return out[[key_col, "cutoff", "horizon_days", "active_next", "purchased_next", "orders_next",
                 "revenue_next"]]


def make_next_send_labels(events_df: pd.DataFrame, cutoff, open_window_days: float = 7.0, *,
                          key_col: str = "subscriber_key", time_col: str = "occurred_at") -> pd.DataFrame:
    """Did the first send after the cut-off get a real open (or click) within ``open_window_days``?

    The label of :class:`~ml.scoring.open_propensity.OpenPropensityModel`. The "next send" is each
    subscriber's first ``sent`` event with time ``> cutoff``; it counts as opened when a real open or
    click of the same ``campaign_id`` occurs within ``open_window_days`` of it. Subscribers not sent
    to after the cut-off have no label and are not returned.
    """
    start = _cutoff(cutoff)
    w = pd.DataFrame({key_col: events_df[key_col].to_numpy(), "campaign_id": events_df["campaign_id"].to_numpy(),
                      "t": to_utc(events_df[time_col]).array,
                      "etype": events_df["event_type"].astype("string").str.lower().to_numpy(),
                      "real": real_engagement_mask(events_df)})
    sent = w.loc[(w["etype"] == "sent").fillna(False).to_numpy(bool) & (w["t"] > start).to_numpy(bool)]
    first = (sent.sort_values([key_col, "t"], kind="stable").drop_duplicates(key_col, keep="first")
             [[key_col, "campaign_id", "t"]].rename(columns={"t": "sent_at"}))
    eng = w.loc[w["real"], [key_col, "campaign_id", "t"]].rename(columns={"t": "eng_at"})
    merged = first.merge(eng, on=[key_col, "campaign_id"], how="left")
    window = pd.Timedelta(days=float(open_window_days))
    merged["hit"] = ((merged["eng_at"] >= merged["sent_at"]) & (merged["eng_at"] <= merged["sent_at"] + window)
                     ).fillna(False).astype(bool)
    out = merged.groupby(key_col, sort=False).agg(campaign_id=("campaign_id", "first"),
                                                  sent_at=("sent_at", "first"), opened_next_send=("hit", "any"))
    return out.reset_index()


def assert_point_in_time(frame: pd.DataFrame, cutoff, time_columns: Iterable[str] | None = None) -> pd.DataFrame:
    """Refuse (``PointInTimeError``) a feature frame that knows anything after ``cutoff``.

    Checked: the maximum of every time column (``time_columns``, or by default every datetime column
    plus the usual names ``occurred_at``, ``ordered_at``, ``sent_at``, ``as_of`` ...) must be at or
    before the cut-off, and no ``days_since_*`` value may be negative (an event after ``as_of``).
    Raises ``ValueError`` when there is no time column to check at all: an unverifiable frame is not
    accepted silently. Returns ``frame`` unchanged so the call can be chained.
    """
    limit = _cutoff(cutoff)
    if time_columns is None:
        cols = [c for c in frame.columns
                if c in _KNOWN_TIME_COLUMNS or pd.api.types.is_datetime64_any_dtype(frame[c])]
    else:
        cols = list(time_columns)
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise ValueError("time column(s) not in the frame: " + ", ".join(missing))
    if not cols:
        raise ValueError("no time column to check: pass time_columns= or include as_of / occurred_at")
    problems = []
    for c in cols:
        ts = to_utc(frame[c])
        latest = ts.max()
        if pd.notna(latest) and latest > limit:
            n = int((ts > limit).sum())
            problems.append(f"{c} reaches {latest.isoformat()} ({n} row(s) after the cut-off)")
    for c in (c for c in frame.columns if str(c).startswith("days_since_")):
        neg = int((pd.to_numeric(frame[c], errors="coerce") < 0).sum())
        if neg:
            problems.append(f"{c} is negative in {neg} row(s) (an event after as_of)")
    if problems:
        raise PointInTimeError(f"feature frame is not point-in-time at cut-off {limit.isoformat()}: "
                               + "; ".join(problems))
    return frame


def backtest_frame(y_true, scores: Mapping[str, object], *, cutoff, horizon: float, baseline: str,
                   metrics: Mapping[str, Callable] | None = None) -> pd.DataFrame:
    """Tidy backtest table: one row per (model, metric), each next to the baseline's value.

    ``scores`` maps a name to each model's scores for the rows of ``y_true`` (higher = more likely
    positive); ``baseline`` names the entry every other model is compared against. ``metrics`` maps a
    metric name to ``f(y_true, score) -> float`` (default: AUC, Brier, top-decile lift). A probability
    metric (Brier, ...) is NaN for a score that is not a probability, e.g. a raw days-since ranking.
    Columns: ``model, cutoff, horizon, metric, value, baseline, baseline_value``; concatenate the
    frames of several cut-offs and horizons for a full backtest.
    """
    if baseline not in scores:
        raise ValueError(f"baseline {baseline!r} is not one of the scores: {sorted(scores)}")
    metrics = DEFAULT_METRICS if metrics is None else metrics
    y = np.asarray(y_true, dtype=float)

    def value(name, metric, fn, s):
        s = np.asarray(s, dtype=float)
        if len(s) != len(y):
            raise ValueError(f"scores {name!r} have {len(s)} rows, y_true has {len(y)}")
        if metric in PROBABILITY_METRICS and (np.nanmin(s) < 0 or np.nanmax(s) > 1):
            return np.nan
        return float(fn(y, s))

    rows = []
    for fn_name, fn in metrics.items():
        base_value = value(baseline, fn_name, fn, scores[baseline])
        for model, s in scores.items():
            if model == baseline:
                continue
            rows.append({"model": model, "cutoff": _cutoff(cutoff), "horizon": horizon, "metric": fn_name,
                         "value": value(model, fn_name, fn, s), "baseline": baseline, "baseline_value": base_value})
    return pd.DataFrame(rows, columns=["model", "cutoff", "horizon", "metric", "value", "baseline",
                                       "baseline_value"])
