"""Interpretable traits of subscribers and how far a segment stands out on each (standardised mean difference).

The clustering matrix is scaled and weighted for the algorithm; people need plain quantities instead.
:data:`TRAITS` is the vocabulary: for each trait, the quantity computed from profile columns
(:func:`trait_table`), the word for a segment that is high (or low) on it (``"night-owl"``,
``"discount-seeking"``, ``"new"``), and the clause that explains it for one subscriber ("is active late
at night"). Quantities are NaN where they do not apply (basket size of someone who never bought, hours of
someone with no activity, device shares of someone whose only activity is orders, which carry no device),
and NaN rows are left out of that trait's statistics rather than filled,
so "no data" never reads as "low".

The timing and device traits (night, morning, weekend, mobile, desktop, tablet) read the same rhythm
as the segment features (``rhythm``; :data:`~ml.segmentation.schema.RHYTHM_COLUMNS`): by default every
channel -- real e-mail engagements, web sessions and orders -- so a segment of people who never open
but browse at night on their phones is named and explained by that, not left without a rhythm;
``rhythm="email"`` reads e-mail engagement alone (what segment models fitted before the option keep).

:func:`standardised_differences` compares every segment with the rest of the list (or with the rest of
its parent segment) in one pass of per-label sums: ``(mean_in - mean_out) / sqrt((var_in + var_out) / 2)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .schema import HOUR_COLUMNS, rhythm_columns

__all__ = ["Trait", "TRAITS", "TRAIT_KEYS", "trait_table", "standardised_differences", "group_sums", "describe_value",
           "hour_profile", "natural_units"]


@dataclass(frozen=True)
class Trait:
    key: str
    label: str  # what the quantity is, for tables
    high: str | None  # name word when a segment is high on it
    low: str | None  # name word when a segment is low on it
    high_reason: str | None  # clause for one subscriber, third person singular
    low_reason: str | None
    high_clause: str | None  # clause for a segment, plural
    low_clause: str | None
    kind: str = "log"  # how to print a mean: "log" (expm1), "share", "rate", "days", "plain"


TRAITS = (
    Trait("value", "lifetime spend", "high-value", None, "has a high lifetime spend", None,
          "spend more than average", None),
    Trait("frequency", "orders in the last 180 days", "frequent-buying", None, "buys often", None,
          "buy often", None),
    Trait("basket", "average order value", "big-basket", "small-basket", "places large orders",
          "places small orders", "place large orders", "place small orders"),
    Trait("discount", "discount affinity (0-1)", "discount-seeking", None, "responds to discounts", None,
          "respond to discounts", None, "share"),
    Trait("open_rate", "open rate", "engaged", "disengaged", "opens most e-mails", "rarely opens e-mails",
          "open most e-mails", "rarely open e-mails", "rate"),
    Trait("click_rate", "click rate", "clicking", None, "clicks often", "rarely clicks", "click often",
          "rarely click", "rate"),
    Trait("reading", "opens without clicks", "newsletter-reading", None, "reads but rarely clicks", None,
          "read without clicking", None, "rate"),
    Trait("lapse", "days since last open", "lapsing", "recently-active", "has not opened for a while",
          "opened recently", "have not opened for a while", "opened recently", "days"),
    Trait("silent", "never opened", "dormant", None, "has never opened an e-mail", None,
          "have never opened an e-mail", None, "share"),
    Trait("night", "late-night activity share", "night-owl", None, "is active late at night", None,
          "are active late at night", None, "share"),
    Trait("morning", "early-morning activity share", "early-bird", None, "is active early in the morning", None,
          "are active early in the morning", None, "share"),
    Trait("weekend", "weekend activity share", "weekend", "weekday", "is active at weekends", "is active on weekdays",
          "are active at weekends", "are active on weekdays", "share"),
    Trait("mobile", "mobile share", "mobile", None, "is mostly on mobile", None, "are mostly on mobile", None,
          "share"),
    Trait("desktop", "desktop share", "desktop", None, "is mostly on desktop", None, "are mostly on desktop", None,
          "share"),
    Trait("tablet", "tablet share", "tablet", None, "uses a tablet", None, "use tablets", None, "share"),
    Trait("window", "views without orders (90 days)", "window-shopping", None, "browses without buying", None,
          "browse the shop without buying", None),
    Trait("cart", "abandoned carts (90 days)", "cart-abandoning", None, "leaves carts behind", None,
          "leave carts behind", None),
    Trait("browsing", "shop visits (90 days)", "browsing", None, "visits the shop often", None,
          "visit the shop often", None),
    Trait("tenure", "days on the list", "long-standing", "new", "has been on the list for years",
          "joined recently", "have been on the list for years", "joined recently"),
    Trait("trend", "engagement trend", "warming", "cooling", "is opening more lately", "is opening less lately",
          "open more lately", "open less lately", "plain"),
)
TRAIT_KEYS = tuple(t.key for t in TRAITS)
_NIGHT, _MORNING = (22, 23, 0, 1, 2), (5, 6, 7, 8)


def _num(df: pd.DataFrame, col: str) -> np.ndarray:
    return pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _shares(df: pd.DataFrame, columns) -> np.ndarray:
    """(n, len(columns)) float matrix of share columns, zeros where missing (shares of nothing)."""
    return np.nan_to_num(df[list(columns)].apply(pd.to_numeric, errors="coerce").to_numpy(np.float64))


def trait_table(profiles: pd.DataFrame, horizon_days: float = 365.0, rhythm: str = "activity") -> pd.DataFrame:
    """One row per profile, one float column per trait of :data:`TRAITS` (NaN where it does not apply).

    ``rhythm`` picks the columns of the timing and device traits (see the module docstring).
    """
    hour_cols, dow_cols, device_cols, count_col = rhythm_columns(rhythm)
    orders = np.nan_to_num(_num(profiles, "orders_total"))
    opens = np.nan_to_num(_num(profiles, "real_opens_total"))
    clicks = np.nan_to_num(_num(profiles, "clicks_total"))
    sends = np.nan_to_num(_num(profiles, "sends_total"))
    active = np.nan_to_num(_num(profiles, count_col)) > 0
    devices = _shares(profiles, device_cols)
    on_device = active & (devices.sum(axis=1) > 0)  # orders carry no device: only orders is no device data
    hours, dows = _shares(profiles, hour_cols), _shares(profiles, dow_cols)
    lift = _num(profiles, "discount_click_lift")  # discount click rate minus other click rate
    lift_score = np.clip(lift / 0.05, 0.0, 1.0)  # +5 points of click rate on discounts counts as fully keen
    parts = np.stack([_num(profiles, "discount_order_share"), lift_score])
    n_parts = np.isfinite(parts).sum(axis=0)
    disc = np.where(n_parts > 0, np.nansum(parts, axis=0) / np.maximum(n_parts, 1), np.nan)
    open_rate = _num(profiles, "open_rate_smoothed")
    cto = (clicks + 0.5) / (opens + 4.0)
    dso = _num(profiles, "days_since_last_open")
    views = np.nan_to_num(_num(profiles, "product_views_90d")) + np.nan_to_num(_num(profiles, "cart_adds_90d"))
    recent_orders = np.nan_to_num(_num(profiles, "orders_180d"))

    def when(mask, values):
        return np.where(mask, values, np.nan)

    out = {
        "value": np.log1p(np.clip(np.nan_to_num(_num(profiles, "revenue_total")), 0, None)),
        "frequency": np.log1p(recent_orders),
        "basket": when(orders > 0, np.log1p(np.clip(_num(profiles, "avg_order_value"), 0, None))),
        "discount": disc,
        "open_rate": open_rate,
        "click_rate": _num(profiles, "click_rate_smoothed"),
        "reading": open_rate * (1.0 - cto),
        "lapse": when(np.isfinite(dso), np.minimum(dso, horizon_days)),
        "silent": when(sends > 0, (~np.isfinite(dso)).astype(np.float64)),
        "night": when(active, hours[:, list(_NIGHT)].sum(axis=1)),
        "morning": when(active, hours[:, list(_MORNING)].sum(axis=1)),
        "weekend": when(active, dows[:, 5] + dows[:, 6]),
        "mobile": when(on_device, devices[:, 0]),
        "desktop": when(on_device, devices[:, 1]),
        "tablet": when(on_device, devices[:, 2]),
        "window": np.log1p(np.where(recent_orders > 0, 0.0, views)),
        "cart": np.log1p(np.nan_to_num(_num(profiles, "abandoned_carts_90d"))),
        "browsing": np.log1p(np.nan_to_num(_num(profiles, "page_views_90d")) + views),
        "tenure": np.log1p(np.clip(np.nan_to_num(_num(profiles, "tenure_days")), 0, None)),
        "trend": _num(profiles, "engagement_trend"),
    }
    return pd.DataFrame(out, index=profiles.index)[list(TRAIT_KEYS)]


def group_sums(values: np.ndarray, codes: np.ndarray, n_groups: int) -> tuple[np.ndarray, ...]:
    """Per-group non-NaN count, sum and sum of squares of every column (vectorised, no loop over rows)."""
    ok = np.isfinite(values)
    v = np.where(ok, values, 0.0)
    cnt = np.zeros((n_groups, values.shape[1]))
    s1 = np.zeros_like(cnt)
    s2 = np.zeros_like(cnt)
    np.add.at(cnt, codes, ok.astype(np.float64))
    np.add.at(s1, codes, v)
    np.add.at(s2, codes, v * v)
    return cnt, s1, s2


def standardised_differences(values: np.ndarray, codes: np.ndarray, n_groups: int,
                             parent_of: np.ndarray | None = None, min_count: int = 10) -> np.ndarray:
    """(n_groups, n_traits) SMD of each group vs the rest of the list (or of its parent when ``parent_of``
    maps group -> parent code). NaN where either side has fewer than ``min_count`` values."""
    cnt, s1, s2 = group_sums(values, codes, n_groups)
    if parent_of is None:
        ref = (cnt.sum(0, keepdims=True), s1.sum(0, keepdims=True), s2.sum(0, keepdims=True))
        ref = tuple(np.repeat(r, n_groups, axis=0) for r in ref)
    else:
        parent_of = np.asarray(parent_of)
        n_par = int(parent_of.max()) + 1 if len(parent_of) else 0
        pc, p1, p2 = (np.zeros((n_par, values.shape[1])) for _ in range(3))
        np.add.at(pc, parent_of, cnt)
        np.add.at(p1, parent_of, s1)
        np.add.at(p2, parent_of, s2)
        ref = (pc[parent_of], p1[parent_of], p2[parent_of])
    rc, r1, r2 = ref[0] - cnt, ref[1] - s1, ref[2] - s2
    with np.errstate(invalid="ignore", divide="ignore"):
        m_in, m_out = s1 / cnt, r1 / rc
        v_in = np.maximum(s2 / cnt - m_in**2, 0.0)
        v_out = np.maximum(r2 / rc - m_out**2, 0.0)
        smd = (m_in - m_out) / np.sqrt((v_in + v_out) / 2.0 + 1e-12)
    smd[(cnt < min_count) | (rc < min_count)] = np.nan
    return smd


def natural_units(values: np.ndarray) -> np.ndarray:
    """The trait table back in natural units (``expm1`` of the log-kind traits), for averages people read."""
    out = np.array(values, dtype=np.float64, copy=True)
    logs = [i for i, t in enumerate(TRAITS) if t.kind == "log"]
    out[:, logs] = np.expm1(out[:, logs])
    return out


def describe_value(trait: Trait, mean: float) -> str:
    """A segment mean in natural units (see :func:`natural_units`), formatted for reading."""
    if not np.isfinite(mean):
        return "n/a"
    if trait.kind == "log":
        return f"{mean:,.1f}"
    if trait.kind == "share":
        return f"{mean:.0%}"
    if trait.kind == "rate":
        return f"{mean:.1%}"
    if trait.kind == "days":
        return f"{mean:.0f} days"
    return f"{mean:+.2f}"


def hour_profile(profiles: pd.DataFrame, columns=HOUR_COLUMNS) -> np.ndarray:
    """(n, 24) hour shares of ``columns``: e-mail engagement by default (zeros where there was none)."""
    return _shares(profiles, columns)

