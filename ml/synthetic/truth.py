"""The planted answers: one row per person with their parameters and holdout outcomes.

Outcome definitions (holdout window = ``(as_of, as_of + holdout_days]``; all counted from the clean
``truth/future_*`` files, so they can be recomputed from them):

``future_sends``         ``sent`` events in the window
``future_real_opens``    ``open`` events with ``is_machine_open = false`` in the window
``future_clicks``        ``click`` events in the window
``future_orders``        orders in the window whose status is not ``cancelled``
``future_revenue``       sum of ``total_amount`` of ``completed`` orders in the window
``future_orders_90d``    as ``future_orders``, first 90 days of the window
``future_purchase_30d``  any not-cancelled order in the first 30 days
``future_active_90d``    any real open, click or order (any status) in the first 90 days
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .personas import CATEGORIES, FREQUENCIES, OFFERS, PERSONA_NAMES, TOPICS, ZONES
from .population import Population
from .profiles import subscriber_ids
from .tables import pick, ts

TRUTH_SUBSCRIBER_COLUMNS = (
    "email", "subscriber_id", "persona", "created_at", "timezone", "country", "preferred_hour_local",
    "preferred_dow", "open_propensity", "click_propensity", "purchase_rate_per_year", "avg_order_value",
    "discount_sensitivity", "favourite_topic", "favourite_category", "favourite_offer", "uses_privacy_proxy",
    "fatigue_sensitivity", "email_frequency", "churned_at", "mailable_at_as_of", "future_sends",
    "future_real_opens", "future_clicks", "future_orders", "future_revenue", "future_active_90d",
    "future_purchase_30d", "future_orders_90d",
)


def mailable_at(pop: Population, email, t: int) -> np.ndarray:
    """Could the sender mail this person at time t (consent, bounces, complaints, unsubscribes)?"""
    ok = (pop.confirm <= t) & ~((pop.unsub_at <= t) & (t < pop.resub_at))
    ok[email.hard_person[email.hard_time <= t]] = False
    ok[email.spam_person[email.spam_time <= t]] = False
    m = email.unsub_time <= t
    up, ut, rt = email.unsub_person[m], email.unsub_time[m], email.resub_time[m]
    last = np.lexsort((ut, up))  # latest unsubscribe per person last
    up, rt = up[last], rt[last]
    is_last = np.r_[up[1:] != up[:-1], True] if len(up) else np.zeros(0, bool)
    ok[up[is_last & (rt > t)]] = False
    return ok


def truth_subscribers(pop: Population, emails: pa.Array, email, sink, order_outcomes: dict, as_of: int) -> pa.Table:
    freq = np.where(pop.pref_at <= as_of, pop.frequency, -1)
    return pa.table({
        "email": emails,
        "subscriber_id": subscriber_ids(np.arange(pop.n)),
        "persona": pick(PERSONA_NAMES, pop.persona),
        "created_at": ts(pop.created),
        "timezone": pick([z.name for z in ZONES], pop.zone),
        "country": pick([z.country for z in ZONES], pop.zone),
        "preferred_hour_local": pa.array(pop.hour, pa.int32()),
        "preferred_dow": pa.array(pop.dow, pa.int32()),
        "open_propensity": pa.array(pop.open_p),
        "click_propensity": pa.array(pop.click_p),
        "purchase_rate_per_year": pa.array(pop.purchase_rate),
        "avg_order_value": pa.array(np.round(pop.aov, 2)),
        "discount_sensitivity": pa.array(pop.discount_sens),
        "favourite_topic": pick(TOPICS, pop.fav_topic),
        "favourite_category": pick(CATEGORIES, pop.fav_cat),
        "favourite_offer": pick(OFFERS, pop.fav_offer),
        "uses_privacy_proxy": pa.array(pop.mpp),
        "fatigue_sensitivity": pa.array(pop.fatigue_sens),
        "email_frequency": pick(FREQUENCIES, freq),
        "churned_at": ts(pop.churned),
        "mailable_at_as_of": pa.array(mailable_at(pop, email, as_of)),
        "future_sends": pa.array(sink.future_sends, pa.int32()),
        "future_real_opens": pa.array(sink.future_real_opens, pa.int32()),
        "future_clicks": pa.array(sink.future_clicks, pa.int32()),
        "future_orders": pa.array(order_outcomes["future_orders"], pa.int32()),
        "future_revenue": pa.array(order_outcomes["future_revenue"], pa.float64()),
        "future_active_90d": pa.array(sink.future_email_active_90d | order_outcomes["any_order_90d"]),
        "future_purchase_30d": pa.array(order_outcomes["future_purchase_30d"]),
        "future_orders_90d": pa.array(order_outcomes["future_orders_90d"], pa.int32()),
    })

