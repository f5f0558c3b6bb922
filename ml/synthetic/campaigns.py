"""The sender's campaign calendar over history + holdout.

Broadcasts: 2-4 a week (one more in the gift season), each with a content topic, an offer type, a
discount for discount offers, a UTC send time and an audience share. Automations (``is_automated``):
a weekly welcome mail to the week's new subscribers and a monthly win-back to people who have not
engaged for months. Each campaign carries three links (url + link category).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .clock import DAY, HOUR, day_of_year, weekday
from .personas import CATEGORIES, OFFERS, TOPICS, TOPIC_TO_CATEGORY

BROADCAST, WELCOME, WINBACK = 0, 1, 2
LINKS_PER_CAMPAIGN = 3
_SEND_HOURS_UTC = (6, 8, 9, 11, 13, 15, 17, 19, 21)
_TOPIC_P = (0.16, 0.18, 0.12, 0.13, 0.1, 0.09, 0.08, 0.14)
_OFFER_P = (0.34, 0.28, 0.2, 0.18)  # broadcasts: discount, new_arrival, editorial, announcement
_DISCOUNTS = (10.0, 15.0, 20.0, 25.0, 30.0, 40.0)
_LABEL = {"home": "home", "fashion": "fashion", "beauty": "beauty", "tech": "tech", "outdoor": "outdoor",
          "food": "food & drink", "kids": "kids", "editorial": "reading"}


@dataclass
class Campaigns:
    campaign_id: list[str]
    sent_at: np.ndarray  # int64 seconds
    topic: np.ndarray  # index into TOPICS
    offer: np.ndarray  # index into OFFERS
    discount_pct: np.ndarray  # float, NaN when not a discount
    kind: np.ndarray  # BROADCAST / WELCOME / WINBACK
    audience: np.ndarray  # share of the list a broadcast targets (before the sender's scaling)
    name: list[str]
    subject: list[str]
    link_url: list[str]  # LINKS_PER_CAMPAIGN per campaign, campaign-major
    link_category: np.ndarray  # index into CATEGORIES, same layout

    def __len__(self) -> int:
        return len(self.sent_at)

    @property
    def is_automated(self) -> np.ndarray:
        return self.kind != BROADCAST


def _subject(offer: str, topic: str, pct: float, k: int) -> str:
    label = _LABEL[topic]
    options = {
        "discount": (f"{pct:.0f}% off {label} - this week only", f"Save {pct:.0f}% on {label} favourites",
                     f"Your {pct:.0f}% {label} code is inside"),
        "new_arrival": (f"Just in: new {label} picks", f"Fresh {label} arrivals for you",
                        f"The new {label} edit has landed"),
        "editorial": (f"Stories we love: {label}", f"Weekend reading: the {label} journal",
                      f"How we choose our {label} range"),
        "announcement": (f"News from the shop: {label}", f"Opening soon: our {label} pop-up",
                         f"Free delivery on {label} this month"),
        "winback": (f"We miss you - {pct:.0f}% off to come back", f"It's been a while: {pct:.0f}% off",
                    "Still interested? Here is a little something"),
    }[offer]
    return options[k % len(options)]


def build_campaigns(rng: np.random.Generator, start: int, end: int) -> Campaigns:
    """All campaigns with ``start < sent_at <= end`` in send order."""
    rows: list[tuple[int, int, int, float, int, float]] = []
    monday = start - weekday(np.array([start]))[0] * DAY - start % DAY  # 00:00 UTC of start's week
    week = monday
    while week < end:
        peak = 320 <= day_of_year(np.array([week]))[0] <= 358
        n = rng.choice([2, 3, 4], p=[0.3, 0.45, 0.25]) + (1 if peak else 0)
        for d in np.sort(rng.choice(7, n, replace=False)):
            t = week + int(d) * DAY + int(rng.choice(_SEND_HOURS_UTC)) * HOUR + int(rng.integers(0, 12)) * 300
            topic = int(rng.choice(len(TOPICS), p=_TOPIC_P))
            offer = int(rng.choice(4, p=_OFFER_P))
            if topic == TOPICS.index("editorial"):
                offer = OFFERS.index("editorial") if rng.random() < 0.8 else offer
            pct = float(rng.choice(_DISCOUNTS)) if offer == 0 else np.nan
            if peak and offer == 0:
                pct = max(pct, 25.0)
            rows.append((t, topic, offer, pct, BROADCAST, float(rng.uniform(0.35, 1.0))))
        rows.append((week + 10 * HOUR, int(rng.integers(0, 7)), OFFERS.index("announcement"), np.nan, WELCOME, 1.0))
        if (week - monday) // DAY % 28 == 7:
            rows.append((week + DAY + 15 * HOUR, int(rng.integers(0, 7)), OFFERS.index("winback"), 20.0, WINBACK, 1.0))
        week += 7 * DAY
    rows = [r for r in rows if start < r[0] <= end]
    rows.sort(key=lambda r: (r[0], r[4]))
    sent_at = np.array([r[0] for r in rows], dtype=np.int64)
    topic = np.array([r[1] for r in rows], dtype=np.int64)
    offer = np.array([r[2] for r in rows], dtype=np.int64)
    pct = np.array([r[3] for r in rows], dtype=np.float64)
    kind = np.array([r[4] for r in rows], dtype=np.int64)
    audience = np.array([r[5] for r in rows], dtype=np.float64)
    ids, names, subjects, urls, link_cat = [], [], [], [], []
    for i in range(len(rows)):
        cid = f"cmp-{i + 1:05d}"
        ids.append(cid)
        day = np.datetime64(int(sent_at[i]), "s").astype("datetime64[D]")
        tname, oname = TOPICS[topic[i]], OFFERS[offer[i]]
        if kind[i] == WELCOME:
            names.append(f"Welcome series {day}")
            subjects.append("Welcome! Here is what to expect from us")
        elif kind[i] == WINBACK:
            names.append(f"Win-back {day}")
            subjects.append(_subject("winback", tname, pct[i], i))
        else:
            names.append(f"{day} {tname} {oname}")
            subjects.append(_subject(oname, tname, pct[i], i))
        main = TOPIC_TO_CATEGORY[topic[i]]
        other = int((main + rng.integers(1, len(CATEGORIES))) % len(CATEGORIES))
        for k, cat in enumerate((main, main, other)):
            urls.append(f"https://shop.example.com/{CATEGORIES[cat]}/?utm_source=email&utm_campaign={cid}&link={k + 1}")
            link_cat.append(cat)
    return Campaigns(ids, sent_at, topic, offer, pct, kind, audience, names, subjects, urls,
                     np.array(link_cat, dtype=np.int64))
