"""Incremental updates: event de-duplication file by file, point-in-time membership history, transitions.

Hand-checkable on the tiny landing folder (tests/fixtures/tiny_landing): its e-mail events file has one
exact repeat (ann's real open at 19:30 on 1 March, lines 8 and 9 of events.csv).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from orchestration.cli import run_everything
from orchestration.project import DBT_PROJECT_DIR, dbt_executable
from orchestration.settings import load_settings
from orchestration.warehouse import connect

FIXTURE = Path(__file__).parent / "fixtures" / "tiny_landing"
AS_OF = "2026-04-01T00:00:00"

# A second delivery of e-mail events (lines 2-8 of the file; line 1 is the header; line 7 is a late
# open of bob's, earlier than the 23:10 open already loaded; line 8 is the first event of an address
# never seen before, zoe's):
DAY2 = """email,event_type,occurred_at,campaign_id,is_machine_open,device,event_id
ann@example.com,open,2026-03-01T19:30:00Z,c1,false,mobile,
bob@example.com,click,2026-03-16T08:00:00Z,c2,,desktop,
bob@example.com,click,2026-03-16T08:00:00Z,c2,,desktop,
eve@example.com,open,2026-03-15T12:00:00Z,c2,false,mobile,x-1
eve@example.com,open,2026-03-15T12:05:00Z,c2,false,tablet,x-1
bob@example.com,open,2026-03-15T20:00:00Z,c2,false,desktop,
zoe@example.com,click,2026-03-16T09:00:00Z,c2,,mobile,
"""

# ... and of orders and order lines: ann's o2 restated as refunded, a new order o4 of bob's (placed before
# as_of) with two lines, and a re-export of o1's lines (one line, two units; the first delivery had none)
DAY2_ORDERS = """order_id,email,ordered_at,total_amount,discount_amount,status
o2,ann@example.com,2026-03-10T00:00:00Z,50.00,10,refunded
o4,bob@example.com,2026-03-20T00:00:00Z,30.00,0,completed
"""
DAY2_ITEMS = """order_id,product_id,category,quantity,unit_price,product_name
o4,p1,home,1,10.00,Lamp
o4,p2,books,2,10.00,Novel
o1,p3,home,2,50.00,Rug
"""


def _profiles_run(full_refresh: bool = False):
    result = run_everything(load_settings(), instance=dg.DagsterInstance.ephemeral(),
                            job_name="mailsift_profiles", full_refresh=full_refresh)
    assert result.success


def _firsts(con) -> dict[tuple[str, str], tuple]:
    """intermediate.int_email_send_firsts by (address, send_key): first sent, real open, click, unsubscribe."""
    rows = con.execute(
        "SELECT i.email, f.send_key, f.first_sent_at, f.first_real_open_at, f.first_click_at, f.first_unsubscribe_at "
        "FROM intermediate.int_email_send_firsts f JOIN intermediate.int_identities i USING (identity_id)").fetchall()
    return {(email, key): tuple(rest) for email, key, *rest in rows}


def _incremental_tables(con) -> dict[str, list[tuple]]:
    """Every row of the incremental tables a day of events is merged into (to compare with a full build)."""
    return {t: sorted(con.execute(f"SELECT * FROM intermediate.{t}").fetchall(), key=repr)
            for t in ("int_identities", "int_email_engagement_events", "int_email_send_firsts", "int_orders_latest",
                      "int_order_items")}


def _orders(con) -> dict[str, tuple]:
    """intermediate.int_orders (placed up to as_of) by order id: address, status, purchase?, lines, units, categories."""
    rows = con.execute(
        "SELECT o.order_id, i.email, o.status, o.is_purchase, o.line_count, o.item_count, o.categories "
        "FROM intermediate.int_orders o JOIN intermediate.int_identities i USING (identity_id)").fetchall()
    return {order_id: tuple(rest) for order_id, *rest in rows}


def _duplicates(con) -> list[tuple[str, int]]:
    return sorted(con.execute(
        "SELECT m.source_file, d._line_number FROM intermediate.int_email_event_duplicates d "
        "JOIN raw.load_manifest m ON m.file_seq = d._file_seq").fetchall())


@pytest.fixture
def tiny(isolated_settings, monkeypatch, dbt_manifest):
    monkeypatch.setenv("MAILSIFT_AS_OF", AS_OF)
    shutil.copytree(FIXTURE, isolated_settings.landing_dir)
    return load_settings()


def test_events_are_deduplicated_file_by_file_as_a_full_build_would(tiny):
    _profiles_run()
    with connect(tiny.warehouse, read_only=True) as con:
        first_keys = con.execute("SELECT count(*) FROM intermediate.int_email_event_keys").fetchone()[0]
        assert _duplicates(con) == [("email_events/events.csv", 9)]
        bob_clicks = con.execute(
            "SELECT p.clicks_total FROM marts.subscriber_profiles p JOIN marts.dim_subscribers d USING (subscriber_key) "
            "WHERE d.email = 'bob@example.com'").fetchone()[0]
        firsts = _firsts(con)
        engagements = con.execute(
            "SELECT i.email, e.campaign_id, e.first_engaged_at FROM intermediate.int_email_engagements e "
            "JOIN intermediate.int_identities i USING (identity_id) WHERE e.campaign_id IS NOT NULL ORDER BY 1, 2"
        ).fetchall()
        identities = con.execute("SELECT count(*) FROM intermediate.int_identities").fetchone()[0]
        engagement_events = con.execute("SELECT count(*) FROM intermediate.int_email_engagement_events").fetchone()[0]
        orders = _orders(con)
        latest_orders = con.execute("SELECT count(*) FROM intermediate.int_orders_latest").fetchone()[0]
    assert bob_clicks == 0
    # o1 delivered twice (the same record), o3 placed after as_of: in int_orders_latest, not int_orders
    assert orders == {"o1": ("ann@example.com", "completed", True, 0, 0, None),
                      "o2": ("ann@example.com", "completed", True, 0, 0, None)}
    assert latest_orders == 3
    ts = pd.Timestamp
    # every event loaded, as_of or not: ann opened c2 on 2 April, after as_of (1 April)
    assert firsts[("ann@example.com", "c:c1")] == (ts("2026-03-01 10:00"), ts("2026-03-01 19:30"),
                                                   ts("2026-03-01 19:31"), None)
    assert firsts[("ann@example.com", "c:c2")] == (ts("2026-03-15 10:00"), ts("2026-04-02 10:00"), None, None)
    assert firsts[("bob@example.com", "c:c2")] == (ts("2026-03-15 10:00"), ts("2026-03-15 23:10"), None, None)
    assert firsts[("eve@example.com", "d:2026-01-10")] == (None, None, None, ts("2026-01-10"))
    assert len(firsts) == 9  # ann c1-c3, bob c2, dan c1 and his unsubscribe day, eve c1, c2 and hers
    # ... and its readers keep only what happened up to as_of: ann's c2 open is not an engagement yet
    assert engagements == [("ann@example.com", "c1", ts("2026-03-01 19:30")),
                           ("bob@example.com", "c2", ts("2026-03-15 23:10"))]

    (tiny.landing_dir / "email_events" / "day2.csv").write_text(DAY2)
    (tiny.landing_dir / "orders" / "day2.csv").write_text(DAY2_ORDERS)
    (tiny.landing_dir / "order_items").mkdir()
    (tiny.landing_dir / "order_items" / "day2.csv").write_text(DAY2_ITEMS)
    _profiles_run()
    with connect(tiny.warehouse, read_only=True) as con:
        keys = con.execute("SELECT count(*) FROM intermediate.int_email_event_keys").fetchone()[0]
        incremental = _duplicates(con)
        firsts_incremental = _firsts(con)
        tables_incremental = _incremental_tables(con)
        zoe = con.execute("SELECT in_email_events, in_subscribers FROM intermediate.int_identities "
                          "WHERE email = 'zoe@example.com'").fetchall()
        bob_clicks = con.execute(
            "SELECT p.clicks_total FROM marts.subscriber_profiles p JOIN marts.dim_subscribers d USING (subscriber_key) "
            "WHERE d.email = 'bob@example.com'").fetchone()[0]
        orders_incremental = _orders(con)
        lines = con.execute(
            "SELECT l.order_id, i.email, l.product_id, l.quantity FROM intermediate.int_order_items l "
            "JOIN intermediate.int_identities i USING (identity_id) ORDER BY 1, 3").fetchall()
    # the restatement, the new order and the lines replaced only the rows of the orders they name
    assert orders_incremental == {"o1": ("ann@example.com", "completed", True, 1, 2, "home"),
                                  "o2": ("ann@example.com", "refunded", False, 0, 0, None),
                                  "o4": ("bob@example.com", "completed", True, 2, 3, "books;home")}
    assert lines == [("o1", "ann@example.com", "p3", 2), ("o4", "bob@example.com", "p1", 1),
                     ("o4", "bob@example.com", "p2", 2)]
    assert len(tables_incremental["int_orders_latest"]) == 4
    # the second run appended the 7 new rows only; 3 of them repeat an earlier event: line 2 repeats
    # events.csv line 8 (an older file), line 4 repeats line 3 (same batch), line 6 repeats line 5's event_id
    assert keys == first_keys + 7
    # the other 4 are opens and clicks (bob's click and open, eve's open, zoe's click); zoe is a new address
    assert len(tables_incremental["int_email_engagement_events"]) == engagement_events + 4
    assert len(tables_incremental["int_identities"]) == identities + 1
    assert zoe == [(True, False)]
    assert incremental == [("email_events/day2.csv", 2), ("email_events/day2.csv", 4),
                           ("email_events/day2.csv", 6), ("email_events/events.csv", 9)]
    assert bob_clicks == 1  # his new click, counted once
    # the new events merged into the sends they touch: bob's click and earlier open, eve's first open
    # (12:00; the 12:05 row repeats its event_id); ann's repeated open changes nothing
    assert firsts_incremental[("bob@example.com", "c:c2")] == (ts("2026-03-15 10:00"), ts("2026-03-15 20:00"),
                                                               ts("2026-03-16 08:00"), None)
    assert firsts_incremental[("eve@example.com", "c:c2")] == (ts("2026-03-15 10:00"), ts("2026-03-15 12:00"),
                                                               None, None)
    assert firsts_incremental[("zoe@example.com", "c:c2")] == (None, None, ts("2026-03-16 09:00"), None)
    touched = {"bob@example.com", "zoe@example.com"}
    assert {k: v for k, v in firsts_incremental.items() if k[0] not in touched and k != ("eve@example.com", "c:c2")} \
        == {k: v for k, v in firsts.items() if k[0] not in touched and k != ("eve@example.com", "c:c2")}
    assert len(firsts_incremental) == 10

    _profiles_run(full_refresh=True)
    with connect(tiny.warehouse, read_only=True) as con:
        assert _duplicates(con) == incremental
        assert _firsts(con) == firsts_incremental
        assert _incremental_tables(con) == tables_incremental

    # a warehouse built when int_identities and int_order_items were plain tables (no _file_seq, no
    # _seen_file_seq): the next run reads every row once, as a full build, and the columns are back
    with connect(tiny.warehouse) as con:
        con.execute("ALTER TABLE intermediate.int_identities DROP COLUMN _file_seq")
        # ... and int_order_items as it was before it was incremental: no address, no _seen_file_seq
        con.execute("ALTER TABLE intermediate.int_order_items DROP COLUMN _seen_file_seq")
        con.execute("ALTER TABLE intermediate.int_order_items DROP COLUMN identity_id")
    _profiles_run()
    with connect(tiny.warehouse, read_only=True) as con:
        assert _incremental_tables(con) == tables_incremental
        assert con.execute("SELECT count(*) FROM intermediate.int_email_event_keys").fetchone()[0] == keys


def _dbt_run(settings, models: str, run_id: str) -> None:
    env = {**os.environ, **settings.dbt_env(), "MAILSIFT_RUN_ID": run_id}
    proc = subprocess.run(
        [dbt_executable(), "run", "--quiet", "--select", models, "--vars", json.dumps(settings.dbt_vars()),
         "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
         # this test's own target folder: the project's manifest stays as parsed (tests run in parallel)
         "--target-path", str(settings.warehouse.parent / "dbt_target")],
        cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _assign(settings, segments: dict[str, str]) -> None:
    """Write ml.segment_assignments by hand: {email: micro segment id}."""
    with connect(settings.warehouse) as con:
        keys = dict(con.execute("SELECT email, subscriber_key FROM marts.dim_subscribers").fetchall())
        frame = pd.DataFrame([{"subscriber_key": keys[e], "macro_segment_id": m.split("-")[0],
                               "macro_segment_name": "macro " + m.split("-")[0], "micro_segment_id": m,
                               "micro_segment_name": "micro " + m, "segment_confidence": 0.9,
                               "segment_reason": "hand-made", "assigned_at": pd.Timestamp("2026-04-01"),
                               "model_version": "1"} for e, m in segments.items()])
        con.execute("CREATE SCHEMA IF NOT EXISTS ml")
        con.register("frame", frame)
        con.execute("CREATE OR REPLACE TABLE ml.segment_assignments AS SELECT * FROM frame")


def _history(settings):
    with connect(settings.warehouse, read_only=True) as con:
        hist = con.execute(
            "SELECT d.email, h.micro_segment_id, h.valid_from, h.valid_to FROM serving.segment_membership_history h "
            "JOIN marts.dim_subscribers d USING (subscriber_key) ORDER BY 1, 3").fetchall()
        moves = con.execute(
            "SELECT d.email, t.from_segment_id, t.to_segment_id, t.moved_at, t.from_macro_segment_id, "
            "t.to_macro_segment_id FROM serving.segment_transitions t JOIN marts.dim_subscribers d USING (subscriber_key) "
            "ORDER BY 1, 4").fetchall()
        on_day = dict(con.execute(
            "SELECT d.email, h.micro_segment_id FROM serving.segment_membership_history h "
            "JOIN marts.dim_subscribers d USING (subscriber_key) "
            "WHERE h.valid_from <= TIMESTAMP '2026-04-05' AND (h.valid_to IS NULL OR h.valid_to > TIMESTAMP '2026-04-05')"
        ).fetchall())
    return hist, moves, on_day


def test_membership_history_and_transitions_by_hand(tiny, monkeypatch):
    models = "subscriber_segments segment_membership_history segment_transitions"
    d1, d8 = pd.Timestamp("2026-04-01"), pd.Timestamp("2026-04-08")
    _profiles_run()
    _assign(tiny, {"ann@example.com": "M01-01", "bob@example.com": "M01-02", "dan@example.com": "M02-01",
                   "eve@example.com": "M02-01"})
    _dbt_run(tiny, models, "run-1")
    hist, moves, _ = _history(tiny)
    assert [(e, m, f, t) for e, m, f, t in hist] == [
        ("ann@example.com", "M01-01", d1, None), ("bob@example.com", "M01-02", d1, None),
        ("dan@example.com", "M02-01", d1, None), ("eve@example.com", "M02-01", d1, None)]
    assert moves == []  # a first assignment is not a move

    # a week later ann moves to another macro segment, bob inside M01, dan and eve stay
    monkeypatch.setenv("MAILSIFT_AS_OF", "2026-04-08T00:00:00")
    settings = load_settings()
    _profiles_run()
    _assign(settings, {"ann@example.com": "M02-01", "bob@example.com": "M01-01", "dan@example.com": "M02-01",
                       "eve@example.com": "M02-01"})
    _dbt_run(settings, models, "run-2")
    hist, moves, on_day = _history(settings)
    assert hist == [("ann@example.com", "M01-01", d1, d8), ("ann@example.com", "M02-01", d8, None),
                    ("bob@example.com", "M01-02", d1, d8), ("bob@example.com", "M01-01", d8, None),
                    ("dan@example.com", "M02-01", d1, None), ("eve@example.com", "M02-01", d1, None)]
    assert moves == [("ann@example.com", "M01-01", "M02-01", d8, "M01", "M02"),
                     ("bob@example.com", "M01-02", "M01-01", d8, "M01", "M01")]
    # "which segment was each subscriber in on 5 April" is one query
    assert on_day == {"ann@example.com": "M01-01", "bob@example.com": "M01-02", "dan@example.com": "M02-01",
                      "eve@example.com": "M02-01"}

    # a rerun for the same as_of (e.g. a retrain) replaces that day's rows instead of stacking them
    _assign(settings, {"ann@example.com": "M03-01", "bob@example.com": "M01-01", "dan@example.com": "M02-01",
                       "eve@example.com": "M02-01"})
    _dbt_run(settings, models, "run-3")
    hist, moves, _ = _history(settings)
    assert [h for h in hist if h[0] == "ann@example.com"] == [("ann@example.com", "M01-01", d1, d8),
                                                               ("ann@example.com", "M03-01", d8, None)]
    assert moves[0] == ("ann@example.com", "M01-01", "M03-01", d8, "M01", "M03")
    # a full refresh never rebuilds the history
    _dbt_run(settings, models + " --full-refresh", "run-4")
    assert _history(settings)[0] == hist
