"""The dbt project's SQL on a small hand-made raw layer: the rules the marts promise.

One warehouse per module: the raw tables are created with the ingestion's own DDL
(orchestration.warehouse.bootstrap), filled with rows chosen to exercise each rule, and
`dbt build` runs in a subprocess (its own target and log folders) once with the default as_of and
once with an explicit earlier as_of. Every dbt test must pass on both.

As-of of the default run: the latest event time in the data, 2024-06-30 23:00 (a campaign send).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration.landing_contract import ENTITIES
from orchestration.warehouse import bootstrap

REPO = Path(__file__).resolve().parents[1]
PROJECT = REPO / "dbt_project"
DBT = Path(sys.executable).parent / "dbt"
SALT = "test-salt-0123456789abcdef0123456789abcdef"

pytestmark = [
    pytest.mark.skipif(shutil.which(str(DBT)) is None, reason="dbt is not installed next to python"),
    # the module's fixtures are built once: every test of the module on one pytest-xdist worker (`make test`)
    pytest.mark.xdist_group("test_dbt_sql"),
]

BK = "NULL, '{file}', 'hash-{file}', {seq}, {line}, TIMESTAMP '2024-07-01 00:00:00'"


def _raw_rows(con: duckdb.DuckDBPyConnection) -> None:
    """Hand-made raw rows; columns in the landing contract's order, then bookkeeping."""

    def ins(table: str, file: str, seq: int, rows: list[str]) -> None:
        for line, values in enumerate(rows, start=2):
            con.execute(f"INSERT INTO raw.{table} VALUES ({values}, {BK.format(file=file, seq=seq, line=line)})")

    # subscribers: email, created_at, subscriber_id, first_name, last_name, signup_source, country, region,
    # city, postal_code, timezone, birth_year, gender, consent_status, consent_updated_at, updated_at
    ins("subscribers", "subscribers/a.csv", 1, [
        "'a@x.com', '2024-01-01', 'S-A', 'Ann', 'A', 'Web', 'de', NULL, 'Berlin', NULL, 'Europe/Berlin', 1980, 'F',"
        " 'subscribed', '2024-01-01', '2024-01-01'",
        "'b@x.com', '2024-01-01', 'S-B', 'Bob', 'B', 'web', 'US', NULL, NULL, NULL, 'Mars/Base', 1850, NULL,"
        " 'subscribed', '2024-01-01', NULL",
        "' C@X.com ', '2024-01-01', 'S-C', 'Cleo', 'C', 'web', 'FR', NULL, 'Old', NULL, 'europe/paris', NULL, NULL,"
        " 'subscribed', '2024-01-01', '2024-02-01'",
        "'d@x.com', '2024-06-20', 'S-D', 'Dan', 'D', 'web', 'GB', NULL, NULL, NULL, NULL, NULL, NULL,"
        " 'subscribed', '2024-06-20', NULL",
        "'f@x.com', '2023-01-01', 'S-F', 'Fay', 'F', 'shop', 'DE', NULL, NULL, NULL, 'Europe/Berlin', NULL, NULL,"
        " NULL, NULL, NULL",
        "'g@x.com', '2024-06-25', 'S-G', 'Gus', 'G', 'web', 'DE', NULL, NULL, NULL, 'UTC', NULL, NULL,"
        " 'pending', '2024-06-25', NULL",
    ])
    ins("subscribers", "subscribers/b.csv", 2, [
        # a: a later import says subscribed, but its consent predates the unsubscribe event: stays suppressed
        "'A@x.com', '2024-01-01', 'S-A', 'Ann', 'A', 'web', 'DE', NULL, 'Berlin', NULL, 'Europe/Berlin', 1980, 'F',"
        " 'subscribed', '2024-05-01', '2024-06-20'",
        # b: an explicit re-subscription after the hard bounce: mailable again
        "'b@x.com', '2024-01-01', 'S-B', 'Bob', 'B', 'web', 'US', NULL, NULL, NULL, 'Mars/Base', 1850, NULL,"
        " 'subscribed', '2024-04-01', NULL",
        # c: changed later (consent_updated_at 2024-03-01 > updated_at 2024-02-01 of the first record)
        "'c@x.com', '2024-01-01', 'S-C', 'Cleo', 'C', 'web', 'FR', NULL, 'New', NULL, 'Europe/Paris', NULL, NULL,"
        " 'subscribed', '2024-03-01', NULL",
        # an exact duplicate of g's record
        "'g@x.com', '2024-06-25', 'S-G', 'Gus', 'G', 'web', 'DE', NULL, NULL, NULL, 'UTC', NULL, NULL,"
        " 'pending', '2024-06-25', NULL",
    ])
    # d: two partial update files, which name only some columns (raw.absent_columns lists the others)
    ins("subscribers", "subscribers/consent.csv", 11, [
        "'d@x.com', '2024-06-20', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
        " 'unsubscribed', '2024-06-22', NULL",
    ])
    ins("subscribers", "subscribers/profile.csv", 12, [  # has last_name, but blank: cleared
        "'d@x.com', '2024-06-20', NULL, NULL, NULL, NULL, NULL, NULL, 'Leeds', NULL, NULL, NULL, NULL,"
        " NULL, NULL, '2024-06-24'",
    ])
    for file, has in (("subscribers/consent.csv", {"email", "created_at", "consent_status", "consent_updated_at"}),
                      ("subscribers/profile.csv", {"email", "created_at", "last_name", "city", "updated_at"})):
        for column in ENTITIES["subscribers"].column_names:
            if column not in has:
                con.execute("INSERT INTO raw.absent_columns VALUES (?, 'subscribers', ?)", [f"hash-{file}", column])
    # campaigns: campaign_id, sent_at, name, subject, channel, content_topic, offer_type, discount_pct,
    # is_automated, variant
    ins("campaigns", "campaigns/c.csv", 3, [
        "'c1', '2024-06-01 10:00', 'June sale', 'Sale', 'email', 'Shoes', 'discount', 20, false, NULL",
        "'c2', '2024-06-08 10:00', 'News', 'News', 'email', 'home', 'editorial', NULL, NULL, NULL",
        "'c3', '2024-06-30 23:00', 'Late', 'Late', NULL, 'home', 'editorial', NULL, NULL, NULL",
    ])
    # email_events: email, event_type, occurred_at, event_id, campaign_id, device, is_machine_open, url,
    # link_category, bounce_type
    ins("email_events", "email_events/e1.csv", 4, [
        "'a@x.com', 'sent', '2024-06-01 10:00', 'e1', 'c1', NULL, NULL, NULL, NULL, NULL",
        "'a@x.com', 'delivered', '2024-06-01 10:00:05', 'e2', 'c1', NULL, NULL, NULL, NULL, NULL",
        "'a@x.com', 'open', '2024-06-01 10:01', 'e3', 'c1', 'Mobile', true, NULL, NULL, NULL",
        "'A@X.COM', 'open', '2024-06-01 12:00', NULL, 'c1', 'mobile', false, NULL, NULL, NULL",
        "'A@X.COM', 'open', '2024-06-01 12:00', NULL, 'c1', 'mobile', false, NULL, NULL, NULL",  # exact duplicate
        "'a@x.com', 'open', '2024-06-01 12:03', 'e4', 'c1', 'mobile', false, NULL, NULL, NULL",  # 2nd open, same send
        "'a@x.com', 'click', '2024-06-01 12:05', 'e5', 'c1', 'mobile', NULL, 'https://s/x', 'Shoes', NULL",
        "'a@x.com', 'unsubscribe', '2024-06-10 08:00', 'e6', 'c2', NULL, NULL, NULL, NULL, NULL",
        "'b@x.com', 'sent', '2024-02-28 10:00', 'e7', NULL, NULL, NULL, NULL, NULL, NULL",
        "'b@x.com', 'bounce', '2024-03-01 10:00', 'e8', NULL, NULL, NULL, NULL, NULL, 'Hard'",
        "'b@x.com', 'sent', '2024-06-01 10:00', 'e9', 'c1', NULL, NULL, NULL, NULL, NULL",
        "'c@x.com', 'sent', '2024-06-01 10:00', 'e10', 'c1', NULL, NULL, NULL, NULL, NULL",
        "'f@x.com', 'sent', '2024-06-08 10:00', 'e11', 'c2', NULL, NULL, NULL, NULL, NULL",
        "'stranger@x.com', 'sent', '2024-06-08 10:00', 'e12', 'c2', NULL, NULL, NULL, NULL, NULL",
    ])
    ins("email_events", "email_events/e2.csv", 5, [
        # the same event again in a later, overlapping export
        "'a@x.com', 'click', '2024-06-01 12:05', 'e5', 'c1', 'mobile', NULL, 'https://s/x', 'Shoes', NULL",
        "'c@x.com', 'sent', '2024-06-30 23:00', 'e13', 'c3', NULL, NULL, NULL, NULL, NULL",
    ])
    # orders: order_id, email, ordered_at, total_amount, currency, discount_amount, channel, status, campaign_id
    ins("orders", "orders/o1.csv", 6, [
        "'o1', 'f@x.com', '2024-05-01 10:00', 80, 'EUR', 20, 'web', 'completed', 'c1'",
        "'o2', 'F@x.com', '2024-05-15 10:00', 50, 'EUR', NULL, 'web', 'completed', NULL",
        "'o3', 'f@x.com', '2024-06-01 20:00', 30, 'EUR', NULL, 'web', NULL, NULL",
        "'o9', 'e@x.com', '2024-06-02 10:00', 10, 'EUR', NULL, 'store', 'completed', NULL",
    ])
    ins("orders", "orders/o2.csv", 7, [
        "'o2', 'f@x.com', '2024-05-15 10:00', 50, 'EUR', NULL, 'web', 'refunded', NULL",  # restated: refunded
    ])
    # order_items: order_id, product_id, category, quantity, unit_price, product_name
    ins("order_items", "order_items/i1.csv", 8, [
        "'o1', 'p1', 'Shoes', 1, 60, 'Boot'",
        "'o1', 'p2', 'bags', 2, 20, 'Bag'",
        "'o3', 'p1', 'shoes', 1, 30, 'Boot'",
    ])
    # web_events: event_type, occurred_at, email, anonymous_id, event_id, category, product_id, device, url,
    # session_id
    ins("web_events", "web_events/w1.csv", 9, [
        "'product_view', '2024-05-30 09:00', NULL, 'anon-1', 'w1', 'shoes', 'p1', 'desktop', NULL, 's1'",
        "'add_to_cart', '2024-06-01 09:00', 'f@x.com', 'anon-1', 'w2', 'shoes', 'p1', 'desktop', NULL, 's2'",
        "'add_to_cart', '2024-06-05 09:00', 'f@x.com', 'anon-1', 'w3', 'shoes', 'p1', 'desktop', NULL, 's3'",
        "'page_view', '2024-06-06 09:00', NULL, 'anon-2', 'w4', NULL, NULL, 'mobile', NULL, 's4'",
    ])
    # preferences: email, updated_at, topics, frequency, paused_until
    ins("preferences", "preferences/p1.csv", 10, [
        "'c@x.com', '2024-05-01', 'Shoes;home', 'weekly', '2024-07-15'",
        "'c@x.com', '2024-07-10', NULL, 'daily', NULL",  # saved after as_of: ignored
    ])


def _build(warehouse: Path, work: Path, as_of: str | None) -> subprocess.CompletedProcess:
    args = [str(DBT), "build", "--project-dir", str(PROJECT), "--profiles-dir", str(PROJECT),
            "--target-path", str(work / "target"), "--log-path", str(work / "logs"),
            "--exclude", "path:models/serving"]  # serving reads model outputs: tested end to end
    if as_of:
        args += ["--vars", f"{{as_of: '{as_of}'}}"]
    env = {**os.environ, "MAILSIFT_WAREHOUSE": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)


def _warehouse(tmp: Path, as_of: str | None) -> Path:
    path = tmp / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    bootstrap(con, SALT)
    _raw_rows(con)
    con.close()
    result = _build(path, tmp, as_of)
    assert result.returncode == 0, result.stdout[-6000:]
    assert "WARN=0 ERROR=0" in result.stdout, result.stdout[-6000:]
    return path


@pytest.fixture(scope="module")
def wh(tmp_path_factory) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(_warehouse(tmp_path_factory.mktemp("dbt_default"), None)), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def wh_early(tmp_path_factory) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(_warehouse(tmp_path_factory.mktemp("dbt_early"), "2024-06-05T12:00:00+02:00")),
                         read_only=True)
    yield con
    con.close()


def one(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None):
    rows = con.execute(sql, params or []).fetchall()
    assert len(rows) == 1, rows
    return rows[0] if len(rows[0]) > 1 else rows[0][0]


def key(con: duckdb.DuckDBPyConnection, email: str) -> str:
    return one(con, "SELECT subscriber_key FROM marts.dim_subscribers WHERE email = ?", [email])


# --------------------------------------------------------------------------------------------------


def test_as_of_is_latest_event(wh):
    assert str(one(wh, "SELECT as_of FROM intermediate.int_as_of")) == "2024-06-30 23:00:00"


def test_as_of_var_with_offset_is_converted_to_utc(wh_early):
    assert str(one(wh_early, "SELECT as_of FROM intermediate.int_as_of")) == "2024-06-05 10:00:00"


def test_subscriber_key_is_salted_sha256_of_normalised_address(wh):
    import hashlib

    assert key(wh, "c@x.com") == hashlib.sha256((SALT + "c@x.com").encode()).hexdigest()


def test_dim_holds_subscribers_only_once_each(wh):
    emails = [r[0] for r in wh.execute("SELECT email FROM marts.dim_subscribers ORDER BY email").fetchall()]
    assert emails == ["a@x.com", "b@x.com", "c@x.com", "d@x.com", "f@x.com", "g@x.com"]  # no e@, no stranger@


def test_latest_record_wins(wh):
    city, tz, fallback = one(wh, "SELECT city, timezone, is_timezone_fallback FROM marts.dim_subscribers "
                                 "WHERE email = 'c@x.com'")
    assert (city, tz, fallback) == ("New", "Europe/Paris", False)
    assert one(wh, "SELECT source_records FROM marts.dim_subscribers WHERE email = 'g@x.com'") == 2


def test_a_partial_update_file_changes_only_the_columns_it_has(wh):
    # d: complete record (file 1: Dan D, GB, subscribed), then a file with only the consent columns
    # (unsubscribed on 06-22), then one with last_name (blank), city and updated_at (06-24). Each attribute
    # comes from the latest record whose file has the column; whole-record resolution would have taken
    # the 06-24 record alone (no name, no country, no consent status: mailable).
    row = one(wh, "SELECT first_name, last_name, country, city, consent_status, is_mailable, non_mailable_reason, "
                  "source_records FROM marts.dim_subscribers WHERE email = 'd@x.com'")
    assert row == ("Dan", None, "GB", "Leeds", "unsubscribed", False, "consent_unsubscribed", 3)


def test_invalid_timezone_falls_back_to_utc_and_birth_year_is_checked(wh):
    assert one(wh, "SELECT timezone, is_timezone_fallback, birth_year FROM marts.dim_subscribers "
                   "WHERE email = 'b@x.com'") == ("UTC", True, None)


def test_unsubscribe_event_beats_a_later_import(wh):
    row = one(wh, "SELECT is_mailable, non_mailable_reason, non_mailable_since, is_unsubscribed "
                  "FROM marts.dim_subscribers WHERE email = 'a@x.com'")
    assert row[0] is False and row[1] == "unsubscribe" and str(row[2]) == "2024-06-10 08:00:00" and row[3]


def test_newer_explicit_consent_lifts_a_hard_bounce(wh):
    assert one(wh, "SELECT is_mailable, is_hard_bounced FROM marts.dim_subscribers WHERE email = 'b@x.com'") \
        == (True, False)


def test_pending_consent_is_not_mailable_and_missing_status_is(wh):
    assert one(wh, "SELECT is_mailable, non_mailable_reason FROM marts.dim_subscribers WHERE email = 'g@x.com'") \
        == (False, "consent_pending")
    assert one(wh, "SELECT is_mailable FROM marts.dim_subscribers WHERE email = 'f@x.com'") is True


def test_email_events_are_deduplicated_and_ids_generated(wh):
    a = key(wh, "a@x.com")
    rows = wh.execute("SELECT event_type, is_machine_open, is_real_engagement, event_id FROM marts.fct_email_events "
                      "WHERE subscriber_key = ? ORDER BY occurred_at", [a]).fetchall()
    assert [r[0] for r in rows] == ["sent", "delivered", "open", "open", "open", "click", "unsubscribe"]
    assert [r[1] for r in rows[2:5]] == [True, False, False]
    assert rows[3][3].startswith("gen-") and len({r[3] for r in rows}) == len(rows)
    assert one(wh, "SELECT count(*) FROM intermediate.int_email_event_duplicates") == 2


def test_local_time_of_events(wh):
    a = key(wh, "a@x.com")
    # 2024-06-01 12:00 UTC = 14:00 in Berlin (CEST), a Saturday (0 = Monday)
    assert one(wh, "SELECT local_hour, local_dow FROM marts.fct_email_events WHERE subscriber_key = ? "
                   "AND event_type = 'open' AND NOT is_machine_open AND occurred_at = '2024-06-01 12:00'", [a]) == (14, 5)


def test_profile_email_features(wh):
    a = key(wh, "a@x.com")
    p = wh.execute("SELECT * FROM marts.subscriber_profiles WHERE subscriber_key = ?", [a]).df().iloc[0]
    assert (p.sends_total, p.real_opens_total, p.machine_opens_total, p.clicks_total) == (1, 1, 1, 1)
    assert (p.real_open_events, p.click_events, p.engagement_events_total) == (2, 1, 3)
    assert p.eng_hour_14 == 1.0 and p.peak_hour_local == 14 and p.eng_dow_5 == 1.0 and p.peak_dow == 5
    assert p.share_mobile == 1.0 and p.share_desktop == 0.0
    assert str(p.last_open_at) == "2024-06-01 12:03:00" and p.days_since_last_open == 29
    # (opened sends + k * list rate) / (sends + k), k = 10; the list: 6 sends to subscribers, 1 opened
    list_rate = 1 / 6
    assert p.open_rate_smoothed == pytest.approx((1 + 10 * list_rate) / (1 + 10))
    assert p.top_content_topic == "shoes" and p.top_offer_type == "discount"
    assert p.is_unsubscribed and not p.is_mailable and p.non_mailable_reason == "unsubscribe"


def test_never_days_since_are_null(wh):
    b = key(wh, "b@x.com")
    assert one(wh, "SELECT days_since_last_open, days_since_last_order, peak_hour_local, eng_hour_10 "
                   "FROM marts.subscriber_profiles WHERE subscriber_key = ?", [b]) == (None, None, None, 0.0)


def test_orders_restatement_refunds_and_rfm(wh):
    f = key(wh, "f@x.com")
    p = wh.execute("SELECT * FROM marts.subscriber_profiles WHERE subscriber_key = ?", [f]).df().iloc[0]
    assert (p.orders_total, p.refunded_orders, p.revenue_total) == (2, 1, 110.0)
    assert p.discount_order_share == 0.5 and p.avg_discount_share == pytest.approx(0.1)  # 20/(80+20) and 0
    assert p.top_category == "shoes" and p.top_category_share == pytest.approx(2 / 3)
    assert p.rfm_segment != "non_buyer" and p.r_score == 1 and p.lifecycle_stage == "active"
    assert one(wh, "SELECT status FROM marts.fct_orders WHERE order_id = 'o2'") == "refunded"
    assert one(wh, "SELECT item_count, categories FROM marts.fct_orders WHERE order_id = 'o1'") == (3, "bags;shoes")
    assert one(wh, "SELECT attributed_orders, attributed_revenue FROM marts.campaign_performance "
                   "WHERE campaign_id = 'c1'") == (1, 80.0)


def test_web_stitching_and_abandoned_carts(wh):
    f = key(wh, "f@x.com")
    p = wh.execute("SELECT product_views_90d, cart_adds_90d, abandoned_carts_90d, last_visit_at "
                   "FROM marts.subscriber_profiles WHERE subscriber_key = ?", [f]).fetchone()
    # the anonymous product view is stitched through anon-1; the 06-01 cart add was followed by o3 within 24 h
    assert p[:3] == (1, 2, 1) and str(p[3]) == "2024-06-05 09:00:00"
    assert one(wh, "SELECT count(*) FROM marts.fct_web_events WHERE subscriber_key IS NULL") == 1


def test_activity_rhythm_across_channels(wh):
    f = key(wh, "f@x.com")
    p = wh.execute("SELECT * FROM marts.subscriber_profiles WHERE subscriber_key = ?", [f]).df().iloc[0]
    # no e-mail engagement; three web sessions (s1 stitched through anon-1, s2, s3), all at 09:00 UTC = 11:00
    # in Berlin (CEST), on desktop; three orders not cancelled (o2 refunded still happened) at 10:00 UTC
    # (12:00) on 05-01 and 05-15 and 20:00 UTC (22:00) on 06-01. Weekdays (0 = Monday): s1 Thursday,
    # s2 and o3 Saturday, s3, o1 and o2 Wednesday.
    assert p.engagement_events_total == 0 and p.activity_events_total == 6
    assert (p.act_hour_11, p.act_hour_12, p.act_hour_22) == pytest.approx((3 / 6, 2 / 6, 1 / 6))
    assert (p.act_dow_2, p.act_dow_5, p.act_dow_3) == pytest.approx((3 / 6, 2 / 6, 1 / 6))
    assert (p.act_share_desktop, p.act_share_mobile) == (1.0, 0.0)  # orders carry no device
    a = wh.execute("SELECT activity_events_total, act_hour_14, act_share_mobile FROM marts.subscriber_profiles "
                   "WHERE subscriber_key = ?", [key(wh, "a@x.com")]).fetchone()
    assert a == (3, 1.0, 1.0)  # a's real opens and click alone, as in the e-mail columns


def test_non_subscribers_are_counted_not_profiled(wh):
    rows = dict(wh.execute("SELECT source, addresses_not_in_dim FROM marts.identity_coverage").fetchall())
    assert rows["orders"] == 1 and rows["email_events"] == 1
    assert one(wh, "SELECT count(*) FROM marts.subscriber_profiles") == 6
    assert one(wh, "SELECT count(*) FROM marts.fct_email_events WHERE NOT is_subscriber") == 1


def test_lifecycle_and_preferences(wh):
    assert one(wh, "SELECT lifecycle_stage FROM marts.subscriber_lifecycle WHERE subscriber_key = ?",
               [key(wh, "g@x.com")]) == "new"
    assert one(wh, "SELECT preferred_frequency, preferred_topics, is_paused FROM marts.dim_subscribers "
                   "WHERE email = 'c@x.com'") == ("weekly", "shoes;home", True)


def test_campaign_performance_counts_unique_real_opens(wh):
    row = one(wh, "SELECT sends, deliveries, unique_real_opens, machine_opens, unique_clicks, open_rate "
                  "FROM marts.campaign_performance WHERE campaign_id = 'c1'")
    # 3 sends, 1 'delivered' event: rates divide by deliveries when the ESP exports them
    assert row == (3, 1, 1, 1, 1, 1.0)


def test_affinity_long_format(wh):
    a = key(wh, "a@x.com")
    rows = wh.execute("SELECT dimension, value, sends, clicks FROM marts.subscriber_affinity_features "
                      "WHERE subscriber_key = ? ORDER BY dimension, value", [a]).fetchall()
    assert ("content_topic", "shoes", 1, 1) in rows and ("offer_type", "discount", 1, 1) in rows
    assert ("category", "shoes", 1, 1) in rows


# ---- the earlier as_of: nothing after it is used --------------------------------------------------


def test_point_in_time_excludes_later_subscribers_and_events(wh_early):
    emails = [r[0] for r in wh_early.execute("SELECT email FROM marts.dim_subscribers ORDER BY 1").fetchall()]
    assert emails == ["a@x.com", "b@x.com", "c@x.com", "f@x.com"]  # d@ and g@ joined after 2024-06-05 10:00
    # a's unsubscribe (06-10) has not happened yet, and the record written 06-20 is not known yet
    assert one(wh_early, "SELECT is_mailable, consent_updated_at FROM marts.dim_subscribers "
                         "WHERE email = 'a@x.com'") == (True, __import__("datetime").datetime(2024, 1, 1))
    assert one(wh_early, "SELECT max(occurred_at) FROM marts.fct_email_events") <= \
        __import__("datetime").datetime(2024, 6, 5, 10)
    f = one(wh_early, "SELECT subscriber_key FROM marts.dim_subscribers WHERE email = 'f@x.com'")
    # the 06-05 09:00 cart add is within 24 h of as_of: not yet abandoned
    assert one(wh_early, "SELECT cart_adds_90d, abandoned_carts_90d FROM marts.subscriber_profiles "
                         "WHERE subscriber_key = ?", [f]) == (2, 0)
