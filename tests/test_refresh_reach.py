"""benchmarks/refresh_reach.py: whose change a day of new events is, on a hand-made warehouse.

Six addresses, identity_id 1-6 (subscriber keys ka-kf; f is not a subscriber, so never scored). The day's
files are `next-day.*`: e-mail events with a row of a's, orders with one of b's and web events with one
of f's and one anonymous. A file `next-day-2.parquet` (c's) is another delivery, and an older file has
rows of everyone. Scores at three as_of (only the last two are compared) and moves at three moments
(only those at the as_of of the later scores count)."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pytest

from benchmarks.refresh_reach import refresh_reach, render_reach

T_1, T0, T1, T2 = datetime(2026, 9, 29), datetime(2026, 9, 30), datetime(2026, 10, 1), datetime(2026, 10, 2)


@pytest.fixture
def con():
    con = duckdb.connect()
    for schema in ("raw", "staging", "intermediate", "serving"):
        con.execute(f"CREATE SCHEMA {schema}")
    con.execute("CREATE TABLE raw.load_manifest (entity VARCHAR, source_file VARCHAR, file_seq INTEGER)")
    con.executemany("INSERT INTO raw.load_manifest VALUES (?, ?, ?)", [
        ("email_events", "email_events/email_events-0001.parquet", 1),
        ("campaigns", "campaigns/next-day.parquet", 4),
        ("email_events", "email_events/next-day.parquet", 5),
        ("orders", "orders/next-day.csv", 6),
        ("web_events", "web_events/next-day.parquet", 7),
        ("email_events", "email_events/next-day-2.parquet", 8)])
    for view in ("stg_email_events", "stg_orders", "stg_web_events", "stg_subscribers", "stg_preferences"):
        con.execute(f"CREATE TABLE staging.{view} (identity_id BIGINT, _file_seq INTEGER)")
    con.executemany("INSERT INTO staging.stg_email_events VALUES (?, ?)", [(i, 1) for i in range(1, 7)]
                    + [(1, 5), (3, 8)])
    con.execute("INSERT INTO staging.stg_orders VALUES (2, 6)")
    con.execute("INSERT INTO staging.stg_web_events VALUES (6, 7), (NULL, 7)")
    con.execute("CREATE TABLE intermediate.int_identities (identity_id BIGINT, subscriber_key VARCHAR)")
    con.executemany("INSERT INTO intermediate.int_identities VALUES (?, ?)", [(i, "k" + "abcdef"[i - 1]) for i in range(1, 7)])
    con.execute("CREATE TABLE serving.subscriber_scores_history (subscriber_key VARCHAR, as_of TIMESTAMP, "
                "churn_probability DOUBLE, open_probability_next_send DOUBLE, purchase_probability_30d DOUBLE)")
    con.executemany("INSERT INTO serving.subscriber_scores_history VALUES (?, ?, ?, ?, ?)", [
        ("ka", T0, 0.2, 0.5, 0.1), ("ka", T1, 0.3, 0.5, 0.1),    # touched, churn moved
        ("kb", T0, 0.2, 0.5, 0.1), ("kb", T1, 0.2, 0.5, 0.1),    # touched, nothing moved
        ("kc", T0, 0.2, 0.5, 0.1), ("kc", T1, 0.4, 0.6, 0.1),    # churn and open moved
        ("kd", T0, 0.2, 0.5, None), ("kd", T1, 0.2, 0.5, 0.1),   # purchase: none -> 0.1
        ("ke", T_1, 0.9, 0.9, 0.9), ("ke", T0, 0.2, 0.5, 0.1), ("ke", T1, 0.2, 0.5, 0.1),
        ("kg", T1, 0.2, 0.5, 0.1)])                               # new today: no pair
    con.execute("CREATE TABLE serving.segment_transitions (subscriber_key VARCHAR, moved_at TIMESTAMP, "
                "from_macro_segment_id VARCHAR, to_macro_segment_id VARCHAR)")
    con.executemany("INSERT INTO serving.segment_transitions VALUES (?, ?, ?, ?)", [
        ("ka", T1, "M01", "M02"), ("kc", T1, "M01", "M01"), ("kd", T1, "M02", "M03"), ("ke", T0, "M01", "M02"),
        ("kb", T2, "M01", "M02")])  # a day with no scores yet: not the day compared
    yield con
    con.close()


def test_touched_scores_and_moves_by_hand(con):
    d = refresh_reach(con)
    assert (d["as_of"], d["previous_as_of"]) == (str(T1), str(T0))
    assert d["touched_identities"] == 3  # a, b and f; c's file is another delivery, the anonymous row no one
    assert d["scored_touched"] == {"subscribers": 2, "churn_probability": 1, "open_probability_next_send": 0,
                                   "purchase_probability_30d": 0, "any_score": 1}
    assert d["scored_untouched"] == {"subscribers": 3, "churn_probability": 1, "open_probability_next_send": 1,
                                     "purchase_probability_30d": 1, "any_score": 2}
    assert (d["macro_moves"], d["macro_moves_untouched"]) == (2, 1)  # a's and d's; e's and b's were other days
    assert (d["micro_moves"], d["micro_moves_untouched"]) == (3, 2)  # and c's inside M01


def test_the_table_in_words(con):
    lines = render_reach([{"subscribers": 5, "stages": {"refresh_reach": {"ok": True, "detail": refresh_reach(con)}}},
                          {"subscribers": 9, "stages": {"refresh_reach": {"ok": False}}}])
    rows = {line.split(" | ")[0].strip("| "): line.split(" | ")[1].rstrip(" |") for line in lines if line.startswith("| ")}
    assert rows["scored subscribers with a row in the day's files (touched)"] == "2 (40.0%)"
    assert rows["untouched whose churn, open or purchase probability changed"] == "66.7%"
    assert rows["churn / open / purchase alone"] == "33.3% / 33.3% / 33.3%"
    assert rows["touched whose churn, open or purchase probability changed"] == "50.0%"
    assert rows["moves between macro segments (share by untouched people)"] == "2 (50.0%)"
    assert rows["moves between micro segments (share by untouched people)"] == "3 (66.7%)"
    assert rows["figure"] == "5"  # the failed scale has no column
    assert render_reach([{"subscribers": 5, "stages": {}}]) == []


def test_nothing_to_compare_is_an_error(con):
    with pytest.raises(ValueError, match="no file named later"):
        refresh_reach(con, delivery="later")
    con.execute("DELETE FROM serving.subscriber_scores_history WHERE as_of < ?", [T1])
    with pytest.raises(ValueError, match="fewer than two as_of"):
        refresh_reach(con)
