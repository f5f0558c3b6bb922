"""The people of the synthetic world: one vectorised draw of every person's planted parameters.

Each person belongs to one persona (:mod:`ml.synthetic.personas`) and draws their own parameters
around its centre (beta for probabilities, gamma for rates, lognormal for money), so personas overlap.
People are returned sorted by ``created_at``: everyone signed up by time t is a prefix of the arrays.
Instants are int64 epoch seconds; :data:`NEVER` stands for "does not happen".
"""

from __future__ import annotations

import numpy as np

from .clock import DAY, YEAR
from .personas import (FIRST_NAMES_F, FIRST_NAMES_M, FREQUENCY_MULT, LAST_NAMES, OFFERS, PERSONAS,
                       SIGNUP_SOURCE_P, TOPICS, ZONES, DOMAIN_P)

NEVER = np.int64(2**62)


class Population:
    """Column arrays, one element per person (``n`` of them)."""

    def __init__(self, **columns: np.ndarray) -> None:
        self.__dict__.update(columns)

    @property
    def n(self) -> int:
        return len(self.persona)

    def columns(self) -> dict[str, np.ndarray]:
        return dict(self.__dict__)


def _beta(rng: np.random.Generator, mean: np.ndarray, kappa: float) -> np.ndarray:
    mean = np.clip(mean, 0.005, 0.995)
    return rng.beta(mean * kappa, (1.0 - mean) * kappa)


def _dirichlet_rows(rng: np.random.Generator, alpha: np.ndarray) -> np.ndarray:
    g = rng.gamma(np.maximum(alpha, 1e-3))
    return g / g.sum(axis=1, keepdims=True)


def _persona_table(attr: str) -> np.ndarray:
    return np.array([getattr(p, attr) for p in PERSONAS], dtype=np.float64)


def _uniform_between(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return (lo + rng.random(len(lo)) * np.maximum(hi - lo, 0)).astype(np.int64)


def build_population(n: int, rng: np.random.Generator, start: int, as_of: int, end: int) -> Population:
    """Draw ``n`` people. ``start`` begins the simulated history, ``as_of`` ends it, ``end`` ends the holdout."""
    P = len(PERSONAS)
    persona = rng.choice(P, n, p=_persona_table("share") / _persona_table("share").sum()).astype(np.int8)

    def centre(attr: str) -> np.ndarray:
        return _persona_table(attr)[persona]

    open_p = _beta(rng, centre("open_p"), 9.0)
    click_p = _beta(rng, centre("click_p"), 7.0)
    purchase_rate = rng.gamma(2.0, centre("purchase_rate") / 2.0)
    aov = centre("aov") * rng.lognormal(-0.5 * 0.35**2, 0.35, n)
    discount_sens = _beta(rng, centre("discount_sens"), 6.0)
    hazard = centre("hazard") * rng.lognormal(0.0, 0.5, n)
    mpp = rng.random(n) < centre("mpp")
    web_rate = centre("web_rate") * rng.lognormal(-0.18, 0.6, n)
    cart_p = _beta(rng, centre("cart_p"), 8.0)
    intensity = centre("intensity") * rng.lognormal(-0.03, 0.25, n)
    fatigue_sens = rng.gamma(2.0, centre("fatigue") / 2.0)
    baseline_share = centre("baseline_share")
    seasonal = centre("seasonal")
    app_p = centre("app_p")
    dow_habit = centre("dow_habit")

    devices = _dirichlet_rows(rng, 30.0 * np.array([p.devices for p in PERSONAS])[persona])
    # preferred local hour: a persona centre plus a personal shift; weekday from persona weights
    hour = np.empty(n, dtype=np.int64)
    dow = np.empty(n, dtype=np.int64)
    for k, p in enumerate(PERSONAS):  # loop over personas only
        idx = np.flatnonzero(persona == k)
        hs = np.array([h for h, _ in p.hours])
        hw = np.array([w for _, w in p.hours])
        hour[idx] = hs[rng.choice(len(hs), len(idx), p=hw / hw.sum())]
        dw = np.asarray(p.dows, dtype=np.float64)
        dow[idx] = rng.choice(7, len(idx), p=dw / dw.sum())
    hour = (hour + np.rint(rng.normal(0.0, 0.5, n)).astype(np.int64)) % 24

    topic_centre = np.array([np.asarray(p.topics) / sum(p.topics) for p in PERSONAS])[persona]
    topic_w = _dirichlet_rows(rng, 8.0 * topic_centre)
    cat_w = _dirichlet_rows(rng, 6.0 * (0.6 * topic_w + 0.4 * topic_centre))
    offer_mult = np.array([p.offers for p in PERSONAS])[persona] * rng.lognormal(0.0, 0.25, (n, len(OFFERS)))

    # signup times per persona profile
    profile = np.array([p.signup for p in PERSONAS])[persona]
    u = rng.random(n)
    before = start - (4 * YEAR * rng.random(n)).astype(np.int64)
    inside = start + ((as_of - start) * rng.beta(1.0, 1.15, n)).astype(np.int64)  # few very new signups
    created = np.where(u < 0.68, before, inside)
    old = profile == "old"
    created[old] = np.where(u[old] < 0.75, before[old],
                            _uniform_between(rng, np.full(old.sum(), start), np.full(old.sum(), as_of - 300 * DAY)))
    recent = profile == "recent"
    created[recent] = as_of - (150 * DAY * rng.random(recent.sum())).astype(np.int64)
    created = created - created % 60 + rng.integers(0, 60, n)

    # going quiet for good
    decay_kind = np.array([p.decay for p in PERSONAS])[persona]
    decay_start = np.full(n, NEVER)
    decay_tau = np.full(n, np.inf)
    clock0 = np.maximum(created, start - np.where(persona == PERSONAS.index(_by_name("dormant")), 365, 120) * DAY)
    churned = clock0 + (rng.exponential(1.0, n) / np.maximum(hazard, 1e-6) * YEAR).astype(np.int64)
    lapse = decay_kind == "lapse"
    # lapsing now: interest starts to fade in the last months of the history (or soon after)
    decay_start[lapse] = _uniform_between(rng, np.maximum(created[lapse], as_of - 270 * DAY),
                                          np.full(lapse.sum(), as_of + 30 * DAY))
    decay_tau[lapse] = 90 * DAY * rng.lognormal(0.0, 0.4, lapse.sum())
    fade = (decay_tau[lapse] * rng.gamma(2.0, 1.0, lapse.sum())).astype(np.int64)
    churned[lapse] = np.minimum(churned[lapse], decay_start[lapse] + fade)
    honey = decay_kind == "honeymoon"
    decay_start[honey] = created[honey]
    decay_tau[honey] = 365 * DAY * rng.lognormal(0.0, 0.4, honey.sum())
    churned = np.where(churned > end, NEVER, churned)

    # a dead mailbox hard-bounces from then on
    dead = np.full(n, NEVER)
    r = rng.random(n)
    dead = np.where(r < 0.03, created + (5 * YEAR * rng.random(n)).astype(np.int64), dead)
    dead = np.where(r > 0.996, created, dead)
    quiet = churned < NEVER
    abandon = quiet & (rng.random(n) < 0.2)
    dead = np.where(abandon, np.minimum(dead, churned + rng.exponential(YEAR, n).astype(np.int64)), dead)

    # double opt-in: a few stay pending for a while, some for ever
    confirm = created.copy()
    pending = rng.random(n) < 0.02
    confirm[pending] = np.where(rng.random(pending.sum()) < 0.85,
                                created[pending] + rng.exponential(1.5 * DAY, pending.sum()).astype(np.int64), NEVER)

    # consent changes outside e-mail (account settings): unsubscribed, some come back
    unsub_at = np.full(n, NEVER)
    resub_at = np.full(n, NEVER)
    planned = rng.random(n) < 0.012
    unsub_at[planned] = _uniform_between(rng, created[planned] + 10 * DAY, np.full(planned.sum(), end))
    back = planned & (rng.random(n) < 0.4)
    resub_at[back] = unsub_at[back] + (20 * DAY + rng.exponential(120 * DAY, back.sum())).astype(np.int64)

    # geography: zone -> country, city
    zw = np.array([z.weight for z in ZONES])
    zone = rng.choice(len(ZONES), n, p=zw / zw.sum()).astype(np.int16)
    ncity = np.array([len(z.cities) for z in ZONES])
    city = (rng.random(n) * ncity[zone]).astype(np.int16)
    postal_rand = rng.integers(0, 10**6, n)
    moved = (rng.random(n) < 0.02) & (created < as_of - DAY)
    moved_at = np.full(n, NEVER)
    moved_at[moved] = _uniform_between(rng, created[moved] + DAY, np.full(moved.sum(), as_of))
    new_city = np.where(moved, (city + 1 + (rng.random(n) * ncity[zone]).astype(np.int16)) % ncity[zone], city)
    tz_known = rng.random(n) < 0.85

    # preference centre: frequency, topics, pauses
    has_pref = rng.random(n) < 0.12
    pref_at = np.full(n, NEVER)
    pref_at[has_pref] = _uniform_between(rng, created[has_pref] + 3600, np.full(has_pref.sum(), as_of))
    has_pref &= pref_at <= as_of
    pref_at[~has_pref] = NEVER
    frequency = np.where(has_pref, rng.choice(3, n, p=[0.2, 0.5, 0.3]), 1).astype(np.int8)
    fav_topic = topic_w.argmax(axis=1)
    extra = rng.random((n, len(TOPICS))) < 0.3
    topic_mask = (1 << np.where(rng.random(n) < 0.8, fav_topic, rng.integers(0, len(TOPICS), n))) | \
        (extra * (1 << np.arange(len(TOPICS)))).sum(axis=1)
    topic_mask = np.where(has_pref & (rng.random(n) < 0.45), topic_mask, 0).astype(np.int64)
    paused = has_pref & (rng.random(n) < 0.15)
    paused_until = np.full(n, NEVER)
    paused_until[paused] = pref_at[paused] + (14 * DAY + 186 * DAY * rng.random(paused.sum())).astype(np.int64)
    intensity_pref = intensity * np.asarray(FREQUENCY_MULT)[frequency]

    # names and addresses
    female = rng.random(n) < 0.5
    first = np.where(female, rng.integers(0, len(FIRST_NAMES_F), n), rng.integers(0, len(FIRST_NAMES_M), n))
    gender = np.where(rng.random(n) < 0.15, -1, np.where(female, 0, 1))
    gender = np.where((gender >= 0) & (rng.random(n) < 0.01), 2, gender).astype(np.int8)
    age = np.clip(rng.normal(40.0, 13.0, n), 18, 85)

    cols = dict(
        persona=persona, open_p=open_p, click_p=click_p, purchase_rate=purchase_rate, aov=aov,
        discount_sens=discount_sens, hazard=hazard, mpp=mpp, web_rate=web_rate, cart_p=cart_p,
        intensity=intensity, intensity_pref=intensity_pref, fatigue_sens=fatigue_sens,
        baseline_share=baseline_share, seasonal=seasonal, app_p=app_p, dow_habit=dow_habit, devices=devices,
        hour=hour, dow=dow, topic_w=topic_w, cat_w=cat_w, offer_mult=offer_mult, fav_topic=fav_topic,
        fav_cat=cat_w.argmax(axis=1), fav_offer=offer_mult.argmax(axis=1),
        created=created, churned=churned, decay_start=decay_start, decay_tau=decay_tau, dead=dead,
        confirm=confirm, unsub_at=unsub_at, resub_at=resub_at, zone=zone, city=city, new_city=new_city,
        moved_at=moved_at, postal_rand=postal_rand, tz_known=tz_known, pref_at=pref_at, frequency=frequency,
        topic_mask=topic_mask, paused_until=paused_until, female=female, first=first,
        last=rng.integers(0, len(LAST_NAMES), n), gender=gender,
        birth_year=np.where(rng.random(n) < 0.3, -1, 2026 - age.astype(np.int64)),
        names_known=rng.random(n) < 0.95,
        signup_source=rng.choice(len(SIGNUP_SOURCE_P), n, p=SIGNUP_SOURCE_P),
        domain=rng.choice(len(DOMAIN_P), n, p=DOMAIN_P), addr_format=rng.choice(3, n, p=[0.6, 0.25, 0.15]),
        addr_number=rng.permutation(n) + 10,
    )
    order = np.argsort(created, kind="stable")
    del created, topic_w, cat_w, offer_mult, devices
    for k in list(cols):  # one column at a time, to bound memory
        v = cols.pop(k)[order]
        cols[k] = v.astype(np.float32) if v.ndim == 2 else v
    return Population(**cols)


def _by_name(name: str):
    return next(p for p in PERSONAS if p.name == name)


def engagement_multiplier(pop: Population, idx: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Decay of interest at time t (1 before decay starts); 0 once the person has gone quiet."""
    since = np.maximum(t - pop.decay_start[idx], 0).astype(np.float64)
    m = np.exp(-since / pop.decay_tau[idx])
    return np.where(t < pop.churned[idx], m, 0.0)
