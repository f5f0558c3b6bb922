"""Activation on a tiny hand-made world (tests/activation_world.py): serving.segment_performance and
serving.fairness_report against figures computed by hand, and `mailsift audience` exports (ESP formats,
only mailable consenting people, recorded in serving.audience_exports, removed by `mailsift forget`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

import activation_world as world
from orchestration.cli import main

SALT = "test-salt-0123456789abcdef0123456789abcdef"

pytestmark = [
    pytest.mark.skipif(shutil.which(str(world.DBT)) is None, reason="dbt is not installed next to python"),
    # the module's fixture is built once: every test of the module on one pytest-xdist worker (`make test`)
    pytest.mark.xdist_group("test_activation"),
]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("activation")
    path = work / "warehouse.duckdb"
    world.build(path, work, SALT)
    return path


@pytest.fixture
def wh(built, isolated_settings):
    """A copy of the built warehouse at this test's paths (salt file included), with a serving folder."""
    shutil.copy(built, isolated_settings.warehouse)
    isolated_settings.salt_file.write_text(SALT + "\n")
    isolated_settings.serving_dir.mkdir(parents=True)
    return isolated_settings


def _rows(path: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_segment_performance_by_hand(built):
    got = _rows(built, "SELECT segment_id, level, campaign_id, sends, unique_opens, unique_clicks, orders, revenue, "
                       "unsubscribes, open_rate, click_rate, conversion_rate, unsubscribe_rate, "
                       "attribution_window_days, run_id FROM serving.segment_performance ORDER BY 1, 3")
    # c1 went to a, b (M01) and c (M02); a opened, clicked 06-01 12:00 and ordered o1 (100) 3.9 days later;
    # o3 came 7.9 days after that click (outside the 7-day window); b opened and ordered without a click;
    # c's only open was a machine open. c2 went to a (M01) and c, d (M02); a clicked it and ordered o2 (40)
    # two days later (last click wins over c1's); d unsubscribed from it. o5 was refunded.
    assert got == [
        ("M01", "macro", "c1", 2, 2, 1, 1, 100.0, 0, 1.0, 0.5, 0.5, 0.0, 7, "test-run"),
        ("M01", "macro", "c2", 1, 0, 1, 1, 40.0, 0, 0.0, 1.0, 1.0, 0.0, 7, "test-run"),
        ("M01-01", "micro", "c1", 1, 1, 1, 1, 100.0, 0, 1.0, 1.0, 1.0, 0.0, 7, "test-run"),
        ("M01-01", "micro", "c2", 1, 0, 1, 1, 40.0, 0, 0.0, 1.0, 1.0, 0.0, 7, "test-run"),
        ("M01-02", "micro", "c1", 1, 1, 0, 0, 0.0, 0, 1.0, 0.0, 0.0, 0.0, 7, "test-run"),
        ("M02", "macro", "c1", 1, 0, 0, 0, 0.0, 0, 0.0, 0.0, 0.0, 0.0, 7, "test-run"),
        ("M02", "macro", "c2", 2, 0, 0, 0, 0.0, 1, 0.0, 0.0, 0.0, 0.5, 7, "test-run"),
        ("M02-01", "micro", "c1", 1, 0, 0, 0, 0.0, 0, 0.0, 0.0, 0.0, 0.0, 7, "test-run"),
        ("M02-01", "micro", "c2", 2, 0, 0, 0, 0.0, 1, 0.0, 0.0, 0.0, 0.5, 7, "test-run"),
    ]
    assert "email" not in [r[0] for r in _rows(built, "DESCRIBE serving.segment_performance")]


def test_fairness_report_by_hand(built):
    rows = _rows(built, "SELECT attribute, group_value, coalesce(segment_id, '-'), group_size, positives, rate, "
                        "reference_group, disparate_impact_ratio, is_flagged FROM serving.fairness_report "
                        "ORDER BY 3, 1, 2")
    got = {(a, g, s): (n, p, r, ref, di, f) for a, g, s, n, p, r, ref, di, f in rows}
    # premium offers (discount, winback): only c1 (discount) went to a, b (f, 25-34) and c (m, 35-44)
    assert got[("gender", "f", "-")] == (2, 2, 1.0, "f", 1.0, False)
    assert got[("gender", "m", "-")][:4] == (3, 1, pytest.approx(1 / 3), "f")
    assert got[("gender", "m", "-")][4] == pytest.approx(1 / 3) and got[("gender", "m", "-")][5] is True
    assert got[("age_band", "35-44", "-")] == (2, 1, 0.5, "25-34", 0.5, True)
    assert got[("age_band", "55-64", "-")] == (1, 0, 0.0, "25-34", 0.0, True)
    # 'unknown' is reported (seven people, none exposed) but never flagged nor the reference
    assert got[("gender", "unknown", "-")] == (7, 0, 0.0, "f", 0.0, False)
    # membership of M02: m 2 of 3 is the most favoured, f 0 of 2 -> ratio 0, flagged
    assert got[("gender", "m", "M02")][2] == pytest.approx(2 / 3) and got[("gender", "m", "M02")][3] == "m"
    assert got[("gender", "f", "M02")] == (2, 0, 0.0, "m", 0.0, True)
    assert _rows(built, "SELECT DISTINCT premium_offer_types FROM serving.fairness_report") == [("discount,winback",)]
    # z of m against f: pooled 3/5, sqrt(0.6 * 0.4 * (1/3 + 1/2)) = sqrt(0.2); (1/3 - 1) / sqrt(0.2) = -1.4907
    z = dict(_rows(built, "SELECT group_value, z_score FROM serving.fairness_report "
                          "WHERE attribute = 'gender' AND outcome = 'premium_offer_exposure'"))
    assert z["m"] == pytest.approx(-1.4907, abs=1e-4) and z["f"] is None


def test_segment_export_mailchimp_only_mailable_and_recorded(wh, tmp_path, capsys):
    out = tmp_path / "m01.csv"
    assert main(["audience", "--segment", "M01", "--format", "mailchimp", "--out", str(out)]) == 0
    got = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(got.columns[:4]) == ["Email Address", "First Name", "Last Name", "Tags"]
    # M01 holds a, b, e and the seven unknowns; unsubscribed, bounced, complained, paused, pending and
    # cleaned people are never exported. Best first: the overall click probability rises down PEOPLE.
    assert list(got["Email Address"]) == ["erase@x.com", "e@x.com", "b@x.com", "a@x.com"]
    assert got["Tags"].iloc[0] == "mailsift, segment=M01"
    assert list(got["Mailsift Rank"]) == ["1", "2", "3", "4"] and set(got["Mailsift Send Hour"]) == {"9"}
    served = _rows(wh.warehouse, "SELECT audience, email, rank, export_format, run_id LIKE 'audience-%' "
                                 "FROM serving.audience_exports ORDER BY rank")
    assert served == [("segment=M01", e, i + 1, "mailchimp", True) for i, e in
                      enumerate(["erase@x.com", "e@x.com", "b@x.com", "a@x.com"])]
    # the command republished the serving files: the Parquet copy and serving.duckdb agree with the warehouse
    assert sorted(pq.read_table(wh.serving_dir / "audience_exports.parquet").column("email").to_pylist()) == \
        ["a@x.com", "b@x.com", "e@x.com", "erase@x.com"]
    assert (wh.serving_dir / "segment_performance.parquet").exists()
    copy = duckdb.connect(str(wh.serving_dir / "serving.duckdb"), read_only=True)
    assert copy.execute("SELECT count(*) FROM audience_exports").fetchone() == (4,)
    copy.close()
    assert "Recorded as export audience-" in capsys.readouterr().out


def test_campaign_export_klaviyo_ranked_and_cut(wh, tmp_path):
    out = tmp_path / "home.csv"
    assert main(["audience", "--topic", "home", "--offer", "discount", "--size", "2", "--format", "klaviyo",
                 "--out", str(out)]) == 0
    got = pd.read_csv(out)
    assert list(got.columns) == ["Email", "First Name", "Last Name", "mailsift_audience", "mailsift_rank",
                                 "mailsift_segment", "mailsift_send_hour_local", "mailsift_click_probability"]
    # b's home affinity 0.5 leads; then the lowest overall rate gains most from 0.1 topic and offer affinities
    assert list(got["Email"]) == ["b@x.com", "a@x.com"]
    assert list(got["First Name"]) == ["First1", "First0"] and list(got["mailsift_segment"]) == ["M01", "M01"]
    from orchestration.audience import build_audience
    from orchestration.exports import esp_frame

    tags = esp_frame(build_audience(wh.warehouse, "home", "discount", 1), "mailchimp")["Tags"].tolist()
    assert tags == ["mailsift, topic=home;offer=discount, segment M01"]
    # the whole mailable list as candidates: only the five mailable people, whatever their affinity
    everyone = tmp_path / "all.csv"
    assert main(["audience", "--topic", "home", "--offer", "discount", "--out", str(everyone)]) == 0
    assert set(pd.read_csv(everyone)["email"]) == world.MAILABLE


def test_reexport_replaces_and_forget_removes_the_person(wh, tmp_path):
    out = tmp_path / "m01.csv"
    for _ in range(2):
        assert main(["audience", "--segment", "M01", "--format", "mailchimp", "--out", str(out)]) == 0
    plain = tmp_path / "m02.csv"
    assert main(["audience", "--segment", "M01-01", "--out", str(plain)]) == 0
    assert _rows(wh.warehouse, "SELECT audience, count(*) FROM serving.audience_exports GROUP BY 1 ORDER BY 1") == \
        [("segment=M01", 4), ("segment=M01-01", 3)]  # M01-01: a, e, erase
    assert main(["forget", "erase@x.com"]) == 0
    assert _rows(wh.warehouse, "SELECT count(*) FROM serving.audience_exports WHERE email = 'erase@x.com'") == [(0,)]
    assert _rows(wh.warehouse, "SELECT count(*) FROM ml.audience_exports") == [(5,)]
    assert "erase@x.com" not in pd.read_csv(out)["Email Address"].tolist()
    assert len(pd.read_csv(out)) == 3 and "erase@x.com" not in pd.read_csv(plain)["email"].tolist()
    assert "erase@x.com" not in pq.read_table(wh.serving_dir / "audience_exports.parquet").column("email").to_pylist()


def test_bad_requests_are_clear(wh, tmp_path, capsys):
    assert main(["audience", "--segment", "M09", "--out", str(tmp_path / "x.csv")]) == 2
    assert "unknown segment 'M09'" in capsys.readouterr().err
    assert main(["audience", "--segment", "M01", "--format", "klaviyo", "--out", str(tmp_path / "x.parquet")]) == 2
    assert "CSV" in capsys.readouterr().err
    assert main(["audience", "--out", str(tmp_path / "x.csv")]) == 2
    assert "--segment" in capsys.readouterr().err
    assert not any(tmp_path.glob("x*")) and not any(tmp_path.glob(".x*"))
    assert _rows(wh.warehouse, "SELECT count(*) FROM ml.audience_exports") == [(0,)]


def test_dbt_pre_hook_and_python_create_the_same_table(built, tmp_path):
    from orchestration.exports import EXPORTS_DDL

    con = duckdb.connect(str(tmp_path / "fresh.duckdb"))
    con.execute("CREATE SCHEMA ml")
    con.execute(EXPORTS_DDL)
    ours = con.execute("SELECT column_name, data_type, is_nullable FROM information_schema.columns "
                       "WHERE table_name = 'audience_exports' ORDER BY ordinal_position").fetchall()
    con.close()
    theirs = _rows(built, "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
                          "WHERE table_schema = 'ml' AND table_name = 'audience_exports' ORDER BY ordinal_position")
    assert ours == theirs and len(ours) == 12
