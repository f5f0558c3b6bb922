"""E-mail simulation: one vectorised step per campaign, in send order, over history and holdout.

Per campaign: pick the recipients among people signed up, confirmed and mailable at send time (the
sender mails some people more often than others: a personal intensity, changed by a frequency
preference, and topic preferences filter broadcasts), then draw for each recipient ``sent`` and
``delivered`` (or a soft / hard ``bounce``), privacy-proxy machine opens (a few seconds after
delivery, for people whose mail client prefetches, whatever their interest), real ``open``s at the
person's own local hour, ``click``s, ``unsubscribe`` and ``spam_complaint``. Real responses depend on
propensity x topic affinity x offer affinity x local send hour x fatigue (recent mail pressure) x
interest decay, and stop once a person has gone quiet (``churned``). Unsubscribes, complaints and hard
bounces make the address unmailable (a few unsubscribers come back later).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .campaigns import BROADCAST, LINKS_PER_CAMPAIGN, WELCOME, Campaigns
from .clock import DAY, HOUR, ZoneClock, engagement_times, local_hour
from .personas import BOUNCE, CLICK, DELIVERED, OFFERS, OPEN, SENT, SPAM, UNSUBSCRIBE
from .population import NEVER, Population, engagement_multiplier

ANNOUNCEMENT = OFFERS.index("announcement")
FATIGUE_TAU = 10 * DAY
ROWS_PER_SEND = 2.5  # calibrates the send volume (measured rows per send ~2.6: lands at ~54 rows per person)


@dataclass
class EmailOutcome:
    """What later phases need: clicks (for orders and web visits) and consent changes."""

    click_person: list = field(default_factory=list)
    click_time: list = field(default_factory=list)
    click_campaign: list = field(default_factory=list)
    click_category: list = field(default_factory=list)
    unsub_person: list = field(default_factory=list)
    unsub_time: list = field(default_factory=list)
    resub_time: list = field(default_factory=list)
    hard_person: list = field(default_factory=list)
    hard_time: list = field(default_factory=list)
    spam_person: list = field(default_factory=list)
    spam_time: list = field(default_factory=list)

    def finish(self) -> None:
        for name, value in list(self.__dict__.items()):
            dtype = np.int32 if name.endswith(("person", "campaign", "category")) else np.int64
            setattr(self, name, np.concatenate(value).astype(dtype) if value else np.zeros(0, dtype))


def _send_scale(pop: Population, camps: Campaigns, start: int, as_of: int, events_per_person: float) -> float:
    """Global sampling scale so that history sends ~ events_per_person / ROWS_PER_SEND per person."""
    hist = (camps.sent_at <= as_of)
    k = np.searchsorted(pop.created, camps.sent_at)
    cum = np.concatenate([[0.0], np.cumsum(pop.intensity)])
    broadcast = hist & (camps.kind == BROADCAST)
    weight = (camps.audience[broadcast] * cum[k[broadcast]]).sum()
    welcome = ((pop.created > start) & (pop.created <= as_of)).sum()
    target = pop.n * events_per_person / ROWS_PER_SEND - welcome
    return float(max(target, 0.0) / max(weight, 1e-9))


def _device(rng: np.random.Generator, mix: np.ndarray) -> np.ndarray:
    u = rng.random(len(mix))
    return (u > mix[:, 0]).astype(np.int8) + (u > mix[:, 0] + mix[:, 1]).astype(np.int8)


def _recipients(rng, pop, camps, c, t, k, scale, imax, last_engaged):
    kind = camps.kind[c]
    if kind == BROADCAST:
        p = scale * camps.audience[c] * imax[:k]
        cand = np.flatnonzero(rng.random(k) < p)
        use_pref = t >= pop.pref_at[cand]
        actual = np.where(use_pref, pop.intensity_pref[cand], pop.intensity[cand])
        keep = rng.random(len(cand)) < actual / imax[cand]
        mask = pop.topic_mask[cand]
        if camps.offer[c] != ANNOUNCEMENT:  # topic choices filter all but announcements
            keep &= ~(use_pref & (mask != 0) & (((mask >> camps.topic[c]) & 1) == 0))
        cand = cand[keep]
    elif kind == WELCOME:
        cand = np.arange(np.searchsorted(pop.created, t - 7 * DAY), k)
    else:  # WINBACK
        cand = np.flatnonzero((pop.created[:k] < t - 180 * DAY) & (last_engaged[:k] < t - 120 * DAY))
        cand = cand[rng.random(len(cand)) < 0.6]
    ok = (pop.confirm[cand] <= t) & ~((pop.unsub_at[cand] <= t) & (t < pop.resub_at[cand]))
    ok &= ~((pop.pref_at[cand] <= t) & (t < pop.paused_until[cand]))
    return cand[ok]


def campaign_interest(pop: Population, camps: Campaigns, c: int, R: np.ndarray,
                      topic_weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(topic affinity, offer affinity) of people ``R`` for campaign ``c``: the multipliers of their open
    (to the powers 0.35 and 0.3) and click (to the power 1) probabilities. ``topic_weights`` (people x
    topics, default the planted ``pop.topic_w``) lets a benchmark put other weights in their place."""
    weights = pop.topic_w if topic_weights is None else topic_weights
    topic_aff = np.clip(8.0 * weights[R, camps.topic[c]], 0.05, 4.0)
    offer_aff = pop.offer_mult[R, camps.offer[c]]
    pct = camps.discount_pct[c]
    if not np.isnan(pct):
        offer_aff = offer_aff * (0.4 + 1.2 * pop.discount_sens[R] * pct / 20.0)
    return topic_aff, offer_aff


def planted_click_probability(pop: Population, camps: Campaigns, c: int, R: np.ndarray,
                              topic_weights: np.ndarray | None = None) -> np.ndarray:
    """Probability that each of people ``R`` opens and clicks campaign ``c``, as :func:`simulate_email`
    draws it, left out only the local send hour (x 0.85..1.35) and the recent-mail fatigue: what a
    ranking that *knew* the planted propensities, affinities and quiet dates would use. With
    ``topic_weights`` (e.g. ``pop.cat_w``, each person's planted browsing weights over the product
    categories that go with the topics) those replace the planted topic weights: what a ranking would
    use that knew everything but the topic weights, and read them off the browsing perfectly."""
    topic_aff, offer_aff = campaign_interest(pop, camps, c, R, topic_weights)
    alive = engagement_multiplier(pop, R, np.full(len(R), camps.sent_at[c]))
    p_open = np.clip(pop.open_p[R] * topic_aff**0.35 * offer_aff**0.3 * alive, 0.0, 0.97)
    return p_open * np.clip(pop.click_p[R] * topic_aff * offer_aff, 0.0, 0.9)


def simulate_email(pop: Population, camps: Campaigns, clock: ZoneClock, sink, seed: int, start: int,
                   as_of: int, events_per_person: float = 50.0, progress=None) -> EmailOutcome:
    n = pop.n
    out = EmailOutcome()
    scale = _send_scale(pop, camps, start, as_of, events_per_person)
    imax = np.maximum(pop.intensity, pop.intensity_pref)
    blocked = np.zeros(n, dtype=np.int64)
    fatigue = np.zeros(n, dtype=np.float64)
    last_send = np.zeros(n, dtype=np.int64)
    last_engaged = pop.created.copy()
    for c in range(len(camps)):
        if progress is not None and c % 50 == 0 and c:
            progress(f"  e-mail: {c}/{len(camps)} campaigns")
        rng = np.random.Generator(np.random.PCG64([seed, 2, c]))
        t = int(camps.sent_at[c])
        k = int(np.searchsorted(pop.created, t))
        R = _recipients(rng, pop, camps, c, t, k, scale, imax, last_engaged)
        R = R[blocked[R] <= t]
        r = len(R)
        if r == 0:
            continue
        s = t + rng.integers(0, 1200, r)
        F = fatigue[R] * np.exp(-(s - last_send[R]) / FATIGUE_TAU) + 1.0
        fatigue[R] = F
        last_send[R] = s
        hard = pop.dead[R] <= s
        soft = ~hard & (rng.random(r) < 0.006)
        deliv = ~hard & ~soft
        churned = pop.churned[R]
        alive = engagement_multiplier(pop, R, s)
        lh = local_hour(clock, pop.zone[R], s)
        dist = np.abs(lh - pop.hour[R])
        dist = np.minimum(dist, 24 - dist)
        hour_boost = 0.85 + 0.5 * np.exp(-(dist**2) / 4.5)
        topic_aff, offer_aff = campaign_interest(pop, camps, c, R)
        fat = 1.0 / (1.0 + pop.fatigue_sens[R] * np.maximum(F - 1.0, 0.0))
        p_open = pop.open_p[R] * topic_aff**0.35 * offer_aff**0.3 * hour_boost * fat * alive
        if camps.kind[c] == WELCOME:
            p_open = p_open * 1.6
        opened = deliv & (rng.random(r) < np.clip(p_open, 0.0, 0.97))
        o = np.flatnonzero(opened)
        po = R[o]
        first_open = engagement_times(rng, clock, pop.zone[po], pop.hour[po], pop.dow[po], s[o] + 5,
                                      p_dow=pop.dow_habit[po], noise=0.05)
        live = first_open < churned[o]
        o, po, first_open = o[live], po[live], first_open[live]
        last_engaged[po] = np.maximum(last_engaged[po], first_open)
        open_dev = _device(rng, pop.devices[po])
        n_more = rng.poisson(0.3, len(o))
        more = np.repeat(np.arange(len(o)), n_more)
        more_t = first_open[more] + 20 + rng.exponential(0.6 * HOUR, len(more)).astype(np.int64)
        keep_more = more_t < churned[o][more]
        more, more_t = more[keep_more], more_t[keep_more]
        p_click = pop.click_p[po] * topic_aff[o] * offer_aff[o] * np.sqrt(fat[o])
        ck = np.flatnonzero(rng.random(len(o)) < np.clip(p_click, 0.0, 0.9))
        click_t = first_open[ck] + 5 + rng.exponential(90.0, len(ck)).astype(np.int64)
        link = c * LINKS_PER_CAMPAIGN + rng.choice(LINKS_PER_CAMPAIGN, len(ck), p=[0.55, 0.3, 0.15])
        keep_ck = click_t < churned[o[ck]]
        ck, click_t, link = ck[keep_ck], click_t[keep_ck], link[keep_ck]
        n_cmore = rng.poisson(0.3, len(ck))
        cmore = np.repeat(np.arange(len(ck)), n_cmore)
        cmore_t = click_t[cmore] + 10 + rng.exponential(120.0, len(cmore)).astype(np.int64)
        cmore_link = c * LINKS_PER_CAMPAIGN + rng.integers(0, LINKS_PER_CAMPAIGN, len(cmore))
        keep_cm = cmore_t < churned[o[ck[cmore]]]
        cmore, cmore_t, cmore_link = cmore[keep_cm], cmore_t[keep_cm], cmore_link[keep_cm]
        out.click_person.append(po[ck])
        out.click_time.append(click_t)
        out.click_campaign.append(np.full(len(ck), c))
        out.click_category.append(camps.link_category[link])
        # machine opens: privacy-proxy prefetch, independent of interest and of churn
        mo = np.flatnonzero(deliv & pop.mpp[R] & (rng.random(r) < 0.93))
        mo_t = s[mo] + 2 + rng.lognormal(np.log(40.0), 1.0, len(mo)).astype(np.int64)
        # unsubscribes and complaints (only from people still reading)
        pressure = np.maximum(F - 1.0, 0.0)
        p_unsub = (0.0015 * (1.0 + 0.8 * pressure) * np.where(opened, 1.0, 1.5)
                   * (1.6 - 0.4 * np.minimum(topic_aff, 1.5)))
        un = np.flatnonzero(deliv & (alive > 0) & (rng.random(r) < p_unsub))
        read_at = np.zeros(r, dtype=np.int64)
        read_at[o] = first_open  # readers unsubscribe while reading, others from the list header
        un_t = np.where(read_at[un] > 0, read_at[un] + 30 + rng.integers(0, 90, len(un)),
                        s[un] + 60 + rng.exponential(8 * HOUR, len(un)).astype(np.int64))
        sp = np.flatnonzero(deliv & (alive > 0) & (rng.random(r) < 0.00025 * (1.0 + pressure)))
        sp_t = s[sp] + 60 + rng.exponential(10 * HOUR, len(sp)).astype(np.int64)
        un, un_t = un[un_t < churned[un]], un_t[un_t < churned[un]]
        sp, sp_t = sp[sp_t < churned[sp]], sp_t[sp_t < churned[sp]]
        back = rng.random(len(un)) < 0.15
        resub = np.where(back, un_t + (20 * DAY + rng.exponential(90 * DAY, len(un))).astype(np.int64), NEVER)
        blocked[R[hard]] = NEVER
        blocked[R[un]] = resub
        blocked[R[sp]] = NEVER
        out.unsub_person.append(R[un]); out.unsub_time.append(un_t); out.resub_time.append(resub)  # noqa: E702
        out.hard_person.append(R[hard]); out.hard_time.append(s[hard] + 3)  # noqa: E702
        out.spam_person.append(R[sp]); out.spam_time.append(sp_t)  # noqa: E702
        # rows: person, type, time, device, machine (-1 null), link (-1 null), bounce type (-1 null)
        bo = np.flatnonzero(~deliv)
        dl = np.flatnonzero(deliv)
        parts = [
            (R, SENT, s, -1, -1, -1, -1),
            (R[dl], DELIVERED, s[dl] + 1 + rng.integers(0, 30, len(dl)), -1, -1, -1, -1),
            (R[bo], BOUNCE, s[bo] + 3, -1, -1, -1, np.where(hard[bo], 0, 1)),
            (R[mo], OPEN, mo_t, 3, 1, -1, -1),
            (po, OPEN, first_open, open_dev, 0, -1, -1),
            (po[more], OPEN, more_t, open_dev[more], 0, -1, -1),
            (po[ck], CLICK, click_t, open_dev[ck], -1, link, -1),
            (po[ck][cmore], CLICK, cmore_t, open_dev[ck][cmore], -1, cmore_link, -1),
            (R[un], UNSUBSCRIBE, un_t, _device(rng, pop.devices[R[un]]), -1, -1, -1),
            (R[sp], SPAM, sp_t, -1, -1, -1, -1),
        ]
        sink.add_campaign(c, parts)
    out.finish()
    return out
