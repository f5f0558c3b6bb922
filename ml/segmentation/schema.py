"""The columns of ``marts.subscriber_profiles`` that segmentation reads, checked once with a clear error.

The mart has more columns than these (extra ones are ignored); a missing one would otherwise surface
as a KeyError deep inside a transform, so every public entry point calls :func:`check_profiles`
first and names everything that is missing.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["REQUIRED_COLUMNS", "HOUR_COLUMNS", "DOW_COLUMNS", "DEVICE_COLUMNS", "ACTIVITY_HOUR_COLUMNS",
           "ACTIVITY_DOW_COLUMNS", "ACTIVITY_DEVICE_COLUMNS", "RHYTHM_COLUMNS", "rhythm_columns", "DRIFT_COLUMNS",
           "check_profiles"]

# e-mail engagement only (real opens and clicks): the reading habit
HOUR_COLUMNS = tuple(f"eng_hour_{h:02d}" for h in range(24))
DOW_COLUMNS = tuple(f"eng_dow_{d}" for d in range(7))
DEVICE_COLUMNS = ("share_mobile", "share_desktop", "share_tablet")
# every channel (e-mail engagements, web sessions, orders): the rhythm of people who never open, too
ACTIVITY_HOUR_COLUMNS = tuple(f"act_hour_{h:02d}" for h in range(24))
ACTIVITY_DOW_COLUMNS = tuple(f"act_dow_{d}" for d in range(7))
ACTIVITY_DEVICE_COLUMNS = ("act_share_mobile", "act_share_desktop", "act_share_tablet")
# a "rhythm" names where the timing of a person is read from: (hour shares, weekday shares, device
# shares, event count). The segment features (features.py) and the segment traits (traits.py) share it.
RHYTHM_COLUMNS = {
    "activity": (ACTIVITY_HOUR_COLUMNS, ACTIVITY_DOW_COLUMNS, ACTIVITY_DEVICE_COLUMNS, "activity_events_total"),
    "email": (HOUR_COLUMNS, DOW_COLUMNS, DEVICE_COLUMNS, "engagement_events_total"),
}


def rhythm_columns(rhythm: str) -> tuple:
    """The (hours, weekdays, devices, count) columns of ``rhythm``; ``ValueError`` naming the choices."""
    if rhythm not in RHYTHM_COLUMNS:
        raise ValueError(f"rhythm must be one of {sorted(RHYTHM_COLUMNS)}, got {rhythm!r}")
    return RHYTHM_COLUMNS[rhythm]


REQUIRED_COLUMNS = (
    "subscriber_key", "tenure_days",
    "orders_total", "orders_180d", "revenue_total", "avg_order_value", "days_since_last_order",
    "discount_order_share", "avg_discount_share",
    "sends_total", "sends_90d", "real_opens_total", "clicks_total", "opens_90d",
    "open_rate_smoothed", "click_rate_smoothed", "days_since_last_open", "days_since_last_click",
    "engagement_trend", "sends_per_week_90d",
    *HOUR_COLUMNS, *DOW_COLUMNS, "engagement_events_total",
    *DEVICE_COLUMNS,
    *ACTIVITY_HOUR_COLUMNS, *ACTIVITY_DOW_COLUMNS, "activity_events_total", *ACTIVITY_DEVICE_COLUMNS,
    "top_content_topic", "top_content_topic_click_rate", "top_offer_type", "top_offer_type_click_rate",
    "top_category", "discount_click_lift",
    "days_since_last_visit", "page_views_90d", "product_views_90d", "cart_adds_90d", "abandoned_carts_90d",
)

# The numeric behaviour columns whose distributions the drift checks compare with training (the
# hour/weekday shares and text columns are left out: 31 near-duplicate shares would swamp the list).
_NOT_DRIFT = {"subscriber_key", "top_content_topic", "top_offer_type", "top_category", *HOUR_COLUMNS, *DOW_COLUMNS,
              *ACTIVITY_HOUR_COLUMNS, *ACTIVITY_DOW_COLUMNS}
DRIFT_COLUMNS = tuple(c for c in REQUIRED_COLUMNS if c not in _NOT_DRIFT)


def check_profiles(df) -> None:
    """Raise ``TypeError`` unless ``df`` is a DataFrame and ``ValueError`` naming every missing column."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame of subscriber_profiles rows, got {type(df).__name__}")
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError("subscriber_profiles is missing required column(s): " + ", ".join(missing))
