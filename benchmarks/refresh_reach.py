"""Whose change a day of new events is: why `mailsift refresh` re-assigns and re-scores everyone.

After `mailsift refresh` has loaded a delivery (the landing files named ``<delivery>.<ext>``, e.g.
``email_events/next-day.parquet``), this reads the warehouse and counts:

* **touched** subscribers: those with a row in the delivery's files of any entity that names a person
  (e-mail events, orders, web events, subscriber records, preferences), through the staging views'
  ``identity_id`` and ``_file_seq`` (the files' numbers in ``raw.load_manifest``);
* of the subscribers scored at both of the last two ``as_of`` of ``serving.subscriber_scores_history``
  (the full run's and the refresh's), the share of the untouched and of the touched whose churn, open
  and purchase probabilities changed (any difference at all: the champion models are the same on both
  days, so a difference is the person's features moving: a day more since their last open, an event
  leaving a 30-day window, the list-wide rate their own rate is shrunk towards);
* the segment moves the refresh recorded (``serving.segment_transitions`` moved at the refresh's ``as_of``):
  between macro segments and between micro segments, and how many of them are of untouched people.

A refresh that re-scored and re-assigned only the touched would leave the untouched share of these as
they were: the scores a day old, the moves missing from ``segment_transitions``.

``python -m benchmarks.stages refresh_reach`` runs it on the bench's world (settings from MAILSIFT_*).
"""

from __future__ import annotations

from benchmarks.markdown import table_head

# The name of the files the bench's day of new events lands as (benchmarks/run.py writes them).
DELIVERY = "next-day"
# Staging views of the entities that name a person, each with identity_id and _file_seq.
PERSON_ENTITIES = {"email_events": "stg_email_events", "orders": "stg_orders", "web_events": "stg_web_events",
                   "subscribers": "stg_subscribers", "preferences": "stg_preferences"}
SCORES = ("churn_probability", "open_probability_next_send", "purchase_probability_30d")


def refresh_reach(con, delivery: str = DELIVERY) -> dict:
    """The figures above from an open DuckDB connection to a refreshed warehouse (read only)."""
    seqs = [r[0] for r in con.execute(
        "SELECT file_seq FROM raw.load_manifest WHERE entity IN (SELECT unnest(?)) "
        "AND regexp_replace(source_file, '^.*/', '') LIKE ? ORDER BY file_seq",
        [list(PERSON_ENTITIES), delivery + ".%"]).fetchall()]
    if not seqs:
        raise ValueError(f"no file named {delivery}.* of {', '.join(PERSON_ENTITIES)} in raw.load_manifest")
    touched_ids = " UNION ".join(
        f"SELECT identity_id FROM staging.{view} WHERE identity_id IS NOT NULL AND _file_seq IN (SELECT unnest($seqs))"
        for view in PERSON_ENTITIES.values())
    con.execute(f"CREATE OR REPLACE TEMP TABLE reach_touched AS SELECT DISTINCT i.subscriber_key "
                f"FROM ({touched_ids}) AS t JOIN intermediate.int_identities AS i USING (identity_id)", {"seqs": seqs})
    days = [r[0] for r in con.execute(
        "SELECT DISTINCT as_of FROM serving.subscriber_scores_history ORDER BY as_of DESC LIMIT 2").fetchall()]
    if len(days) < 2:
        raise ValueError("serving.subscriber_scores_history holds fewer than two as_of: nothing to compare")
    changed = ", ".join(f"h.{c} IS DISTINCT FROM p.{c} AS {c}" for c in SCORES)
    any_changed = " OR ".join(f"h.{c} IS DISTINCT FROM p.{c}" for c in SCORES)
    rows = con.execute(f"""
        WITH pairs AS (  -- (subscriber_key, as_of) is the history's key: one pair per subscriber
            SELECT t.subscriber_key IS NOT NULL AS touched, {changed}, {any_changed} AS any_score
            FROM serving.subscriber_scores_history AS h
            JOIN serving.subscriber_scores_history AS p ON p.subscriber_key = h.subscriber_key
            LEFT JOIN reach_touched AS t ON t.subscriber_key = h.subscriber_key
            WHERE h.as_of = $new AND p.as_of = $old
        )
        SELECT touched, count(*), {", ".join(f"count(*) FILTER (WHERE {c})" for c in (*SCORES, "any_score"))}
        FROM pairs GROUP BY touched""", {"new": days[0], "old": days[1]}).fetchall()
    scored = {touched: dict(zip(("subscribers", *SCORES, "any_score"), counts)) for touched, *counts in rows}
    empty = dict.fromkeys(("subscribers", *SCORES, "any_score"), 0)
    moves = con.execute("""
        SELECT count(*) FILTER (WHERE m.from_macro_segment_id <> m.to_macro_segment_id),
               count(*) FILTER (WHERE m.from_macro_segment_id <> m.to_macro_segment_id AND t.subscriber_key IS NULL),
               count(*),
               count(*) FILTER (WHERE t.subscriber_key IS NULL)
        FROM serving.segment_transitions AS m
        LEFT JOIN reach_touched AS t USING (subscriber_key)
        WHERE m.moved_at = $new""", {"new": days[0]}).fetchone()
    return {"delivery": delivery, "as_of": str(days[0]), "previous_as_of": str(days[1]),
            "touched_identities": con.execute("SELECT count(*) FROM reach_touched").fetchone()[0],
            "scored_untouched": scored.get(False, empty), "scored_touched": scored.get(True, empty),
            "macro_moves": moves[0], "macro_moves_untouched": moves[1],
            "micro_moves": moves[2], "micro_moves_untouched": moves[3]}


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "n/a"


def render_reach(results: list[dict]) -> list[str]:
    """The table of the refresh section (one column per scale that measured it; nothing without one)."""
    runs = [(r["subscribers"], r["stages"]["refresh_reach"]["detail"]) for r in results
            if (r["stages"].get("refresh_reach") or {}).get("ok") and r["stages"]["refresh_reach"].get("detail")]
    if not runs:
        return []

    def scored(d: dict, touched: bool, col: str) -> str:
        group = d["scored_touched" if touched else "scored_untouched"]
        return _share(group[col], group["subscribers"])

    def moves(d: dict, level: str) -> str:
        return f"{d[level + '_moves']:,} ({_share(d[level + '_moves_untouched'], d[level + '_moves'])})"

    def touched(d: dict) -> str:
        n, others = d["scored_touched"]["subscribers"], d["scored_untouched"]["subscribers"]
        return f"{n:,} ({_share(n, n + others)})"

    rows = [
        ("scored subscribers with a row in the day's files (touched)", touched),
        ("untouched whose churn, open or purchase probability changed", lambda d: scored(d, False, "any_score")),
        ("  churn / open / purchase alone", lambda d: " / ".join(scored(d, False, c) for c in SCORES)),
        ("touched whose churn, open or purchase probability changed", lambda d: scored(d, True, "any_score")),
        ("moves between macro segments (share by untouched people)", lambda d: moves(d, "macro")),
        ("moves between micro segments (share by untouched people)", lambda d: moves(d, "micro")),
    ]
    out = ["", "Whose change the day is (benchmarks/refresh_reach.py, read from the refreshed warehouse): the "
           "subscribers with a row in the day's files, and how many of the others still changed. The champion "
           "models are the same on both days; the others' features move with the calendar (days since the last "
           "open or order, windows of the last N days) and with the list-wide rates that personal rates are "
           "shrunk towards. A refresh of the touched alone would leave those scores a day old and miss those "
           "moves.", "",
           *table_head("figure", (f"{n:,}" for n, _ in runs))]
    out += [f"| {label} | " + " | ".join(fn(d) for _, d in runs) + " |" for label, fn in rows]
    return out
