"""Ingestion: every landing row is loaded or rejected with its reason; files load once."""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from orchestration.ingestion import ingest_landing, reconcile
from orchestration.warehouse import bootstrap, connect

SALT = "s" * 64


def write(landing: Path, rel: str, text: str) -> Path:
    path = landing / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def wh(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    with connect(tmp_path / "wh.duckdb") as con:
        bootstrap(con, SALT)
        yield con, landing


def rejected(con, entity):
    return con.execute(
        "SELECT line_number, reason FROM raw.rejected_rows WHERE entity = ? ORDER BY line_number", [entity]
    ).fetchall()


def test_each_rejection_reason_and_accounting(wh):
    con, landing = wh
    write(landing, "email_events/e.csv", (
        "EMAIL,Event_Type,occurred_at,is_machine_open,campaign_id\n"
        " Ann@Example.COM ,open,2026-03-01T10:00:00+02:00,false,c1\n"   # 2 ok (offset converted)
        "bob@example.com,teleport,2026-03-01T10:00:00Z,,c1\n"          # 3 unknown event type
        "not-an-email,open,2026-03-01T10:00:00Z,,c1\n"                 # 4 invalid address
        "bob@example.com,click,last tuesday,,c1\n"                      # 5 unparseable timestamp
        ",click,2026-03-01T10:00:00Z,,c1\n"                             # 6 missing required field
        "bob@example.com,open,2026-03-01T10:00:00Z,maybe,c1\n"          # 7 not a boolean
        "bob@example.com,open,2026-03-01T10:00:00Z,true,c1,surplus\n"   # 8 malformed line
        "bob@example.com,Click,2026-03-01 11:00:00,1,c1\n"              # 9 ok (case, no offset = UTC)
    ))
    write(landing, "orders/o.csv", (
        "order_id,email,ordered_at,total_amount,discount_amount\n"
        "o1,ann@example.com,2026-03-02T00:00:00Z,10.5,\n"
        "o2,ann@example.com,2026-03-02T00:00:00Z,-3,\n"
        "o3,ann@example.com,2026-03-02T00:00:00Z,ten,\n"
    ))
    write(landing, "web_events/w.csv", (
        "event_type,occurred_at,email,anonymous_id\n"
        "page_view,2026-03-02T00:00:00Z,,anon-1\n"
        "page_view,2026-03-02T00:00:00Z,,\n"
    ))
    report = ingest_landing(con, landing)
    assert report.count("loaded") == 3
    assert rejected(con, "email_events") == [
        (3, "unknown event_type 'teleport'"),
        (4, "invalid email address in email"),
        (5, "unparseable timestamp in occurred_at"),
        (6, "missing required field: email"),
        (7, "not a boolean in is_machine_open"),
        (8, "malformed CSV line: Expected Number of Columns: 5 Found: 6"),
    ]
    rows = con.execute(
        "SELECT email, event_type, occurred_at, is_machine_open, _line_number FROM raw.email_events "
        "ORDER BY _line_number"
    ).fetchall()
    assert rows == [
        (" Ann@Example.COM ", "open", datetime(2026, 3, 1, 8, 0), False, 2),
        ("bob@example.com", "click", datetime(2026, 3, 1, 11, 0), True, 9),
    ]
    assert rejected(con, "orders") == [(3, "negative value in total_amount"), (4, "not a number in total_amount")]
    assert rejected(con, "web_events") == [(3, "missing all of: email, anonymous_id")]
    # the raw record keeps the row as written, under the file's own column names
    raw = json.loads(con.execute(
        "SELECT raw_record FROM raw.rejected_rows WHERE line_number = 3 AND entity = 'email_events'"
    ).fetchone()[0])
    assert raw["Event_Type"] == "teleport" and raw["EMAIL"] == "bob@example.com"
    manifest = con.execute(
        "SELECT source_file, rows_in_file, rows_loaded, rows_rejected FROM raw.load_manifest ORDER BY 1"
    ).fetchall()
    assert manifest == [("email_events/e.csv", 8, 2, 6), ("orders/o.csv", 3, 1, 2), ("web_events/w.csv", 2, 1, 1)]
    assert reconcile(con) == []


def test_unreadable_files_are_recorded_and_the_rest_loads(wh):
    con, landing = wh
    write(landing, "orders/notes.txt", "not data")
    (landing / "orders" / "broken.parquet").write_bytes(b"PAR1 this is not parquet")
    gz = landing / "orders" / "cut.csv.gz"
    gz.write_bytes(gzip.compress(b"order_id,email,ordered_at,total_amount\n" * 50)[:30])
    write(landing, "orders/no_amount.csv", "order_id,email,ordered_at\no1,a@example.com,2026-01-01\n")
    write(landing, "orders/good.csv", "order_id,email,ordered_at,total_amount\no1,a@example.com,2026-01-01,5\n")
    report = ingest_landing(con, landing)
    reasons = dict(con.execute("SELECT source_file, reason FROM raw.rejected_files").fetchall())
    assert reasons["orders/notes.txt"] == "not a .csv, .csv.gz or .parquet file"
    assert reasons["orders/broken.parquet"].startswith("cannot read the file")
    assert reasons["orders/cut.csv.gz"].startswith("cannot read the file")
    assert reasons["orders/no_amount.csv"] == "missing required column(s) for orders: total_amount"
    assert report.count("loaded") == 1
    assert con.execute("SELECT count(*) FROM raw.orders").fetchone()[0] == 1


def test_reingestion_is_idempotent_and_keys_on_content(wh):
    con, landing = wh
    body = "email,created_at,Favourite_Colour\nann@example.com,2026-01-01,blue\n"
    write(landing, "subscribers/a.csv", body)
    ingest_landing(con, landing)
    again = ingest_landing(con, landing)
    assert again.count("loaded") == 0 and again.count("skipped") == 1
    write(landing, "subscribers/renamed-copy.csv", body)  # same bytes under another name: not loaded twice
    third = ingest_landing(con, landing)
    assert third.count("loaded") == 0 and third.count("skipped") == 2
    write(landing, "subscribers/b.csv", "email,created_at\nbob@example.com,2026-01-02\n")
    fourth = ingest_landing(con, landing)
    assert fourth.count("loaded") == 1
    assert con.execute("SELECT email, _file_seq FROM raw.subscribers ORDER BY 2").fetchall() == [
        ("ann@example.com", 1), ("bob@example.com", 2)]
    # an extra column is kept (not rejected), a missing optional column is NULL
    extra, country = con.execute(
        "SELECT _extra, country FROM raw.subscribers WHERE email = 'ann@example.com'").fetchone()
    assert json.loads(extra) == {"Favourite_Colour": "blue"} and country is None


def test_the_contract_columns_a_file_lacks_are_recorded(wh):
    con, landing = wh
    write(landing, "subscribers/full.csv",
          "email,created_at,subscriber_id,first_name,last_name,signup_source,country,region,city,postal_code,"
          "timezone,birth_year,gender,consent_status,consent_updated_at,updated_at\n"
          "ann@example.com,2026-01-01,S1,Ann,A,web,DE,,Berlin,,Europe/Berlin,1980,f,subscribed,2026-01-01,\n")
    write(landing, "subscribers/consent.csv",
          "EMAIL,created_at,Consent_Status,consent_updated_at,Favourite_Colour\n"
          "ann@example.com,2026-01-01,unsubscribed,2026-02-01,blue\n")
    ingest_landing(con, landing)
    rows = con.execute(
        "SELECT m.source_file, a.entity, a.column_name FROM raw.absent_columns a "
        "JOIN raw.load_manifest m USING (file_hash) ORDER BY 1, 3").fetchall()
    # the complete file has none; the partial one lacks 12 of the 16 contract columns (the extra is no absence)
    assert rows == [("subscribers/consent.csv", "subscribers", c) for c in sorted([
        "subscriber_id", "first_name", "last_name", "signup_source", "country", "region", "city", "postal_code",
        "timezone", "birth_year", "gender", "updated_at"])]


def test_parquet_input_with_typed_columns(wh):
    con, landing = wh
    (landing / "orders").mkdir()
    pd.DataFrame({
        "order_id": ["o1", "o2"], "Email": ["A@example.com", "b@example"],
        "ordered_at": pd.to_datetime(["2026-01-01 10:00", "2026-01-02 10:00"]).tz_localize("Europe/Berlin"),
        "total_amount": [12.5, 3.0], "status": ["completed", "refunded"],
    }).to_parquet(landing / "orders" / "o.parquet")
    ingest_landing(con, landing)
    assert con.execute("SELECT order_id, ordered_at, total_amount FROM raw.orders").fetchall() == [
        ("o1", datetime(2026, 1, 1, 9, 0), 12.5)]
    assert rejected(con, "orders") == [(2, "invalid email address in email")]
    assert reconcile(con) == []


def test_unknown_folders_are_reported_not_loaded(wh):
    con, landing = wh
    write(landing, "coupons/c.csv", "code\nX\n")
    write(landing, "truth/meta.json", "{}")
    report = ingest_landing(con, landing)
    assert report.ignored == ["coupons/ (not a contract entity)"]
    assert report.files == []


def test_salt_mismatch_is_refused(wh):
    con, _ = wh
    with pytest.raises(RuntimeError, match="different subscriber_key salt"):
        bootstrap(con, "t" * 64)
