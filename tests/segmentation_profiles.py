"""Small hand-made profile tables for the segmentation tests: four planted groups, blobs, night owls who
never open.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


GROUPS = ("vip", "night_owl", "dormant", "discount")


def make_profiles(n: int = 1200, seed: int = 0) -> pd.DataFrame:
    """Profiles-like rows from four planted groups (``group`` column), with every required column."""
    rng = np.random.default_rng(seed)
    g = np.arange(n) % len(GROUPS)
    vip, night, dormant, disc = (g == i for i in range(4))
    orders = np.where(vip, rng.poisson(12, n), np.where(disc, rng.poisson(3, n), rng.poisson(0.2, n)))
    orders = np.where(dormant, 0, orders)
    aov = np.where(vip, rng.normal(160, 20, n), rng.normal(45, 8, n)).clip(5)
    sends = rng.poisson(30, n)
    open_p = np.where(dormant, 0.0, np.where(vip, 0.5, 0.3))
    opens = rng.binomial(sends, open_p)
    clicks = rng.binomial(opens, np.where(disc, 0.3, 0.15))
    hour = np.where(night, 23, np.where(vip, 9, 13))
    df = pd.DataFrame({
        "subscriber_key": [f"k{i:05d}" for i in range(n)],
        "as_of": pd.Timestamp("2026-09-30", tz="UTC"),
        "tenure_days": np.where(dormant, rng.integers(1000, 1500, n), rng.integers(400, 800, n)),
        "country": "GB", "timezone": "Europe/London", "signup_source": "web_form", "is_mailable": True,
        "orders_total": orders, "orders_30d": 0, "orders_90d": np.minimum(orders, rng.poisson(1, n)),
        "orders_180d": np.minimum(orders, rng.poisson(np.where(vip, 5, 1), n)),
        "revenue_total": orders * aov, "revenue_90d": 0.0,
        "avg_order_value": np.where(orders > 0, aov, np.nan),
        "days_since_last_order": np.where(orders > 0, rng.integers(1, 60, n), np.nan),
        "discount_order_share": np.where(orders > 0, np.where(disc, 0.8, 0.05), np.nan),
        "avg_discount_share": np.where(orders > 0, np.where(disc, 0.3, 0.01), np.nan),
        "sends_total": sends, "sends_90d": sends // 4, "real_opens_total": opens, "clicks_total": clicks,
        "opens_90d": opens // 4, "open_rate_smoothed": (opens + 2) / (sends + 10),
        "click_rate_smoothed": (clicks + 0.3) / (sends + 10),
        "days_since_last_open": np.where(opens > 0, rng.integers(1, 40, n), np.nan),
        "days_since_last_click": np.where(clicks > 0, rng.integers(1, 60, n), np.nan),
        "engagement_trend": rng.normal(0, 0.05, n), "sends_per_week_90d": sends / 78.0,
        "engagement_events_total": opens + clicks,
        "share_mobile": np.where(opens > 0, np.where(night, 0.95, 0.3), np.nan),
        "share_desktop": np.where(opens > 0, np.where(night, 0.05, 0.6), np.nan),
        "share_tablet": np.where(opens > 0, np.where(night, 0.0, 0.1), np.nan),
        "top_content_topic": np.where(clicks > 0, np.where(vip, "home", "fashion"), None),
        "top_content_topic_click_rate": np.where(clicks > 0, 0.1, np.nan),
        "top_offer_type": np.where(clicks > 0, np.where(disc, "discount", "new_arrival"), None),
        "top_offer_type_click_rate": np.where(clicks > 0, 0.1, np.nan),
        "top_category": np.where(orders > 0, np.where(vip, "home", "fashion"), None),
        "discount_click_lift": np.where(disc, 0.06, -0.005),
        "days_since_last_visit": np.where(dormant, np.nan, rng.integers(1, 90, n)),
        "page_views_90d": np.where(dormant, 0, rng.poisson(4, n)),
        "product_views_90d": np.where(dormant, 0, rng.poisson(np.where(vip, 12, 3), n)),
        "cart_adds_90d": rng.poisson(np.where(vip, 2, 0.3), n), "abandoned_carts_90d": rng.poisson(0.2, n),
        "email": [f"person{i}@example.com" for i in range(n)],  # extra columns are tolerated, never used
        "group": np.array(GROUPS)[g],
    })
    for h in range(24):
        dist = np.minimum(abs(h - hour), 24 - abs(h - hour))
        df[f"eng_hour_{h:02d}"] = np.where(opens > 0, np.exp(-dist**2 / 2.0), 0.0)
    total = df[[f"eng_hour_{h:02d}" for h in range(24)]].sum(axis=1).replace(0, 1)
    for h in range(24):
        df[f"eng_hour_{h:02d}"] /= total
    for d in range(7):
        df[f"eng_dow_{d}"] = np.where(opens > 0, 1 / 7, 0.0)
    # every channel: here the e-mail rhythm again (web sessions and orders add nothing)
    df["activity_events_total"] = df["engagement_events_total"]
    for h in range(24):
        df[f"act_hour_{h:02d}"] = df[f"eng_hour_{h:02d}"]
    for d in range(7):
        df[f"act_dow_{d}"] = df[f"eng_dow_{d}"]
    for device in ("mobile", "desktop", "tablet"):
        df[f"act_share_{device}"] = df[f"share_{device}"]
    return df


# the columns each rhythm of ProfileFeaturizer reads: (hour share prefix, event count)
RHYTHM_COLUMNS = {"activity": ("act_hour_", "activity_events_total"), "email": ("eng_hour_", "engagement_events_total")}


def blobs(n_per: int = 300, k: int = 5, dim: int = 6, spread: float = 0.3, seed: int = 0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 6, (k, dim))
    y = np.repeat(np.arange(k), n_per)
    return (centers[y] + rng.normal(0, spread, (len(y), dim))).astype(np.float32), y, centers


def night_owls_who_never_open(n: int = 900):
    """make_profiles rows where the dormant people (they never open) split in three: "A" are active on the
    site at 01:00 on a phone, "B" at 13:00 on a desktop, "Q" show no activity at all; everyone else is
    "C". The three differ in nothing else."""
    df = make_profiles(n)
    dormant = np.flatnonzero(df["group"].eq("dormant").to_numpy())
    labels = np.full(len(df), "C", dtype=object)
    df.loc[dormant, [f"act_hour_{h:02d}" for h in range(24)]] = 0.0
    df.loc[dormant, [f"act_dow_{d}" for d in range(7)]] = 0.0
    df.loc[dormant, ["act_share_mobile", "act_share_desktop", "act_share_tablet"]] = 0.0
    df.loc[dormant, "activity_events_total"] = 0
    for label, rows, hour, device in (("A", dormant[0::3], 1, "mobile"), ("B", dormant[1::3], 13, "desktop"),
                                      ("Q", dormant[2::3], None, None)):
        labels[rows] = label
        if hour is not None:
            df.loc[rows, f"act_hour_{hour:02d}"] = 1.0
            df.loc[rows, [f"act_dow_{d}" for d in range(7)]] = 1 / 7
            df.loc[rows, f"act_share_{device}"] = 1.0
            df.loc[rows, "activity_events_total"] = 12
    return df, labels
