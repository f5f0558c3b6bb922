"""Web analytics events (history only): sessions of page views, product views, searches and carts.

Four kinds of session: a known person's own browsing (``web_rate`` sessions a year at their local
habit, some adding to cart and abandoning it, most of all window shoppers), visits after an e-mail
click (landing page + product views in the clicked category), the visit that precedes each web/app
order (product views, add to cart, checkout) and anonymous traffic (``anonymous_id`` only).
Nobody visits after going quiet. Events come out session by session (sessions in order of their start,
events in order inside a session), numbered with ``session_id`` and ``event_id``.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .clock import YEAR, ZoneClock, snap_to_habit
from .commerce import Catalogue, Orders, draw_categories
from .personas import CATEGORIES, DEVICES, WEB_EVENT_TYPES
from .population import Population, engagement_multiplier
from .tables import TableFactory, cat, prefixed, ts

PAGE, PRODUCT, CART, CHECKOUT, SEARCH = range(5)
_URL_BASE = ("https://shop.example.com/", "https://shop.example.com/p/", "https://shop.example.com/cart",
             "https://shop.example.com/checkout", "https://shop.example.com/search?q=")


def _layout(lengths: np.ndarray):
    """Session index and position for every event of sessions with the given lengths."""
    sess = np.repeat(np.arange(len(lengths)), lengths)
    first = np.r_[0, np.cumsum(lengths)[:-1]]
    return sess, np.arange(len(sess)) - first[sess]


def _products(rng: np.random.Generator, cat: Catalogue, category: np.ndarray) -> np.ndarray:
    k = len(cat.price) // len(CATEGORIES)
    return category * k + (k * rng.random(len(category)) ** 1.6).astype(np.int64)


def _browse(rng, person, start, device, cat_w, cart_p, catalogue):
    S = len(person)
    lengths = 1 + rng.poisson(2.2, S)
    cart = rng.random(S) < cart_p
    checkout = cart & (rng.random(S) < 0.3)
    lengths = lengths + cart + checkout
    sess, pos = _layout(lengths)
    category = draw_categories(rng, cat_w)
    u = rng.random(len(sess))
    types = np.where(u < 0.75, PRODUCT, np.where(u < 0.9, SEARCH, PAGE))
    types[pos == 0] = PAGE
    end = np.cumsum(lengths) - 1
    types[end[checkout]] = CHECKOUT
    types[end[cart & ~checkout]] = CART
    types[end[checkout] - 1] = CART
    return sess, pos, category, types


def simulate_web(pop: Population, orders: Orders, clicks, clock: ZoneClock, catalogue: Catalogue,
                 rng: np.random.Generator, start: int, as_of: int) -> dict[str, np.ndarray]:
    """Columns of all web events up to ``as_of`` (person -1 for anonymous rows, anon -1 for known)."""
    rows: list[dict[str, np.ndarray]] = []
    sessions_start: list[np.ndarray] = []
    counter = [0]

    def emit(sess, pos, start_t, person, anon, device, category, types, products):
        """Per-session arrays (start_t, person, anon, device) and per-event ones (the rest)."""
        sessions_start.append(start_t)
        t = start_t[sess] + pos * 75 + rng.integers(0, 60, len(sess))
        who = person[sess]
        ok = (who < 0) | (t < pop.churned[np.maximum(who, 0)])  # a session cut short by going quiet
        rows.append(dict(session=(sess + counter[0])[ok].astype(np.int32), t=t[ok], person=who[ok].astype(np.int32),
                         anon=anon[sess][ok].astype(np.int32), device=device[sess][ok].astype(np.int8),
                         category=category[ok].astype(np.int8), etype=types[ok].astype(np.int8),
                         product=products[ok].astype(np.int16)))
        counter[0] += len(start_t)

    n = pop.n
    # 1. own browsing
    a = np.maximum(pop.created, start)
    b = np.minimum(pop.churned, as_of)
    lam = pop.web_rate * np.maximum(b - a, 0) / YEAR
    person = np.repeat(np.arange(n), rng.poisson(lam))
    t = a[person] + (rng.random(len(person)) * (b - a)[person]).astype(np.int64)
    keep = rng.random(len(person)) < engagement_multiplier(pop, person, t)
    person, t = person[keep], t[keep]
    t = snap_to_habit(rng, clock, pop.zone[person], pop.hour[person], pop.dow[person], t, sd_hours=3.0)
    keep = (t > a[person]) & (t < b[person]) & (t < as_of - 3600)
    person, t = person[keep], t[keep]
    device = _device(rng, pop.devices[person])
    sess, pos, category, types = _browse(rng, person, t, device, pop.cat_w[person], pop.cart_p[person], catalogue)
    emit(sess, pos, t, person, np.full(len(person), -1), device, category[sess], types,
         _products(rng, catalogue, category[sess]))

    # 2. anonymous traffic
    S = int(0.3 * len(person)) + 1
    t = start + (rng.random(S) * (as_of - 3600 - start)).astype(np.int64)
    anon = rng.integers(0, max(S // 2, 1), S) + 10**8
    device = rng.choice(3, S, p=[0.4, 0.52, 0.08]).astype(np.int8)
    w = np.full((S, len(CATEGORIES)), 1.0)
    sess, pos, category, types = _browse(rng, np.zeros(S, np.int64), t, device, w, np.full(S, 0.1), catalogue)
    emit(sess, pos, t, np.full(S, -1), anon, device, category[sess], types, _products(rng, catalogue, category[sess]))

    # 3. visits after an e-mail click
    cm = clicks.click_time <= as_of - 3600
    cp, ct, ccat = clicks.click_person[cm], clicks.click_time[cm], clicks.click_category[cm]
    lengths = 1 + rng.poisson(1.5, len(cp))
    sess, pos = _layout(lengths)
    types = np.where(pos == 0, PAGE, PRODUCT)
    device = _device(rng, pop.devices[cp])
    emit(sess, pos, ct + 3, cp, np.full(len(cp), -1), device, ccat[sess], types, _products(rng, catalogue, ccat[sess]))

    # 4. the visit before each web / app order
    om = (orders.t <= as_of) & (orders.channel != 1)
    oidx = np.flatnonzero(om)
    n_items = np.bincount(orders.item_order, minlength=len(orders))[oidx]
    lengths = 2 + 2 * n_items
    sess, pos = _layout(lengths)
    first_item = np.r_[0, np.cumsum(np.bincount(orders.item_order, minlength=len(orders)))[:-1]][oidx]
    k = pos - 1
    ni = n_items[sess]
    item = first_item[sess] + np.clip(np.where(k < ni, k, k - ni), 0, ni - 1)
    types = np.where(pos == 0, PAGE, np.where(k < ni, PRODUCT, CART))
    types[np.cumsum(lengths) - 1] = CHECKOUT
    products = orders.item_product[item]
    op = orders.person[oidx]
    device = np.where(orders.channel[oidx] == 2, 1, _device(rng, pop.devices[op]))
    ost = orders.t[oidx] - lengths * 75 - 90
    emit(sess, pos, ost, op, np.full(len(op), -1), device, catalogue.category[products], types, products)
    return _finish(rows, np.concatenate(sessions_start))


def _device(rng, mix):
    u = rng.random(len(mix))
    return ((u > mix[:, 0]).astype(np.int8) + (u > mix[:, 0] + mix[:, 1]).astype(np.int8))


def _finish(rows, session_start):
    """Concatenate, order sessions by start time (events stay in order inside a session), number them."""
    cols = {}
    for k in list(rows[0]):
        cols[k] = np.concatenate([r.pop(k) for r in rows])
    lengths = np.bincount(cols["session"], minlength=len(session_start))
    first = np.r_[0, np.cumsum(lengths)[:-1]]
    by_start = np.argsort(session_start, kind="stable")
    new_first = np.r_[0, np.cumsum(lengths[by_start])[:-1]]
    perm = np.repeat(first[by_start] - new_first, lengths[by_start]) + np.arange(len(cols["t"]))
    for k in list(cols):
        cols[k] = cols[k][perm]
    del perm
    rank = np.empty(len(session_start), np.int32)
    rank[by_start] = np.arange(len(session_start))
    cols["session"] = rank[cols["session"]] + 1
    cols["event_id"] = np.arange(len(cols["t"])) + 1
    cols["product"][~np.isin(cols["etype"], (PRODUCT, CART))] = -1
    return cols


def web_events_table(f: TableFactory, cols: dict[str, np.ndarray], catalogue: Catalogue, dirty: bool) -> pa.Table:
    n = len(cols["t"])
    known = cols["person"] >= 0
    variant = f.dirt.variants("web_events", n, eligible=known) if dirty else None
    et = cols["etype"]
    k = len(catalogue.price)
    n_cat = len(CATEGORIES)
    urls = ([f"{_URL_BASE[PAGE]}{c}" for c in CATEGORIES] + [f"{_URL_BASE[SEARCH]}{c}" for c in CATEGORIES]
            + [_URL_BASE[PRODUCT] + p for p in catalogue.product_id.to_pylist()]
            + [_URL_BASE[CART], _URL_BASE[CHECKOUT]])
    code = np.select([et == PAGE, et == SEARCH, et == PRODUCT, et == CART],
                     [cols["category"], n_cat + cols["category"], 2 * n_cat + cols["product"], 2 * n_cat + k],
                     2 * n_cat + k + 1)
    url = cat(urls, code)
    anon = cols["anon"]
    scrambled = np.maximum(anon, 0).astype(np.int64) * 7919 % 10**9 + 10**9  # visitor number -> opaque id
    table = pa.table({
        "event_type": cat(WEB_EVENT_TYPES, et),
        "occurred_at": ts(cols["t"]),
        "email": f.email(cols["person"], variant),
        "anonymous_id": pc.if_else(pa.array(anon >= 0), prefixed("anon-", scrambled), pa.scalar(None, pa.string())),
        "event_id": prefixed("w-", cols["event_id"]),
        "category": cat(CATEGORIES, cols["category"]),
        "product_id": cat(catalogue.product_id, cols["product"]),
        "device": cat(DEVICES, cols["device"]),
        "url": url,
        "session_id": prefixed("s-", cols["session"]),
    })
    return f.dirt.extra_rows("web_events", table, "event_id", eligible=known) if dirty else table
