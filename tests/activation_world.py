"""A tiny hand-made world for the activation tests: raw rows, a hand-made segment assignment, and a
`dbt build` of segment_performance, fairness_report and audience_exports with everything upstream.

People (gender, birth year -> age band at as_of 2024-06-30, macro / micro segment):
  a F 1990 25-34 M01/M01-01   b F 1992 25-34 M01/M01-02   e M 1960 55-64 M01/M01-01
  c M 1980 35-44 M02/M02-01   d M 1985 35-44 M02/M02-01
and seven people without gender or birth year ('unknown'), all in M01/M01-01, each non-mailable for one
reason (unsubscribed, hard-bounced, complained, paused, pending, cleaned) or to be erased (erase@).
Campaigns: c1 (home, discount: premium) sent to a, b, c; c2 (fashion, editorial) sent to a, c, d.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import duckdb

from orchestration.warehouse import bootstrap

REPO = Path(__file__).resolve().parents[1]
PROJECT = REPO / "dbt_project"
DBT = Path(sys.executable).parent / "dbt"
AS_OF = "2024-06-30 23:00:00"
BK = "NULL, '{file}', 'hash-{file}', {seq}, {line}, TIMESTAMP '2024-07-01 00:00:00'"

# email, gender, birth_year, consent, macro, micro
PEOPLE = [
    ("a@x.com", "F", 1990, "subscribed", "M01", "M01-01"),
    ("b@x.com", "F", 1992, "subscribed", "M01", "M01-02"),
    ("c@x.com", "M", 1980, "subscribed", "M02", "M02-01"),
    ("d@x.com", "M", 1985, "subscribed", "M02", "M02-01"),
    ("e@x.com", "M", 1960, "subscribed", "M01", "M01-01"),
    ("unsub@x.com", None, None, "subscribed", "M01", "M01-01"),
    ("bounce@x.com", None, None, "subscribed", "M01", "M01-01"),
    ("spam@x.com", None, None, "subscribed", "M01", "M01-01"),
    ("paused@x.com", None, None, "subscribed", "M01", "M01-01"),
    ("pending@x.com", None, None, "pending", "M01", "M01-01"),
    ("cleaned@x.com", None, None, "cleaned", "M01", "M01-01"),
    ("erase@x.com", None, None, "subscribed", "M01", "M01-01"),
]
MAILABLE = {"a@x.com", "b@x.com", "c@x.com", "e@x.com", "erase@x.com"}  # d unsubscribed from c2


def key(salt: str, email: str) -> str:
    return hashlib.sha256((salt + email).encode()).hexdigest()


def _q(v) -> str:
    return "NULL" if v is None else (str(v) if isinstance(v, int) else "'" + str(v) + "'")


def raw_rows(con: duckdb.DuckDBPyConnection, salt: str) -> None:
    def ins(table: str, file: str, seq: int, rows: list[str]) -> None:
        for line, values in enumerate(rows, start=2):
            con.execute(f"INSERT INTO raw.{table} VALUES ({values}, {BK.format(file=file, seq=seq, line=line)})")

    # email, created_at, subscriber_id, first_name, last_name, signup_source, country, region, city,
    # postal_code, timezone, birth_year, gender, consent_status, consent_updated_at, updated_at
    ins("subscribers", "subscribers/s.csv", 1, [
        f"'{e}', '2024-01-01', 'S-{i}', 'First{i}', 'Last{i}', 'web', 'DE', NULL, NULL, NULL, 'Europe/Berlin', "
        f"{_q(by)}, {_q(g)}, '{c}', '2024-01-01', NULL" for i, (e, g, by, c, _, _) in enumerate(PEOPLE)])
    # campaign_id, sent_at, name, subject, channel, content_topic, offer_type, discount_pct, is_automated, variant
    ins("campaigns", "campaigns/c.csv", 2, [
        "'c1', '2024-06-01 10:00', 'Sale', 'Sale', 'email', 'home', 'discount', 20, false, NULL",
        "'c2', '2024-06-10 10:00', 'Read', 'Read', 'email', 'fashion', 'editorial', NULL, false, NULL",
    ])
    ev = "'{e}', '{t}', '{at}', NULL, {c}, NULL, {m}, NULL, NULL, {b}"
    rows = []
    for e in ("a@x.com", "b@x.com", "c@x.com"):
        rows.append(ev.format(e=e, t="sent", at="2024-06-01 10:00", c="'c1'", m="NULL", b="NULL"))
    for e in ("a@x.com", "c@x.com", "d@x.com"):
        rows.append(ev.format(e=e, t="sent", at="2024-06-10 10:00", c="'c2'", m="NULL", b="NULL"))
    rows += [
        ev.format(e="a@x.com", t="open", at="2024-06-01 11:00", c="'c1'", m="false", b="NULL"),
        ev.format(e="a@x.com", t="click", at="2024-06-01 12:00", c="'c1'", m="NULL", b="NULL"),
        ev.format(e="b@x.com", t="open", at="2024-06-01 13:00", c="'c1'", m="false", b="NULL"),
        ev.format(e="c@x.com", t="open", at="2024-06-01 10:00:30", c="'c1'", m="true", b="NULL"),  # machine open
        ev.format(e="a@x.com", t="click", at="2024-06-10 11:00", c="'c2'", m="NULL", b="NULL"),
        ev.format(e="d@x.com", t="unsubscribe", at="2024-06-10 12:00", c="'c2'", m="NULL", b="NULL"),
        ev.format(e="unsub@x.com", t="unsubscribe", at="2024-03-01 10:00", c="NULL", m="NULL", b="NULL"),
        ev.format(e="bounce@x.com", t="bounce", at="2024-03-01 10:00", c="NULL", m="NULL", b="'hard'"),
        ev.format(e="spam@x.com", t="spam_complaint", at="2024-03-01 10:00", c="NULL", m="NULL", b="NULL"),
    ]
    ins("email_events", "email_events/e.csv", 3, rows)
    # order_id, email, ordered_at, total_amount, currency, discount_amount, channel, status, campaign_id
    ins("orders", "orders/o.csv", 4, [
        "'o1', 'a@x.com', '2024-06-05 10:00', 100, 'EUR', NULL, 'web', 'completed', NULL",  # 3.9 d after c1 click
        "'o2', 'a@x.com', '2024-06-12 10:00', 40, 'EUR', NULL, 'web', 'completed', NULL",   # 2 d after c2 click
        "'o3', 'a@x.com', '2024-06-09 10:00', 70, 'EUR', NULL, 'web', 'completed', NULL",   # 7.9 d after c1 click
        "'o4', 'b@x.com', '2024-06-03 10:00', 50, 'EUR', NULL, 'web', 'completed', NULL",   # b never clicked
        "'o5', 'a@x.com', '2024-06-06 10:00', 30, 'EUR', NULL, 'web', 'refunded', NULL",    # not a purchase
    ])
    # email, updated_at, topics, frequency, paused_until
    ins("preferences", "preferences/p.csv", 5, ["'paused@x.com', '2024-06-01', NULL, 'weekly', '2024-08-01'"])
    con.execute("CREATE SCHEMA ml")
    con.execute("CREATE TABLE ml.segment_assignments (subscriber_key VARCHAR, macro_segment_id VARCHAR, "
                "micro_segment_id VARCHAR)")
    con.executemany("INSERT INTO ml.segment_assignments VALUES (?, ?, ?)",
                    [(key(salt, e), m, mi) for e, _, _, _, m, mi in PEOPLE])


def score_tables(con: duckdb.DuckDBPyConnection, salt: str) -> None:
    """What the scoring assets would write: send hour 9 for all, overall click probability by person."""
    keys = [key(salt, p[0]) for p in PEOPLE]
    con.execute("CREATE TABLE serving.subscriber_scores (subscriber_key VARCHAR, best_send_hour_local INTEGER, "
                "as_of TIMESTAMP)")
    con.executemany(f"INSERT INTO serving.subscriber_scores VALUES (?, 9, TIMESTAMP '{AS_OF}')", [(k,) for k in keys])
    con.execute("CREATE TABLE ml.subscriber_scores (subscriber_key VARCHAR, click_probability_overall DOUBLE)")
    con.executemany("INSERT INTO ml.subscriber_scores VALUES (?, ?)",
                    [(k, 0.05 + 0.01 * i) for i, k in enumerate(keys)])  # later people rank higher
    con.execute("CREATE TABLE serving.subscriber_affinities (subscriber_key VARCHAR, dimension VARCHAR, "
                "value VARCHAR, affinity DOUBLE, evidence_sends BIGINT)")
    con.executemany("INSERT INTO serving.subscriber_affinities VALUES (?, 'content_topic', 'home', ?, 3)",
                    [(k, 0.5 if p[0] == "b@x.com" else 0.1) for k, p in zip(keys, PEOPLE)])
    con.executemany("INSERT INTO serving.subscriber_affinities VALUES (?, 'offer_type', 'discount', 0.1, 3)",
                    [(k,) for k in keys])


def build(warehouse: Path, work: Path, salt: str, extra_vars: str = "fairness_min_group_size: 1"):
    con = duckdb.connect(str(warehouse))
    bootstrap(con, salt)
    raw_rows(con, salt)
    con.close()
    args = [str(DBT), "build", "--project-dir", str(PROJECT), "--profiles-dir", str(PROJECT),
            "--target-path", str(work / "target"), "--log-path", str(work / "logs"),
            "--select", "+segment_performance", "+fairness_report", "+audience_exports",
            "--indirect-selection", "cautious", "--vars", f"{{as_of: '{AS_OF}', {extra_vars}}}"]
    env = {**os.environ, "MAILSIFT_WAREHOUSE": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
           "MAILSIFT_RUN_ID": "test-run"}
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-6000:]
    assert "ERROR=0" in result.stdout, result.stdout[-6000:]
    con = duckdb.connect(str(warehouse))
    score_tables(con, salt)
    con.close()
