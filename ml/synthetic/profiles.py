"""Subscriber records (the full list + a later updates file) and preference-centre rows.

``subscribers-0001`` holds everyone as they signed up (``updated_at = created_at``; double opt-in
people still ``pending``). ``subscribers-0002-updates`` holds full later snapshots of a few % of people,
each with a later ``updated_at``: opt-in confirmations, moves to another city, consent withdrawn in
the account settings (``unsubscribed``) and some given again (``subscribed``), people coming back after
an e-mail unsubscribe (``subscribed`` with a newer ``consent_updated_at``) and addresses ``cleaned``
after a hard bounce. A snapshot's consent reflects account-level changes only, so an e-mail
unsubscribe is *not* undone by a later, unrelated snapshot (its ``consent_updated_at`` is older).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .personas import FREQUENCIES, GENDERS, LAST_NAMES, SIGNUP_SOURCES, TOPICS, ZONES
from .population import NEVER, Population
from .tables import SCHEMAS, TableFactory, first_names, pick, ts

SUBSCRIBED, UNSUBSCRIBED, CLEANED, PENDING = range(4)
CONSENT = ("subscribed", "unsubscribed", "cleaned", "pending")
UPDATE_KINDS = ("confirmed", "moved", "unsubscribed_in_settings", "resubscribed_in_settings",
                "resubscribed_after_unsubscribe", "cleaned_after_hard_bounce")

_CITIES = [(z, *c) for z in range(len(ZONES)) for c in ZONES[z].cities]
_CITY_OFFSET = np.r_[0, np.cumsum([len(z.cities) for z in ZONES])[:-1]]


def subscriber_ids(person: np.ndarray) -> pa.Array:
    text = pa.array(np.asarray(person, np.int64) + 1).cast(pa.string())
    return pc.binary_join_element_wise(pa.scalar("SUB"), pc.utf8_lpad(text, 7, "0"), "")


def _postal(city_global: np.ndarray, rand: np.ndarray) -> pa.Array:
    prefix = pick([c[3] for c in _CITIES], city_global)
    digits = np.array([c[4] for c in _CITIES])[city_global]
    out = prefix
    for d in np.unique(digits):
        if d == 0:
            continue
        num = pc.utf8_lpad(pa.array(rand % 10**int(d)).cast(pa.string()), int(d), "0")
        out = pc.if_else(pa.array(digits == d), pc.binary_join_element_wise(prefix, num, ""), out)
    return out


def _consent_at(pop: Population, p: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Account-level consent status and its last change at time x."""
    status = np.where(x < pop.confirm[p], PENDING,
                      np.where((pop.unsub_at[p] <= x) & (x < pop.resub_at[p]), UNSUBSCRIBED, SUBSCRIBED))
    changes = np.stack([pop.created[p], pop.confirm[p], pop.unsub_at[p], pop.resub_at[p]])
    changes = np.where(changes <= x, changes, -1)
    return status, changes.max(axis=0)


def subscriber_rows(f: TableFactory, pop: Population, p: np.ndarray, x: np.ndarray, status: np.ndarray,
                    consent_at: np.ndarray, variant: np.ndarray | None) -> pa.Table:
    """Full subscriber snapshots of people ``p`` as of times ``x``."""
    moved = pop.moved_at[p] <= x
    city = np.where(moved, pop.new_city[p], pop.city[p]).astype(np.int64)
    cg = _CITY_OFFSET[pop.zone[p]] + city
    rand = np.where(moved, (pop.postal_rand[p] * 7 + 13) % 10**6, pop.postal_rand[p])
    first = pc.utf8_capitalize(first_names(pop).take(pa.array(p)))
    last = pc.utf8_capitalize(pick(LAST_NAMES, pop.last[p]))
    known = pa.array(pop.names_known[p])
    null = pa.scalar(None, pa.string())
    return pa.table({
        "email": f.email(p, variant),
        "created_at": ts(pop.created[p]),
        "subscriber_id": subscriber_ids(p),
        "first_name": pc.if_else(known, first, null),
        "last_name": pc.if_else(known, last, null),
        "signup_source": pick(SIGNUP_SOURCES, pop.signup_source[p]),
        "country": pick([z.country for z in ZONES], pop.zone[p]),
        "region": pick([c[2] for c in _CITIES], cg),
        "city": pick([c[1] for c in _CITIES], cg),
        "postal_code": _postal(cg, rand),
        "timezone": pick([z.name for z in ZONES], np.where(pop.tz_known[p], pop.zone[p], -1)),
        "birth_year": pa.array(pop.birth_year[p], pa.int32(), mask=pop.birth_year[p] < 0),
        "gender": pick(GENDERS, pop.gender[p]),
        "consent_status": pick(CONSENT, status),
        "consent_updated_at": ts(consent_at),
        "updated_at": ts(x),
    }, schema=SCHEMAS["subscribers"])


def subscribers_initial(f: TableFactory, pop: Population) -> pa.Table:
    p = np.arange(pop.n)
    status = np.where(pop.confirm > pop.created, PENDING, SUBSCRIBED)
    table = subscriber_rows(f, pop, p, pop.created, status, pop.created, f.dirt.variants("subscribers", pop.n))
    return f.dirt.extra_rows("subscribers", table, "subscriber_id")


def subscribers_updates(f: TableFactory, pop: Population, email, as_of: int,
                        rng: np.random.Generator) -> tuple[pa.Table, dict[str, int]]:
    people, times, kinds, forced = [], [], [], []

    def add(kind: int, p: np.ndarray, x: np.ndarray, status: int = -1) -> None:
        ok = x <= as_of
        people.append(p[ok]); times.append(x[ok]); kinds.append(np.full(ok.sum(), kind))  # noqa: E702
        forced.append(np.full(ok.sum(), status))

    pend = np.flatnonzero((pop.confirm > pop.created) & (pop.confirm < NEVER))
    add(0, pend, pop.confirm[pend])
    mv = np.flatnonzero(pop.moved_at < NEVER)
    add(1, mv, pop.moved_at[mv])
    un = np.flatnonzero(pop.unsub_at < NEVER)
    add(2, un, pop.unsub_at[un])
    add(3, un, pop.resub_at[un])
    back = email.resub_time < NEVER
    add(4, email.unsub_person[back].astype(np.int64), email.resub_time[back], SUBSCRIBED)
    hb = np.unique(email.hard_person)
    first_hard = np.full(pop.n, NEVER)
    np.minimum.at(first_hard, email.hard_person, email.hard_time)
    hb = hb[rng.random(len(hb)) < 0.5]
    add(5, hb, first_hard[hb] + 86_400, CLEANED)
    p = np.concatenate(people).astype(np.int64)
    x = np.concatenate(times)
    kind = np.concatenate(kinds)
    force = np.concatenate(forced)
    order = np.lexsort((p, x))
    p, x, kind, force = p[order], x[order], kind[order], force[order]
    status, changed = _consent_at(pop, p, x)
    status = np.where(force >= 0, force, status)
    changed = np.where(force >= 0, x, changed)
    table = subscriber_rows(f, pop, p, x, status, changed, f.dirt.variants("subscribers", len(p)))
    counts = {k: int((kind == i).sum()) for i, k in enumerate(UPDATE_KINDS)}
    return table, counts


def preferences_table(f: TableFactory, pop: Population, as_of: int) -> pa.Table:
    p = np.flatnonzero(pop.pref_at <= as_of)
    labels = [";".join(t for b, t in enumerate(TOPICS) if m >> b & 1) or None for m in range(1 << len(TOPICS))]
    table = pa.table({
        "email": f.email(p, f.dirt.variants("preferences", len(p))),
        "updated_at": ts(pop.pref_at[p]),
        "topics": pa.array(labels, pa.string()).take(pa.array(pop.topic_mask[p])),
        "frequency": pick(FREQUENCIES, pop.frequency[p]),
        "paused_until": ts(pop.paused_until[p]),
    }, schema=SCHEMAS["preferences"])
    return f.dirt.extra_rows("preferences", table, None)
