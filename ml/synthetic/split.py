"""Hold back the last day(s) of a generated landing folder, to replay them later as a new delivery.

``hold_back(landing, days)`` removes from the landing files every row dated after ``cutoff = latest
event time - days`` (e-mail and web events by ``occurred_at``, orders by ``ordered_at`` with their
order lines, subscribers by ``created_at``, preferences by ``updated_at``) and returns them as tables;
``write_delivery`` writes them as new files, one per entity, the way an export arrives the next day.
Campaign rows stay: a campaign is known before its sends. Used by the incremental-refresh tests and
benchmarks. Parquet landing folders only (the generator's default).

``next_day_delivery(truth)`` instead takes the first day(s) of the generator's held-back future
(``truth/future_*.parquet``: campaigns, e-mail events, orders and their lines): the delivery that would
land the day after as_of, for a benchmark that must not shorten the history it scores.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

__all__ = ["TIME_COLUMNS", "hold_back", "next_day_delivery", "write_delivery"]

TIME_COLUMNS = {"email_events": "occurred_at", "web_events": "occurred_at", "orders": "ordered_at",
                "subscribers": "created_at", "preferences": "updated_at"}


def _files(landing: Path, entity: str) -> list[Path]:
    folder = landing / entity
    if not folder.exists():
        return []
    csv = sorted(folder.glob("*.csv*"))
    if csv:
        raise ValueError(f"hold_back reads Parquet landing folders only; {csv[0]} is CSV")
    return sorted(folder.glob("*.parquet"))


def _latest(landing: Path) -> datetime:
    latest = None
    for path in _files(landing, "email_events"):
        value = pc.max(pq.read_table(path, columns=["occurred_at"])["occurred_at"]).as_py()
        latest = value if latest is None or (value is not None and value > latest) else latest
    if latest is None:
        raise ValueError(f"no e-mail events under {landing}/email_events: nothing to hold back")
    return latest


def hold_back(landing: str | Path, days: float = 1.0) -> tuple[datetime, dict[str, pa.Table]]:
    """Cut every row after ``latest e-mail event - days`` out of the landing files (rewritten in place).

    Returns the cutoff and the held-back rows per entity (``order_items`` follow their orders).
    """
    landing = Path(landing)
    cutoff = _latest(landing) - timedelta(days=days)
    held: dict[str, list[pa.Table]] = {}
    held_orders: set = set()
    for entity, column in TIME_COLUMNS.items():
        for path in _files(landing, entity):
            table = pq.read_table(path)
            ts = table[column]
            cut = pa.scalar(cutoff if cutoff.tzinfo else cutoff.replace(tzinfo=timezone.utc), type=ts.type) \
                if pa.types.is_timestamp(ts.type) and ts.type.tz else pa.scalar(cutoff.replace(tzinfo=None), type=ts.type)
            late = pc.fill_null(pc.greater(ts, cut), False)
            if not pc.any(late).as_py():
                continue
            held.setdefault(entity, []).append(table.filter(late))
            pq.write_table(table.filter(pc.invert(late)), path)
            if entity == "orders":
                held_orders.update(table.filter(late)["order_id"].to_pylist())
    if held_orders:
        ids = pa.array(sorted(held_orders))
        for path in _files(landing, "order_items"):
            table = pq.read_table(path)
            mask = pc.is_in(table["order_id"], value_set=ids.cast(table["order_id"].type))
            if pc.any(mask).as_py():
                held.setdefault("order_items", []).append(table.filter(mask))
                pq.write_table(table.filter(pc.invert(mask)), path)
    return cutoff, {e: pa.concat_tables(ts) for e, ts in held.items()}


def write_delivery(landing: str | Path, tables: dict[str, pa.Table], name: str) -> dict[str, int]:
    """Write each entity's rows as ``<landing>/<entity>/<name>.parquet``; returns rows per entity."""
    landing = Path(landing)
    counts = {}
    for entity, table in tables.items():
        (landing / entity).mkdir(parents=True, exist_ok=True)
        pq.write_table(table, landing / entity / f"{name}.parquet")
        counts[entity] = table.num_rows
    return counts


def _cut(ts_type: pa.DataType, moment: datetime) -> pa.Scalar:
    if pa.types.is_timestamp(ts_type) and ts_type.tz:
        return pa.scalar(moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc), type=ts_type)
    return pa.scalar(moment.replace(tzinfo=None), type=ts_type)


def next_day_delivery(truth: str | Path, days: float = 1.0) -> tuple[datetime, dict[str, pa.Table]]:
    """The held-back future's rows dated in ``(as_of, as_of + days]``, per landing entity."""
    import json

    truth = Path(truth)
    as_of = datetime.fromisoformat(json.loads((truth / "meta.json").read_text())["as_of"].replace("Z", "+00:00"))
    until = as_of + timedelta(days=days)
    out: dict[str, pa.Table] = {}
    for entity, column in (("campaigns", "sent_at"), ("email_events", "occurred_at"), ("orders", "ordered_at")):
        table = pq.read_table(truth / f"future_{entity}.parquet")
        out[entity] = table.filter(pc.fill_null(pc.less_equal(table[column], _cut(table[column].type, until)), False))
    items = pq.read_table(truth / "future_order_items.parquet")
    ids = out["orders"]["order_id"].cast(items["order_id"].type)
    out["order_items"] = items.filter(pc.is_in(items["order_id"], value_set=ids))
    return until, {e: t for e, t in out.items() if t.num_rows}
