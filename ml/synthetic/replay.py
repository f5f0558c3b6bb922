"""Replay a generated world with other random draws: the same people and campaigns, a different future.

A world's ``truth/meta.json`` names its seed, and from the seed the generator rebuilds the very people
(every planted trait) and campaigns (:func:`ml.synthetic.world.planted_world`). What each person then
*does* -- which mails reach them, what they open, click and buy, when -- is drawn from random streams
of their own. :meth:`WorldReplay.outcomes` runs the e-mail and order simulation again on those people with
other streams (``draw``) and returns the per-person outcomes of the held-back period, the same ones
``truth/subscribers.parquet`` holds for the world as it was written.

Averaged over many replays, an outcome gives its *expectation given every planted trait*: what the
best possible model -- one that knew each person's purchase rate, basket, propensities, tastes, quiet
date and the campaigns to come -- would predict. Scored against the world's real future, that is the
ceiling of any prediction from this world's data, up to what a person's own realised history (an
unsubscribe, say) adds beyond their traits (``benchmarks/planted_oracle.py``). With
``draw=None`` the replay uses the world's own streams and gives back its truth exactly (tested).

Only e-mail and orders are replayed (web visits do not feed orders); nothing is written.
"""

from __future__ import annotations

import numpy as np

from .clock import DAY, ZoneClock, parse_instant
from .commerce import build_catalogue, future_outcomes, simulate_orders
from .email_activity import simulate_email
from .personas import ZONES
from .world import DEFAULT_EVENTS_PER_SUBSCRIBER, _stream, planted_world

__all__ = ["WorldReplay"]


class _Discard:
    """An e-mail event sink that keeps nothing (a replay needs only the clicks and consent changes)."""

    def add_campaign(self, campaign, parts) -> None:
        pass


class WorldReplay:
    """The fixed part of a world (people, campaigns, clock, catalogue), built once for many replays."""

    def __init__(self, meta: dict):
        self.seed = int(meta["seed"])
        self.as_of = parse_instant(meta["as_of"])
        self.start = self.as_of - int(meta["history_days"]) * DAY
        self.end = self.as_of + int(meta["holdout_days"]) * DAY
        self.pop, self.camps = planted_world(meta)
        self.clock = ZoneClock(tuple(z.name for z in ZONES), int(min(self.pop.created.min(), self.start)) - DAY,
                               self.end + 30 * DAY)
        self.catalogue = build_catalogue(_stream(self.seed, 4))
        per_subscriber = float(meta.get("events_per_subscriber", DEFAULT_EVENTS_PER_SUBSCRIBER))
        self.events_target = per_subscriber * int(meta["history_days"]) / 540.0

    def outcomes(self, draw: int | None = None) -> dict[str, np.ndarray]:
        """Per-person outcomes of the held-back period (``future_orders``, ``future_revenue``,
        ``future_orders_90d``, ``future_purchase_30d``, ``any_order_90d``) in one replay.

        ``draw`` picks the random streams: None is the world's own (its truth), any integer another
        future. The same ``draw`` gives the same outcomes.
        """
        if draw is None:
            email_seed, order_rng = self.seed, _stream(self.seed, 5)
        else:  # streams of their own, apart from every stream the generator draws from
            seq = np.random.SeedSequence([self.seed, 1_000_003, int(draw)])
            email_seed = int(seq.generate_state(1, np.uint64)[0] >> np.uint64(1))
            order_rng = np.random.Generator(np.random.PCG64(seq.spawn(1)[0]))
        email = simulate_email(self.pop, self.camps, self.clock, _Discard(), email_seed, self.start, self.as_of,
                               self.events_target)
        orders = simulate_orders(self.pop, self.camps, email, self.clock, self.catalogue, order_rng,
                                 self.start, self.end)
        return future_outcomes(orders, self.pop.n, self.as_of, self.end)

