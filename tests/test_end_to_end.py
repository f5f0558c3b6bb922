"""End to end on a small generated world: `mailsift generate`, then every asset in-process."""

from __future__ import annotations

import json

import dagster as dg
import pandas as pd
import pytest

from orchestration.cli import main, run_everything
from orchestration.settings import load_settings
from orchestration.warehouse import connect

N = 600


@pytest.fixture
def generated(isolated_settings, dbt_manifest):
    assert main(["generate", "--subscribers", str(N), "--seed", "5", "--out", str(isolated_settings.landing_dir)]) == 0
    return isolated_settings


def test_generate_run_and_rerun(generated):
    settings = generated
    truth = pd.read_parquet(settings.landing_dir / "truth" / "subscribers.parquet")
    meta = json.loads((settings.landing_dir / "truth" / "meta.json").read_text())

    first = run_everything(settings, instance=dg.DagsterInstance.ephemeral())
    assert first.success
    failed = [f"{e.asset_key.to_user_string()}:{e.check_name}" for e in first.get_asset_check_evaluations()
              if not e.passed]
    assert failed == []
    with connect(settings.warehouse, read_only=True) as con:
        n_profiles, max_as_of = con.execute(
            "SELECT count(*), max(as_of) FROM marts.subscriber_profiles").fetchone()
        emails = {r[0] for r in con.execute("SELECT email FROM marts.dim_subscribers").fetchall()}
        manifest = con.execute("SELECT sum(rows_in_file), sum(rows_loaded + rows_rejected) FROM raw.load_manifest").fetchone()
        rejected = con.execute("SELECT count(*) FROM raw.rejected_rows").fetchone()[0]
        lifecycle = dict(con.execute("SELECT lifecycle_stage, count(*) FROM marts.subscriber_profiles GROUP BY 1").fetchall())
    # every generated person is one profile, keyed by the normalised address
    assert n_profiles == len(truth) == N
    assert emails == set(truth["email"])
    assert manifest[0] == manifest[1]
    assert rejected > 0  # the generator plants invalid addresses; they are recorded, not dropped
    assert str(max_as_of) <= meta["as_of"].replace("T", " ")
    assert sum(lifecycle.values()) == N and len(lifecycle) >= 4

    # a second run finds nothing new to load and rebuilds the same profiles
    second = run_everything(settings, instance=dg.DagsterInstance.ephemeral())
    assert second.success
    mats = {m.asset_key.to_user_string(): m.metadata for m in second.asset_materializations_for_node("raw_landing")}
    assert mats["raw/load_manifest"]["files_loaded"].value == 0
    with connect(settings.warehouse, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM marts.subscriber_profiles").fetchone()[0] == N


def test_run_without_landing_folder_says_so(isolated_settings, capsys):
    assert main(["run"]) == 2
    assert "landing folder" in capsys.readouterr().out


def test_generate_refuses_a_folder_of_real_exports(tmp_path):
    (tmp_path / "subscribers").mkdir()
    (tmp_path / "subscribers" / "export.csv").write_text("email,created_at\n")
    with pytest.raises(SystemExit, match="not written by `mailsift generate`"):
        main(["generate", "--subscribers", "10", "--out", str(tmp_path)])
    assert (tmp_path / "subscribers" / "export.csv").exists()
