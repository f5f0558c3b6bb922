"""Point-in-time honesty: profiles as of a past moment are exactly what they would have been had the
data stopped there. The same world is built twice, once with everything (and MAILSIFT_AS_OF set 60
days before the end) and once from landing files cut at that moment; the profiles must be identical.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta  # noqa: F401
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from orchestration.cli import run_everything
from orchestration.settings import load_settings
from orchestration.warehouse import connect

TIME_COLUMN = {"campaigns": "sent_at", "email_events": "occurred_at", "orders": "ordered_at",
               "web_events": "occurred_at", "preferences": "updated_at"}


def cut_landing(src: Path, dst: Path, as_of: datetime) -> None:
    """Copy a landing folder keeping only what was known at ``as_of``."""
    cutoff = pd.Timestamp(as_of, tz="UTC")
    kept_orders: set[str] = set()
    for entity in ("campaigns", "email_events", "orders", "web_events", "preferences", "subscribers"):
        for path in sorted((src / entity).glob("*.parquet")):
            df = pd.read_parquet(path)
            if entity == "subscribers":
                keep = df["created_at"] <= cutoff
                if "updated_at" in df:
                    keep &= df["updated_at"].isna() | (df["updated_at"] <= cutoff)
            else:
                keep = df[TIME_COLUMN[entity]] <= cutoff
            df = df[keep]
            if entity == "orders":
                kept_orders |= set(df["order_id"])
            (dst / entity).mkdir(parents=True, exist_ok=True)
            df.to_parquet(dst / entity / path.name, index=False)
    for path in sorted((src / "order_items").glob("*.parquet")):
        df = pd.read_parquet(path)
        (dst / "order_items").mkdir(parents=True, exist_ok=True)
        df[df["order_id"].isin(kept_orders)].to_parquet(dst / "order_items" / path.name, index=False)


def build(monkeypatch, landing: Path, warehouse: Path) -> pd.DataFrame:
    monkeypatch.setenv("MAILSIFT_LANDING_DIR", str(landing))
    monkeypatch.setenv("MAILSIFT_WAREHOUSE", str(warehouse))
    settings = load_settings()
    assert run_everything(settings, instance=dg.DagsterInstance.ephemeral(), job_name="mailsift_profiles").success
    with connect(warehouse, read_only=True) as con:
        return con.execute("SELECT * FROM marts.subscriber_profiles ORDER BY subscriber_key").df()


def test_profiles_use_nothing_after_as_of(isolated_settings, monkeypatch, tmp_path, dbt_manifest):
    from ml.synthetic import generate

    full = tmp_path / "full"
    generate(400, 21, full)
    end = pd.Timestamp(json.loads((full / "truth" / "meta.json").read_text())["as_of"])
    end = end.tz_convert("UTC").tz_localize(None) if end.tzinfo else end
    as_of = (end.to_pydatetime() - timedelta(days=60)).replace(microsecond=0)
    cut = tmp_path / "cut"
    cut_landing(full, cut, as_of)
    monkeypatch.setenv("MAILSIFT_AS_OF", as_of.isoformat())

    with_future = build(monkeypatch, full, tmp_path / "full.duckdb")
    without_future = build(monkeypatch, cut, tmp_path / "cut.duckdb")

    assert len(with_future) > 300
    assert (with_future["as_of"] == pd.Timestamp(as_of)).all()
    for column in ("last_order_at", "last_open_at", "last_click_at", "last_visit_at"):
        assert (with_future[column].dropna() <= pd.Timestamp(as_of)).all(), column
    pd.testing.assert_frame_equal(with_future, without_future, check_exact=False, rtol=1e-9)
