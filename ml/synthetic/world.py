"""Entry point: simulate a world and write its landing folder and ``truth/`` folder."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable

import numpy as np

from .campaigns import Campaigns, build_campaigns
from .clock import DAY, ZoneClock, iso, parse_instant
from .commerce import build_catalogue, future_outcomes, items_table, orders_table, simulate_orders
from .dirty import DEFAULT_RATES, Dirt
from .email_activity import simulate_email
from .personas import PERSONA_NAMES, ZONES
from .population import Population, build_population
from .profiles import preferences_table, subscribers_initial, subscribers_updates
from .tables import SCHEMAS, EmailEventSink, TableFactory, campaigns_table
from .truth import TRUTH_SUBSCRIBER_COLUMNS, truth_subscribers
from .web import simulate_web, web_events_table
from .writer import EntityWriter, write_table

ENTITIES = ("subscribers", "campaigns", "email_events", "orders", "order_items", "web_events", "preferences")
TRUTH_FILES = ("subscribers.parquet", "future_campaigns.parquet", "future_email_events.parquet",
               "future_orders.parquet", "future_order_items.parquet", "meta.json")
GENERATOR_VERSION = "1"
DEFAULT_EVENTS_PER_SUBSCRIBER = 50.0


def _stream(seed: int, k: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64([seed, k]))


def _clear(out: Path) -> None:
    """Remove files a previous run of the generator wrote here (and nothing else)."""
    for entity in ENTITIES:
        for pattern in (f"{entity}-*.parquet", f"{entity}-*.csv"):
            for f in (out / entity).glob(pattern):
                f.unlink()
    for name in TRUTH_FILES:
        (out / "truth" / name).unlink(missing_ok=True)


def _population_and_campaigns(n: int, seed: int, start: int, as_of: int, end: int) -> tuple[Population, Campaigns]:
    return build_population(n, _stream(seed, 1), start, as_of, end), build_campaigns(_stream(seed, 3), start, end)


def planted_world(meta: dict) -> tuple[Population, Campaigns]:
    """The people (with every planted trait, in the order of ``truth/subscribers.parquet``) and campaigns
    of the world that ``truth/meta.json`` describes, rebuilt from its seed: for benchmarks that compare
    a model with what the generator knew (nothing in the product reads this)."""
    as_of = parse_instant(meta["as_of"])
    return _population_and_campaigns(int(meta["n_subscribers"]), int(meta["seed"]),
                                     as_of - int(meta["history_days"]) * DAY, as_of,
                                     as_of + int(meta["holdout_days"]) * DAY)


def generate(n_subscribers: int, seed: int, out_dir: str | Path, fmt: str = "parquet",
             as_of: str = "2026-09-30T23:59:59", history_days: int = 540, holdout_days: int = 180,
             progress: Callable[[str], None] | None = None, *, max_rows_per_file: int = 5_000_000,
             events_per_subscriber: float = DEFAULT_EVENTS_PER_SUBSCRIBER, dirty: bool = True) -> dict:
    """Write a synthetic landing folder (``out_dir/<entity>/``) and its planted answers (``out_dir/truth/``).

    n_subscribers, seed  size of the world; the same seed gives the same bytes
    out_dir              landing folder; files a previous run wrote there are replaced
    fmt                  "parquet" (timestamps as timestamp[us, UTC]) or "csv" (ISO 8601 text)
    as_of                end of the history: later events go to ``truth/`` (no offset = UTC)
    history_days         simulated history before ``as_of``
    holdout_days         simulated period after ``as_of`` (``truth/future_*``)
    progress             called with one short line per phase (and every 50 campaigns)
    max_rows_per_file    big entities are split into numbered files of at most this many rows
    events_per_subscriber  average landing e-mail event rows per subscriber for a 540-day history
                         (scaled with ``history_days``)
    dirty                plant dirty rows (see :mod:`ml.synthetic.dirty`)

    Returns ``{"rows": {entity: rows}, "truth_rows": {file: rows}, "seconds": {phase: s},
    "dirty": {entity: {kind: rows}}, "out_dir": str}``; ``rows["subscribers"]`` counts the first
    subscriber file, ``rows["subscriber_updates"]`` the updates file.
    """
    if n_subscribers < 1:
        raise ValueError("n_subscribers must be at least 1")
    if fmt not in ("parquet", "csv"):
        raise ValueError("fmt must be 'parquet' or 'csv'")
    if history_days < 1 or holdout_days < 0 or max_rows_per_file < 1:
        raise ValueError("history_days must be >= 1, holdout_days >= 0 and max_rows_per_file >= 1")
    started = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _clear(out)
    truth_dir = out / "truth"
    ext = "parquet" if fmt == "parquet" else "csv"
    say = progress or (lambda _line: None)
    t_as_of = parse_instant(as_of)
    start, end = t_as_of - history_days * DAY, t_as_of + holdout_days * DAY
    seconds: dict[str, float] = {}
    rows: dict[str, int] = {}
    truth_rows: dict[str, int] = {}
    clock_t = [time.perf_counter()]

    def phase(name: str, line: str) -> None:
        now = time.perf_counter()
        seconds[name] = round(now - clock_t[0], 2)
        clock_t[0] = now
        say(f"{line} ({seconds[name]:.1f} s)")

    def writer(entity: str, k: int) -> EntityWriter:
        return EntityWriter(out / entity, entity, SCHEMAS[entity], fmt, max_rows_per_file, _stream(seed, k))

    pop, camps = _population_and_campaigns(n_subscribers, seed, start, t_as_of, end)
    clock = ZoneClock(tuple(z.name for z in ZONES), int(min(pop.created.min(), start)) - DAY, end + 30 * DAY)
    phase("population", f"population: {n_subscribers:,} people")

    dirt = Dirt(seed, DEFAULT_RATES, enabled=dirty)
    factory = TableFactory(pop, camps.campaign_id, camps.link_url, camps.link_category, dirt)
    past = np.flatnonzero(camps.sent_at <= t_as_of)
    fut = np.flatnonzero(camps.sent_at > t_as_of)
    rows["campaigns"] = write_table(out / "campaigns", f"campaigns-0001.{ext}", campaigns_table(camps, past),
                                    SCHEMAS["campaigns"], fmt, _stream(seed, 20))
    truth_rows["future_campaigns"] = write_table(truth_dir, "future_campaigns.parquet",
                                                 campaigns_table(camps, fut), SCHEMAS["campaigns"])
    phase("campaigns", f"campaigns: {len(past):,} + {len(fut):,} held back")

    landing = writer("email_events", 21)
    truth_events = EntityWriter(truth_dir, "", SCHEMAS["email_events"], "parquet", None,
                                file_name="future_email_events.parquet")
    sink = EmailEventSink(factory, landing, truth_events, t_as_of, end)
    events_target = events_per_subscriber * history_days / 540.0
    email = simulate_email(pop, camps, clock, sink, seed, start, t_as_of, events_target, say)
    sink.flush()
    rows["email_events"] = landing.close()
    truth_rows["future_email_events"] = truth_events.close()
    phase("email_events", f"email events: {rows['email_events']:,} rows")

    catalogue = build_catalogue(_stream(seed, 4))
    orders = simulate_orders(pop, camps, email, clock, catalogue, _stream(seed, 5), start, end)
    hist = orders.t <= t_as_of
    ow, iw = writer("orders", 22), writer("order_items", 23)
    for lo in range(0, len(orders), max_rows_per_file):
        chunk = np.arange(lo, min(lo + max_rows_per_file, len(orders)))
        chunk = chunk[hist[chunk]]
        ow.write(orders_table(factory, orders, chunk, dirty=True))
        mask = np.zeros(len(orders), bool)
        mask[chunk] = True
        iw.write(items_table(orders, catalogue, mask))
    rows["orders"], rows["order_items"] = ow.close(), iw.close()
    fidx = np.flatnonzero(~hist)
    truth_rows["future_orders"] = write_table(truth_dir, "future_orders.parquet",
                                              orders_table(factory, orders, fidx, dirty=False), SCHEMAS["orders"])
    truth_rows["future_order_items"] = write_table(truth_dir, "future_order_items.parquet",
                                                   items_table(orders, catalogue, ~hist), SCHEMAS["order_items"])
    phase("orders", f"orders: {rows['orders']:,} rows, {rows['order_items']:,} items")

    web = simulate_web(pop, orders, email, clock, catalogue, _stream(seed, 6), start, t_as_of)
    ww = writer("web_events", 24)
    n_web = len(web["t"])
    for lo in range(0, n_web, 1_000_000):
        ww.write(web_events_table(factory, {k: v[lo:lo + 1_000_000] for k, v in web.items()}, catalogue, dirty=True))
    rows["web_events"] = ww.close()
    del web
    phase("web_events", f"web events: {rows['web_events']:,} rows")

    rows["subscribers"] = write_table(out / "subscribers", f"subscribers-0001.{ext}",
                                      subscribers_initial(factory, pop), SCHEMAS["subscribers"], fmt,
                                      _stream(seed, 25))
    updates, update_counts = subscribers_updates(factory, pop, email, t_as_of, _stream(seed, 7))
    rows["subscriber_updates"] = write_table(out / "subscribers", f"subscribers-0002-updates.{ext}", updates,
                                             SCHEMAS["subscribers"], fmt, _stream(seed, 26))
    rows["preferences"] = write_table(out / "preferences", f"preferences-0001.{ext}",
                                      preferences_table(factory, pop, t_as_of), SCHEMAS["preferences"], fmt,
                                      _stream(seed, 27))
    phase("subscribers", f"subscribers: {rows['subscribers']:,} rows + {rows['subscriber_updates']:,} updates")

    outcomes = future_outcomes(orders, pop.n, t_as_of, end)
    truth = truth_subscribers(pop, factory.clean, email, sink, outcomes, t_as_of)
    truth_rows["subscribers"] = write_table(truth_dir, "subscribers.parquet", truth, truth.schema)
    meta = {
        "generator_version": GENERATOR_VERSION,
        "seed": seed, "n_subscribers": n_subscribers, "format": fmt,
        "as_of": iso(t_as_of), "history_start": iso(start), "holdout_end": iso(end),
        "history_days": history_days, "holdout_days": holdout_days,
        "events_per_subscriber": events_per_subscriber,
        "rows": rows, "truth_rows": truth_rows,
        "files": {entity: sorted(str(p.relative_to(out)) for p in (out / entity).glob(f"*.{ext}"))
                  for entity in ENTITIES},
        "dirty": dirt.counts, "dirty_rates": dirt.rates if dirty else {},
        "subscriber_updates": update_counts,
        "personas": {name: int((pop.persona == k).sum()) for k, name in enumerate(PERSONA_NAMES)},
        "truth_subscriber_columns": list(TRUTH_SUBSCRIBER_COLUMNS),
        "notes": {
            "time": "Local times use real IANA rules (DST included); preferred_hour_local and preferred_dow "
                    "are local wall-clock hour and weekday (0 = Monday).",
            "dirty": "Landing files only: upper_case/mixed_case/padded addresses, exact duplicate rows, "
                     "invalid-address copies (ids suffixed -x). Truth files are clean.",
            "subscriber_updates": "subscribers-0002-updates holds later full snapshots; an e-mail unsubscribe "
                                  "is only undone by a 'subscribed' row with a newer consent_updated_at.",
            "churned_at": "After churned_at a person never opens, clicks, buys or visits again (machine opens "
                          "by a privacy proxy continue); NULL when it does not happen before the holdout ends.",
            "future_window": "(as_of, as_of + holdout_days]; future_email_events may belong to campaigns "
                             "sent before as_of. Web events are simulated for the history only.",
            "is_machine_open": "true/false on open events, NULL on every other event type.",
            "email_event_rows_per_person": round(rows["email_events"] / max(n_subscribers, 1), 1),
        },
    }
    (truth_dir / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    phase("truth", f"truth: {truth_rows['subscribers']:,} people, "
                   f"{truth_rows['future_email_events']:,} held-back e-mail events")
    seconds["total"] = round(time.perf_counter() - started, 2)
    return {"rows": rows, "truth_rows": truth_rows, "seconds": seconds, "dirty": dirt.counts,
            "out_dir": str(out)}
