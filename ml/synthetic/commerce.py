"""Orders and order items over history + holdout.

Two sources of orders: a person's own buying rhythm (a Poisson process at their baseline share of
``purchase_rate_per_year``, stronger in the gift season for seasonal buyers, fading with lost
interest, at their habitual local hour and weekday), and conversions after campaign clicks (likelier
for frequent buyers, for discounts among discount-sensitive people, and when the clicked category is
their favourite; attributed to the campaign, within minutes to a few days of the click). Nobody buys
after going quiet. Items are drawn from a fixed catalogue near the person's price level, so
``total_amount = sum(quantity * unit_price) - discount_amount``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .clock import DAY, YEAR, ZoneClock, day_of_year, snap_to_habit
from .personas import ADJECTIVES, CATEGORIES, CATEGORY_MEDIAN_PRICE, CATEGORY_NOUNS, ORDER_CHANNELS, ORDER_STATUSES
from .population import Population, engagement_multiplier
from .tables import TableFactory, cat, ts

PRODUCTS_PER_CATEGORY = 60
STATUS_P = (0.91, 0.05, 0.04)  # completed, refunded, cancelled


@dataclass
class Catalogue:
    product_id: pa.Array
    product_name: pa.Array
    category: np.ndarray
    price: np.ndarray  # sorted ascending within each category block
    key: np.ndarray  # category * 1e7 + price in cents, for nearest-price lookup


def build_catalogue(rng: np.random.Generator) -> Catalogue:
    ids, names, cats, prices = [], [], [], []
    for c, cat in enumerate(CATEGORIES):
        p = np.sort(np.round(CATEGORY_MEDIAN_PRICE[c] * rng.lognormal(0.0, 0.75, PRODUCTS_PER_CATEGORY), 0) - 0.01)
        p = np.maximum(p, 1.99)
        for k in range(PRODUCTS_PER_CATEGORY):
            ids.append(f"{cat[:3].upper()}-{k + 1:04d}")
            noun = CATEGORY_NOUNS[c][int(rng.integers(0, len(CATEGORY_NOUNS[c])))]
            names.append(f"{ADJECTIVES[int(rng.integers(0, len(ADJECTIVES)))]} {noun}")
        cats.append(np.full(PRODUCTS_PER_CATEGORY, c))
        prices.append(p)
    category = np.concatenate(cats)
    price = np.concatenate(prices)
    return Catalogue(pa.array(ids), pa.array(names), category, price,
                     category * 10**7 + np.round(price * 100).astype(np.int64))


@dataclass
class Orders:
    person: np.ndarray
    t: np.ndarray
    campaign: np.ndarray  # -1 when not attributed
    discount: np.ndarray
    total: np.ndarray
    channel: np.ndarray  # index into ORDER_CHANNELS
    status: np.ndarray  # index into ORDER_STATUSES
    item_order: np.ndarray  # order index of each item
    item_product: np.ndarray
    item_qty: np.ndarray

    def __len__(self) -> int:
        return len(self.t)


def _season(t: np.ndarray, strength: np.ndarray) -> np.ndarray:
    doy = day_of_year(t)
    return np.where((doy >= 318) & (doy <= 358), strength, 1.0)


def draw_categories(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """One category per row from row-wise probability vectors."""
    cum = np.cumsum(weights, axis=1)
    u = rng.random(len(weights)) * cum[:, -1]
    return (u[:, None] > cum).sum(axis=1).clip(0, weights.shape[1] - 1)


def simulate_orders(pop: Population, camps, clicks, clock: ZoneClock, catalogue: Catalogue, rng: np.random.Generator,
                    start: int, end: int) -> Orders:
    n = pop.n
    # 1. the person's own rhythm
    a = np.maximum(pop.created, start)
    b = np.minimum(pop.churned, end)
    strength = np.maximum(pop.seasonal, 1.5)
    lam = pop.purchase_rate * pop.baseline_share * strength * np.maximum(b - a, 0) / YEAR
    person = np.repeat(np.arange(n), rng.poisson(lam))
    t = a[person] + (rng.random(len(person)) * (b - a)[person]).astype(np.int64)
    accept = rng.random(len(person)) * strength[person] < _season(t, strength[person])
    accept &= rng.random(len(person)) < engagement_multiplier(pop, person, t)
    person, t = person[accept], t[accept]
    t = snap_to_habit(rng, clock, pop.zone[person], pop.hour[person], pop.dow[person], t)
    ok = (t > a[person]) & (t < b[person])
    person, t = person[ok], t[ok]
    promo = rng.random(len(person)) < 0.25 * pop.discount_sens[person]
    pct = np.where(promo, rng.choice([10.0, 15.0, 20.0], len(person)), 0.0)
    first_cat = np.full(len(person), -1)
    campaign = np.full(len(person), -1)

    # 2. conversions after campaign clicks
    cp, ct, cc, ccat = clicks.click_person, clicks.click_time, clicks.click_campaign, clicks.click_category
    pr = pop.purchase_rate[cp]
    cpct = camps.discount_pct[cc]
    disc = ~np.isnan(cpct)
    sens = pop.discount_sens[cp]
    factor = np.where(disc, 0.5 + 1.5 * sens * np.nan_to_num(cpct) / 20.0, 1.0 - 0.6 * sens)
    factor = factor * np.where(ccat == pop.fav_cat[cp], 1.4, 1.0)
    p = (0.05 + 0.6 * pr / (pr + 3.0)) * factor * engagement_multiplier(pop, cp, ct)
    conv = rng.random(len(cp)) < np.clip(p, 0.0, 0.7)
    cp, ct, cc, ccat, cpct = cp[conv], ct[conv], cc[conv], ccat[conv], cpct[conv]
    quick = rng.random(len(cp)) < 0.6
    delay = np.where(quick, 120 + rng.exponential(1500.0, len(cp)),
                     np.minimum(rng.exponential(30 * 3600.0, len(cp)), 4 * DAY))
    ot = ct + delay.astype(np.int64)
    ok = (ot < pop.churned[cp]) & (ot <= end)
    person = np.concatenate([person, cp[ok]])
    t = np.concatenate([t, ot[ok]])
    campaign = np.concatenate([campaign, cc[ok]])
    pct = np.concatenate([pct, np.nan_to_num(cpct[ok])])
    first_cat = np.concatenate([first_cat, np.where(rng.random(ok.sum()) < 0.7, ccat[ok], -1)])

    order = np.lexsort((person, t))
    person, t, campaign, pct, first_cat = person[order], t[order], campaign[order], pct[order], first_cat[order]
    m = len(person)

    # 3. items near the person's price level
    n_items = 1 + rng.poisson(np.clip(pop.aov[person] / 80.0, 0.3, 1.5))
    item_order = np.repeat(np.arange(m), n_items)
    ip = person[item_order]
    icat = draw_categories(rng, pop.cat_w[ip])
    first = np.r_[0, np.cumsum(n_items)[:-1]]
    fc = first_cat >= 0
    icat[first[fc]] = first_cat[fc]
    u = rng.random(len(ip))
    qty = 1 + (u > 0.86).astype(np.int64) + (u > 0.97).astype(np.int64)
    target = pop.aov[ip] / (n_items[item_order] * 1.17) * rng.lognormal(0.0, 0.35, len(ip))
    key = icat * 10**7 + np.round(target * 100).astype(np.int64)
    pos = np.searchsorted(catalogue.key, key).clip(0, len(catalogue.key) - 1)
    lo = (pos - 1).clip(0)
    pos = np.where(catalogue.category[pos] != icat, lo, pos)  # past the end of the block: take its last
    pick_lo = (catalogue.category[lo] == icat) & (np.abs(catalogue.key[lo] - key) < np.abs(catalogue.key[pos] - key))
    product = np.where(pick_lo, lo, pos)
    subtotal = np.bincount(item_order, weights=qty * catalogue.price[product], minlength=m)
    discount = np.round(subtotal * pct / 100.0, 2)
    total = np.round(subtotal - discount, 2)
    uc = rng.random(m)
    channel = np.where(uc < 0.08, 1, np.where(uc < 0.08 + pop.app_p[person], 2, 0))
    status = rng.choice(3, m, p=STATUS_P)
    return Orders(person.astype(np.int32), t, campaign, discount, total, channel, status, item_order, product, qty)


def order_ids(numbers: np.ndarray) -> pa.Array:
    text = pa.array(np.asarray(numbers, np.int64)).cast(pa.string())
    return pc.binary_join_element_wise(pa.scalar("ORD-"), pc.utf8_lpad(text, 8, "0"), "")


def future_outcomes(orders: Orders, n: int, as_of: int, end: int) -> dict[str, np.ndarray]:
    """Per-person order outcomes over the holdout (cancelled orders do not count as orders)."""
    fut = (orders.t > as_of) & (orders.t <= end)
    counted = fut & (orders.status != 2)
    p = orders.person
    rel = orders.t - as_of
    return {
        "future_orders": np.bincount(p[counted], minlength=n),
        "future_revenue": np.round(np.bincount(p[fut & (orders.status == 0)],
                                               weights=orders.total[fut & (orders.status == 0)], minlength=n), 2),
        "future_orders_90d": np.bincount(p[counted & (rel <= 90 * DAY)], minlength=n),
        "future_purchase_30d": np.bincount(p[counted & (rel <= 30 * DAY)], minlength=n) > 0,
        "any_order_90d": np.bincount(p[fut & (rel <= 90 * DAY)], minlength=n) > 0,
    }



def orders_table(f: TableFactory, orders: Orders, idx: np.ndarray, dirty: bool) -> pa.Table:
    p = orders.person[idx]
    variant = f.dirt.variants("orders", len(idx)) if dirty else None
    table = pa.table({
        "order_id": order_ids(idx + 1),
        "email": f.email(p, variant),
        "ordered_at": ts(orders.t[idx]),
        "total_amount": pa.array(orders.total[idx], pa.float64()),
        "currency": pa.array(np.full(len(idx), "EUR")),
        "discount_amount": pa.array(orders.discount[idx], pa.float64()),
        "channel": cat(ORDER_CHANNELS, orders.channel[idx]),
        "status": cat(ORDER_STATUSES, orders.status[idx]),
        "campaign_id": cat(f.campaign_ids, orders.campaign[idx]),
    })
    return f.dirt.extra_rows("orders", table, "order_id") if dirty else table


def items_table(orders: Orders, catalogue: Catalogue, order_mask: np.ndarray) -> pa.Table:
    sel = np.flatnonzero(order_mask[orders.item_order])
    prod = orders.item_product[sel]
    return pa.table({
        "order_id": order_ids(orders.item_order[sel] + 1),
        "product_id": cat(catalogue.product_id, prod),
        "category": cat(CATEGORIES, catalogue.category[prod]),
        "quantity": pa.array(orders.item_qty[sel], pa.int32()),
        "unit_price": pa.array(catalogue.price[prod], pa.float64()),
        "product_name": catalogue.product_name.take(pa.array(prod)),
    })
