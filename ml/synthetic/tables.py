"""Arrow schemas of the landing entities (contract column names) and numpy-to-Arrow conversion.

Categorical text columns of the big entities are Arrow dictionary arrays (written to Parquet without
the Arrow schema, so every reader sees plain strings) and addresses are a ``take`` on the
population's address array (clean spellings followed by dirty ones), so no per-row Python objects
are ever created.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .dirty import Dirt, email_variants
from .personas import (BOUNCE_TYPES, CATEGORIES, DEVICES, DOMAINS, EMAIL_EVENT_TYPES, FIRST_NAMES_F,
                       FIRST_NAMES_M, LAST_NAMES, OFFERS, TOPICS)
from .population import NEVER, Population

TS = pa.timestamp("us", tz="UTC")
S = pa.string()

SCHEMAS: dict[str, pa.Schema] = {
    "subscribers": pa.schema([
        ("email", S), ("created_at", TS), ("subscriber_id", S), ("first_name", S), ("last_name", S),
        ("signup_source", S), ("country", S), ("region", S), ("city", S), ("postal_code", S),
        ("timezone", S), ("birth_year", pa.int32()), ("gender", S), ("consent_status", S),
        ("consent_updated_at", TS), ("updated_at", TS)]),
    "campaigns": pa.schema([
        ("campaign_id", S), ("sent_at", TS), ("name", S), ("subject", S), ("channel", S),
        ("content_topic", S), ("offer_type", S), ("discount_pct", pa.float64()), ("is_automated", pa.bool_())]),
    "email_events": pa.schema([
        ("email", S), ("event_type", S), ("occurred_at", TS), ("event_id", S), ("campaign_id", S),
        ("device", S), ("is_machine_open", pa.bool_()), ("url", S), ("link_category", S), ("bounce_type", S)]),
    "orders": pa.schema([
        ("order_id", S), ("email", S), ("ordered_at", TS), ("total_amount", pa.float64()), ("currency", S),
        ("discount_amount", pa.float64()), ("channel", S), ("status", S), ("campaign_id", S)]),
    "order_items": pa.schema([
        ("order_id", S), ("product_id", S), ("category", S), ("quantity", pa.int32()),
        ("unit_price", pa.float64()), ("product_name", S)]),
    "web_events": pa.schema([
        ("event_type", S), ("occurred_at", TS), ("email", S), ("anonymous_id", S), ("event_id", S),
        ("category", S), ("product_id", S), ("device", S), ("url", S), ("session_id", S)]),
    "preferences": pa.schema([
        ("email", S), ("updated_at", TS), ("topics", S), ("frequency", S), ("paused_until", TS)]),
}


def ts(seconds: np.ndarray) -> pa.Array:
    """Epoch seconds to timestamp[us, UTC]; NEVER becomes NULL."""
    seconds = np.asarray(seconds, dtype=np.int64)
    missing = seconds >= NEVER
    return pa.array(np.where(missing, 0, seconds) * 1_000_000, type=TS, mask=missing if missing.any() else None)


def pick(values, idx: np.ndarray) -> pa.Array:
    """``values[idx]`` as strings; negative indices become NULL."""
    values = values if isinstance(values, pa.Array) else pa.array(list(values), type=S)
    idx = np.asarray(idx, dtype=np.int64)
    neg = idx < 0
    return values.take(pa.array(np.where(neg, 0, idx), mask=neg if neg.any() else None))


def cat(values, idx: np.ndarray) -> pa.Array:
    """Like :func:`pick` but dictionary-encoded (no per-row strings; written to Parquet as plain strings).

    ``values`` must be unique: Parquet's dictionary path misbehaves on repeated dictionary values."""
    values = values if isinstance(values, pa.Array) else pa.array(list(values), type=S)
    idx = np.asarray(idx)
    neg = idx < 0
    indices = pa.array(np.where(neg, 0, idx).astype(np.int32), mask=neg if neg.any() else None)
    return pa.DictionaryArray.from_arrays(indices, values)


def prefixed(prefix: str, numbers: np.ndarray) -> pa.Array:
    return pc.binary_join_element_wise(pa.scalar(prefix), pa.array(np.asarray(numbers, np.int64)).cast(S), "")


def bools(codes: np.ndarray) -> pa.Array:
    """-1 NULL, 0 false, 1 true."""
    codes = np.asarray(codes)
    neg = codes < 0
    return pa.array(codes > 0, mask=neg if neg.any() else None)


def clean_addresses(pop: Population) -> pa.Array:
    """Deterministic unique addresses: ``first.last123@example.com`` and two other local-part styles."""
    first = first_names(pop)
    last = pick(LAST_NAMES, pop.last)
    num = pa.array(pop.addr_number.astype(np.int64)).cast(S)
    dom = pick(DOMAINS, pop.domain)
    at = pa.scalar("@")
    f0 = pc.binary_join_element_wise(first, pa.scalar("."), last, num, at, dom, "")
    f1 = pc.binary_join_element_wise(first, last, num, at, dom, "")
    f2 = pc.binary_join_element_wise(pc.utf8_slice_codeunits(first, 0, 1), pa.scalar("_"), last, num, at, dom, "")
    fmt = pop.addr_format
    return pc.if_else(pa.array(fmt == 0), f0, pc.if_else(pa.array(fmt == 1), f1, f2))


def first_names(pop: Population) -> pa.Array:
    """Lower-case first names."""
    names = pa.array(list(FIRST_NAMES_F) + list(FIRST_NAMES_M), S)
    return names.take(pa.array(np.where(pop.female, pop.first, len(FIRST_NAMES_F) + pop.first)))


class TableFactory:
    """Shared dictionaries (addresses, campaign ids, links) and the per-entity row builders."""

    def __init__(self, pop: Population, campaign_ids: list[str], link_urls: list[str],
                 link_category: np.ndarray, dirt: Dirt) -> None:
        self.n = pop.n
        self.clean = clean_addresses(pop)
        self.addresses = email_variants(self.clean)
        self.campaign_ids = pa.array(campaign_ids, S)
        self.link_urls = pa.array(link_urls, S)
        self.link_category = np.asarray(link_category)  # category index per link
        self.dirt = dirt

    def email(self, person: np.ndarray, variant: np.ndarray | None = None) -> pa.Array:
        idx = np.asarray(person, dtype=np.int64)
        if variant is not None:
            idx = np.where(idx < 0, -1, idx + self.n * variant)
        return pick(self.addresses, idx)

    def email_events(self, cols: dict[str, np.ndarray], dirty: bool) -> pa.Table:
        n = len(cols["person"])
        variant = self.dirt.variants("email_events", n) if dirty else None
        link = cols["link"]
        table = pa.table({
            "email": self.email(cols["person"], variant),
            "event_type": cat(EMAIL_EVENT_TYPES, cols["etype"]),
            "occurred_at": ts(cols["t"]),
            "event_id": prefixed("ev-", cols["event_id"]),
            "campaign_id": cat(self.campaign_ids, cols["campaign"]),
            "device": cat(DEVICES, cols["device"]),
            "is_machine_open": bools(cols["machine"]),
            "url": cat(self.link_urls, link),
            "link_category": cat(CATEGORIES, np.where(link < 0, -1, self.link_category[np.maximum(link, 0)])),
            "bounce_type": cat(BOUNCE_TYPES, cols["btype"]),
        })
        return self.dirt.extra_rows("email_events", table, "event_id") if dirty else table


def campaigns_table(camps, idx: np.ndarray) -> pa.Table:
    pct = camps.discount_pct[idx]
    return pa.table({
        "campaign_id": pa.array([camps.campaign_id[i] for i in idx], S),
        "sent_at": ts(camps.sent_at[idx]),
        "name": pa.array([camps.name[i] for i in idx], S),
        "subject": pa.array([camps.subject[i] for i in idx], S),
        "channel": pa.array(["email"] * len(idx), S),
        "content_topic": pick(TOPICS, camps.topic[idx]),
        "offer_type": pick(OFFERS, camps.offer[idx]),
        "discount_pct": pa.array(pct, pa.float64(), mask=np.isnan(pct)),
        "is_automated": pa.array(camps.is_automated[idx]),
    }, schema=SCHEMAS["campaigns"])


class EmailEventSink:
    """Collects per-campaign event arrays; every ~``flush_rows`` rows: ids, split at as_of, write.

    Rows up to ``as_of`` go (dirtied) to the landing writer, rows in ``(as_of, end]`` (clean) to the
    truth writer, later rows are dropped. Per-person holdout outcomes are counted on the way.
    """

    COLS = ("person", "etype", "t", "device", "machine", "link", "btype")

    def __init__(self, factory: TableFactory, landing, truth, as_of: int, end: int,
                 flush_rows: int = 1_000_000) -> None:
        self.factory, self.landing, self.truth = factory, landing, truth
        self.as_of, self.end, self.flush_rows = as_of, end, flush_rows
        n = factory.n
        self.future_sends = np.zeros(n, np.int64)
        self.future_real_opens = np.zeros(n, np.int64)
        self.future_clicks = np.zeros(n, np.int64)
        self.future_email_active_90d = np.zeros(n, bool)
        self.rows_total = 0
        self._parts: list[dict[str, np.ndarray]] = []
        self._pending = 0

    def add_campaign(self, campaign: int, parts) -> None:
        cols: dict[str, list[np.ndarray]] = {k: [] for k in self.COLS + ("campaign",)}
        for part in parts:
            person = np.asarray(part[0])
            m = len(person)
            if m == 0:
                continue
            for name, value in zip(self.COLS, part):
                cols[name].append(np.broadcast_to(np.asarray(value), (m,)))
            cols["campaign"].append(np.full(m, campaign))
        if not cols["person"]:
            return
        batch = {k: np.concatenate(v) for k, v in cols.items()}
        self._parts.append(batch)
        self._pending += len(batch["person"])
        if self._pending >= self.flush_rows:
            self.flush()

    def flush(self) -> None:
        if not self._parts:
            return
        cols = {k: np.concatenate([p[k] for p in self._parts]) for k in self._parts[0]}
        self._parts, self._pending = [], 0
        m = len(cols["t"])
        cols["event_id"] = np.arange(self.rows_total, self.rows_total + m) + 1
        self.rows_total += m
        t = cols["t"]
        past = t <= self.as_of
        future = ~past & (t <= self.end)
        if past.any():
            self.landing.write(self.factory.email_events({k: v[past] for k, v in cols.items()}, dirty=True))
        if future.any():
            fut = {k: v[future] for k, v in cols.items()}
            self.truth.write(self.factory.email_events(fut, dirty=False))
            n = self.factory.n
            p, e = fut["person"], fut["etype"]
            real_open = (e == 2) & (fut["machine"] == 0)
            self.future_sends += np.bincount(p[e == 0], minlength=n)
            self.future_real_opens += np.bincount(p[real_open], minlength=n)
            self.future_clicks += np.bincount(p[e == 3], minlength=n)
            act = (real_open | (e == 3)) & (fut["t"] <= self.as_of + 90 * 86_400)
            self.future_email_active_90d[p[act]] = True
