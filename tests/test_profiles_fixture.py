"""The tiny hand-written landing folder (tests/fixtures/tiny_landing) through the whole pipeline.

Every expected figure below is worked out by hand from those CSV rows, as of 2026-04-01 00:00 UTC.
List rates (all subscribers, sends up to as-of): 6 sends (ann 2, bob 1, dan 1, eve 2), 2 sends with
a real open (ann c1, bob c2), 1 with a click (ann c1): list open rate 1/3, click rate 1/6; prior k=10.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from orchestration.cli import run_everything
from orchestration.warehouse import connect

FIXTURE = Path(__file__).parent / "fixtures" / "tiny_landing"
AS_OF = "2026-04-01T00:00:00"


@pytest.fixture
def tiny_world(isolated_settings, monkeypatch, dbt_manifest):
    monkeypatch.setenv("MAILSIFT_AS_OF", AS_OF)
    shutil.copytree(FIXTURE, isolated_settings.landing_dir)
    from orchestration.settings import load_settings

    settings = load_settings()
    result = run_everything(settings, instance=dg.DagsterInstance.ephemeral(), job_name="mailsift_profiles")
    assert result.success
    with connect(settings.warehouse, read_only=True) as con:
        profiles = con.execute(
            "SELECT d.email, p.* FROM marts.subscriber_profiles p JOIN marts.dim_subscribers d USING (subscriber_key)"
        ).df().set_index("email")
        dims = con.execute("SELECT * FROM marts.dim_subscribers").df().set_index("email")
        rejected = con.execute("SELECT entity, line_number, reason FROM raw.rejected_rows").fetchall()
    return profiles, dims, rejected, result


def test_tiny_world_profiles_by_hand(tiny_world):
    p, dims, rejected, result = tiny_world
    # one invalid address rejected (line 6 of the first subscribers file); four subscribers, keys not addresses
    assert rejected == [("subscribers", 6, "invalid email address in email")]
    assert sorted(p.index) == ["ann@example.com", "bob@example.com", "dan@example.com", "eve@example.com"]
    assert all(len(k) == 64 and "@" not in k for k in p["subscriber_key"])

    ann = p.loc["ann@example.com"]
    # orders: o1 100.00 (loaded twice, from two files: counted once), o2 50.00 with 10 off; o3 is after as-of
    assert (ann.orders_total, ann.revenue_total, ann.avg_order_value) == (2, 150.0, 75.0)
    assert (ann.orders_30d, ann.orders_90d) == (1, 2)  # o2 on 03-10 is inside (03-02, 04-01]; o1 is not
    assert ann.days_since_last_order == 22  # 2026-03-10 -> 2026-04-01
    assert ann.avg_days_between_orders == 59  # 2026-01-10 -> 2026-03-10
    assert ann.discount_order_share == 0.5
    assert ann.tenure_days == 365
    # e-mail: 2 sends, the duplicate real open counted once, the machine open never counted as engagement
    assert (ann.sends_total, ann.real_opens_total, ann.machine_opens_total, ann.clicks_total) == (2, 1, 1, 1)
    assert ann.engagement_events_total == 2  # one real open + one click (the duplicate row removed)
    assert ann.open_rate_smoothed == pytest.approx((1 + 10 / 3) / (2 + 10))  # 13/36
    assert ann.click_rate_smoothed == pytest.approx((1 + 10 / 6) / (2 + 10))  # 2/9
    assert ann.days_since_last_open == 30 and ann.days_since_last_click == 30  # 03-01 19:30 -> 04-01 00:00
    # London is UTC+0 on 1 March: the 19:30 UTC open and 19:31 click are at local 19 on a Sunday
    assert ann.eng_hour_19 == 1.0 and ann.peak_hour_local == 19 and ann.peak_dow == 6
    assert ann.share_mobile == 1.0
    # every channel: the open and the click (19 h, Sunday, mobile) and orders o1 (Saturday 10 January) and
    # o2 (Tuesday 10 March), both at 00:00 London time, no device; o3 is after as-of
    assert ann.activity_events_total == 4
    assert (ann.act_hour_19, ann.act_hour_00) == (0.5, 0.5)
    assert (ann.act_dow_6, ann.act_dow_5, ann.act_dow_1) == (0.5, 0.25, 0.25)
    assert (ann.act_share_mobile, ann.act_share_desktop) == (1.0, 0.0)
    assert ann.is_mailable

    bob = p.loc["bob@example.com"]
    # " Bob@Example.com " and " BOB@example.com" normalise to one subscriber
    assert (bob.sends_total, bob.real_opens_total, bob.clicks_total) == (1, 1, 0)
    assert bob.open_rate_smoothed == pytest.approx((1 + 10 / 3) / (1 + 10))  # 13/33
    # New York is on daylight time (UTC-4) from 8 March: 23:10 UTC on the 15th is 19:10 local
    assert bob.eng_hour_19 == 1.0 and bob.peak_hour_local == 19
    assert bob.activity_events_total == 1 and bob.act_hour_19 == 1.0  # the open alone
    assert bob.tenure_days == 30 and bob.orders_total == 0 and pd.isna(bob.days_since_last_order)

    dan = p.loc["dan@example.com"]
    # unsubscribed by event on 02-01; the later import (updated 03-20) still says subscribed, but its
    # consent dates from 2025: the event wins, the address is not mailable
    assert not dan.is_mailable and dan.non_mailable_reason == "unsubscribe" and dan.is_unsubscribed
    assert dan.open_rate_smoothed == pytest.approx((0 + 10 / 3) / (1 + 10))  # 10/33
    assert dims.loc["dan@example.com", "city"] == "Hamburg"  # the later update's attribute
    assert dan.activity_events_total == 0 and dan.act_hour_19 == 0.0 and dan.act_share_mobile == 0.0

    eve = p.loc["eve@example.com"]
    # unsubscribed by event on 01-10, then an explicit subscribed consent dated 02-15: mailable again
    assert eve.is_mailable and pd.isna(eve.non_mailable_reason)
    assert eve.timezone == "UTC"  # "Not/AZone" is not an IANA zone: the documented fallback

    # nothing from after the as-of moment: c3 and ann's 04-02 open are invisible
    assert str(ann.as_of) == "2026-04-01 00:00:00"
    assert str(ann.last_open_at) == "2026-03-01 19:30:00"


def test_tiny_world_checks_pass(tiny_world):
    *_, result = tiny_world
    evaluations = result.get_asset_check_evaluations()
    assert evaluations, "the run evaluated no asset checks"
    failed = [f"{e.asset_key.to_user_string()}:{e.check_name}" for e in evaluations if not e.passed]
    assert failed == []
    row_checks = [e for e in evaluations if e.check_name == "loaded_plus_rejected_equals_rows"]
    assert len(row_checks) == 7 and all(e.passed for e in row_checks)
