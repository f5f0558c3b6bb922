"""`mailsift forget`: one person erased from every layer, published file and export, and kept erased."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from orchestration.cli import main, run_everything
from orchestration.ingestion import ingest_landing, reconcile
from orchestration.serving import publish_parquet
from orchestration.settings import load_settings, read_or_create_salt
from orchestration.warehouse import bootstrap, connect

FIXTURE = Path(__file__).parent / "fixtures" / "tiny_landing"


@pytest.fixture
def tiny_built(isolated_settings, monkeypatch, dbt_manifest):
    monkeypatch.setenv("MAILSIFT_AS_OF", "2026-04-01T00:00:00")
    shutil.copytree(FIXTURE, isolated_settings.landing_dir)
    settings = load_settings()
    assert run_everything(settings, instance=dg.DagsterInstance.ephemeral(), job_name="mailsift_profiles").success
    with connect(settings.warehouse) as con:  # a served table and its published copy, as a full run leaves them
        con.execute("CREATE SCHEMA serving")
        con.execute("CREATE TABLE serving.subscriber_segments AS SELECT subscriber_key, 'M01' AS macro_segment_id "
                    "FROM marts.subscriber_profiles")
        publish_parquet(con, ["subscriber_segments"], settings.serving_dir, run_id="r1")
        keys = dict(con.execute("SELECT email, subscriber_key FROM marts.dim_subscribers").fetchall())
    export = settings.data_dir / "exports" / "campaign.csv"
    export.parent.mkdir()
    pd.DataFrame({"email": ["ann@example.com", "bob@example.com"], "rank": [1, 2]}).to_csv(export, index=False)
    from orchestration.forget import log_export

    log_export(settings, export)
    return settings, keys, export


def _count_everywhere(con, email: str, key: str) -> dict[str, int]:
    """Rows in any table of any schema that hold the address or the key."""
    hits = {}
    tables = con.execute("SELECT table_schema, table_name FROM information_schema.tables "
                         "WHERE table_type = 'BASE TABLE'").fetchall()
    for schema, table in tables:
        n = con.execute(f'SELECT count(*) FROM "{schema}"."{table}" t WHERE position(? IN lower(CAST(t AS VARCHAR))) > 0 '
                        f'OR position(? IN CAST(t AS VARCHAR)) > 0', [email, key]).fetchone()[0]
        if n:
            hits[f"{schema}.{table}"] = n
    return hits


def test_forget_erases_everywhere_and_keeps_them_erased(tiny_built, capsys):
    settings, keys, export = tiny_built
    bob = keys["bob@example.com"]
    with connect(settings.warehouse, read_only=True) as con:
        before = _count_everywhere(con, "bob@example.com", bob)
    assert before["raw.subscribers"] == 1 and before["marts.dim_subscribers"] == 1 and before["serving.subscriber_segments"] == 1

    assert main(["forget", "  BOB@Example.com "]) == 0
    assert "Erased" in capsys.readouterr().out
    with connect(settings.warehouse, read_only=True) as con:
        assert _count_everywhere(con, "bob@example.com", bob) == {"raw.erased_subscribers": 1}  # the tombstone: key only
        assert reconcile(con) == []  # loaded + rejected + erased = rows, per file
        assert con.execute("SELECT count(*) FROM marts.dim_subscribers").fetchone()[0] == len(keys) - 1
        assert con.execute("SELECT count(*) FROM marts.subscriber_profiles WHERE subscriber_key = ?",
                           [keys["ann@example.com"]]).fetchone()[0] == 1  # the others are untouched
    served = pd.read_parquet(settings.serving_dir / "subscriber_segments.parquet")
    assert bob not in set(served["subscriber_key"]) and len(served) == len(keys) - 1
    assert list(pd.read_csv(export)["email"]) == ["ann@example.com"]

    # forgetting twice is harmless
    assert main(["forget", "bob@example.com"]) == 0
    assert "Already erased" in capsys.readouterr().out

    # a later export of the same address is rejected with the reason "erased"
    again = settings.landing_dir / "subscribers" / "2026-04-02.csv"
    again.write_text("email,created_at\nBob@example.com,2026-04-02T00:00:00Z\nnew@example.com,2026-04-02T00:00:00Z\n")
    with connect(settings.warehouse) as con:
        bootstrap(con, read_or_create_salt(settings.salt_file))
        ingest_landing(con, settings.landing_dir)
        rejected = con.execute("SELECT line_number, reason FROM raw.rejected_rows WHERE source_file LIKE '%2026-04-02%'"
                               ).fetchall()
        loaded = con.execute("SELECT lower(trim(email)) FROM raw.subscribers").fetchall()
    assert rejected == [(2, "erased")]
    assert ("new@example.com",) in loaded and ("bob@example.com",) not in loaded


def test_forget_refuses_what_is_not_an_address(isolated_settings, capsys):
    assert main(["forget", "not-an-address"]) == 2
    assert "not a valid e-mail address" in capsys.readouterr().err


def test_export_log_is_jsonl(isolated_settings, tmp_path):
    from orchestration.forget import EXPORT_LOG, log_export

    log_export(isolated_settings, tmp_path / "a.csv")
    log_export(isolated_settings, tmp_path / "b.csv")
    lines = (isolated_settings.data_dir / EXPORT_LOG).read_text().splitlines()
    assert [json.loads(x)["path"] for x in lines] == [str(tmp_path / "a.csv"), str(tmp_path / "b.csv")]
