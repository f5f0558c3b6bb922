"""Customer summaries (x, t_x, T, zbar) for the buy-till-you-die and spend models.

From a transactions table (customer id, timestamp, amount):

* purchases on the same calendar day by the same customer are merged into one (amounts summed), the
  convention of the CDNOW papers; timestamps are truncated to the day (time-zone aware ones in their
  own zone);
* only purchases on or before the cut-off day count; a customer's first purchase starts their clock;
* ``x`` = number of repeat purchase days, ``t_x`` = time from the first to the last purchase day,
  ``T`` = time from the first purchase day to the cut-off day, ``zbar`` = mean amount of the repeat
  purchases (the first purchase is excluded, as in Fader & Hardie's Gamma-Gamma note; 0 when x = 0);
* time is in days (``time_unit="D"``), weeks (``"W"``, 7 days) or any number of days per unit.

Everything is a vectorised pandas group-by; no Python loop over customers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["rfm_summary", "calibration_holdout_summary", "days_per_unit"]


def days_per_unit(time_unit) -> float:
    """'D' -> 1, 'W' -> 7, a positive number -> itself."""
    if isinstance(time_unit, str):
        units = {"D": 1.0, "W": 7.0}
        if time_unit.upper() not in units:
            raise ValueError("time_unit must be 'D', 'W' or a number of days")
        return units[time_unit.upper()]
    value = float(time_unit)
    if not value > 0:
        raise ValueError("time_unit must be positive")
    return value


def _to_day(values) -> pd.Series:
    ts = pd.to_datetime(pd.Series(values))
    return ts.dt.normalize()


def _as_day(value, like: pd.Series) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    tz = getattr(like.dt, "tz", None)
    if tz is not None and ts.tzinfo is None:
        ts = ts.tz_localize(tz)
    return ts.normalize()


def _daily(transactions, customer_col, datetime_col, amount_col) -> pd.DataFrame:
    """One row per (customer, purchase day), amounts summed, sorted by customer then day."""
    frame = pd.DataFrame({
        "customer": transactions[customer_col].to_numpy(),
        "day": _to_day(transactions[datetime_col]).to_numpy(),
        "amount": (transactions[amount_col].to_numpy(dtype=float) if amount_col is not None
                   else np.zeros(len(transactions))),
    })
    if frame["day"].isna().any():
        raise ValueError("missing timestamps in %r" % datetime_col)
    return (frame.groupby(["customer", "day"], sort=True, observed=True)["amount"].sum()
            .reset_index())


def _summarise(daily: pd.DataFrame, cutoff: pd.Timestamp, unit_days: float) -> pd.DataFrame:
    cal = daily[daily["day"] <= cutoff]
    groups = cal.groupby("customer", sort=True)
    first = groups["day"].min()
    last = groups["day"].max()
    n_days = groups.size()
    total = groups["amount"].sum()
    first_amount = groups["amount"].first()  # rows are sorted by day within customer
    unit = pd.Timedelta(days=unit_days)
    x = (n_days - 1).astype(float)
    repeat_total = total - first_amount
    out = pd.DataFrame({
        "x": x,
        "t_x": (last - first) / unit,
        "T": (cutoff - first) / unit,
        "zbar": np.where(x > 0, repeat_total / x.where(x > 0, 1.0), 0.0),
        "first_purchase": first,
    })
    out.index.name = "customer_id"
    return out


def rfm_summary(transactions: pd.DataFrame, *, customer_col: str = "customer_id",
                datetime_col: str = "timestamp", amount_col: str | None = "amount",
                cutoff=None, time_unit="W") -> pd.DataFrame:
    """Summary per customer as of ``cutoff`` (default: the last transaction day).

    Returns a DataFrame indexed by customer id with float columns ``x, t_x, T, zbar`` and the
    ``first_purchase`` day; customers whose first purchase is after the cut-off are absent.
    """
    daily = _daily(transactions, customer_col, datetime_col, amount_col)
    cutoff = daily["day"].max() if cutoff is None else _as_day(cutoff, daily["day"])
    return _summarise(daily, cutoff, days_per_unit(time_unit))


def calibration_holdout_summary(transactions: pd.DataFrame, calibration_end, holdout_end, *,
                                customer_col: str = "customer_id", datetime_col: str = "timestamp",
                                amount_col: str | None = "amount", time_unit="W") -> pd.DataFrame:
    """Calibration summary as of ``calibration_end`` plus what happened after it.

    Adds ``x_holdout`` (purchase days in (calibration_end, holdout_end], same-day merged),
    ``amount_holdout`` (their total) and ``duration_holdout`` (holdout length in time units).
    Only customers acquired by ``calibration_end`` are returned.
    """
    daily = _daily(transactions, customer_col, datetime_col, amount_col)
    cal_end = _as_day(calibration_end, daily["day"])
    hold_end = _as_day(holdout_end, daily["day"])
    if hold_end <= cal_end:
        raise ValueError("holdout_end must be after calibration_end")
    unit_days = days_per_unit(time_unit)
    out = _summarise(daily, cal_end, unit_days)
    hold = daily[(daily["day"] > cal_end) & (daily["day"] <= hold_end)]
    groups = hold.groupby("customer", sort=True)
    out["x_holdout"] = groups.size().reindex(out.index, fill_value=0).astype(float)
    out["amount_holdout"] = groups["amount"].sum().reindex(out.index, fill_value=0.0)
    out["duration_holdout"] = (hold_end - cal_end) / pd.Timedelta(days=unit_days)
    return out
