"""A day of new events on a small generated world: the landing sensor asks for a refresh, the refresh
job updates every serving table with the champion models (no training) and records the moves.

The world's last day is cut out of the generated files before the first full run (ml.synthetic.split)
and delivered afterwards as new files, the way tomorrow's export lands.
"""

from __future__ import annotations

import json
import os
import time

import dagster as dg
import pandas as pd
import pytest
from mlflow import MlflowClient

from ml.synthetic.split import hold_back, write_delivery
from orchestration.cli import main, run_everything
from orchestration.settings import load_settings
from orchestration.warehouse import connect

N = 2000


def _versions(settings) -> dict[str, int]:
    client = MlflowClient(settings.mlflow_tracking_uri)
    return {m.name: len(client.search_model_versions(f"name = '{m.name}'")) for m in client.search_registered_models()}


def _snapshot(settings) -> dict:
    with connect(settings.warehouse, read_only=True) as con:
        return {
            "as_of": con.execute("SELECT max(as_of) FROM marts.subscriber_profiles").fetchone()[0],
            "events": con.execute("SELECT count(*) FROM raw.email_events").fetchone()[0],
            "keys": con.execute("SELECT count(*) FROM intermediate.int_email_event_keys").fetchone()[0],
            "assigned": con.execute("SELECT subscriber_key, micro_segment_id FROM ml.segment_assignments").df()
            .set_index("subscriber_key")["micro_segment_id"],
            "scored_as_of": con.execute("SELECT max(as_of) FROM serving.subscriber_scores").fetchone()[0],
        }


@pytest.fixture(scope="module")
def living_world(tmp_path_factory, dbt_manifest):
    base = tmp_path_factory.mktemp("living")
    env = {"MAILSIFT_LANDING_DIR": base / "landing", "MAILSIFT_WAREHOUSE": base / "warehouse.duckdb",
           "MAILSIFT_SERVING_DIR": base / "serving", "MAILSIFT_SALT_FILE": base / "salt",
           "DAGSTER_HOME": base / "dagster_home", "MLFLOW_TRACKING_URI": f"sqlite:///{base / 'mlflow.db'}"}
    saved = {k: os.environ.get(k) for k in [*env, "MAILSIFT_AS_OF"]}
    os.environ.update({k: str(v) for k, v in env.items()})
    os.environ.pop("MAILSIFT_AS_OF", None)
    (base / "dagster_home").mkdir()
    try:
        settings = load_settings()
        assert main(["generate", "--subscribers", str(N), "--seed", "11", "--out", str(settings.landing_dir)]) == 0
        cutoff, delivery = hold_back(settings.landing_dir, days=1)
        from orchestration.sensors import landing_files_sensor

        for path in settings.landing_dir.rglob("*.parquet"):
            os.utime(path, (time.time() - 120, time.time() - 120))
        baseline = dg.build_sensor_context()
        first_tick = landing_files_sensor(baseline)
        instance = dg.DagsterInstance.ephemeral()
        full = run_everything(settings, instance=instance)
        assert full.success
        before, versions_before = _snapshot(settings), _versions(settings)

        counts = write_delivery(settings.landing_dir, delivery, "day-after")
        for entity in counts:
            path = settings.landing_dir / entity / "day-after.parquet"
            os.utime(path, (time.time() - 60, time.time() - 60))  # settled
        tick = landing_files_sensor(dg.build_sensor_context(cursor=baseline.cursor))
        refresh = run_everything(settings, instance=instance, job_name=tick.job_name or "mailsift_refresh")
        assert refresh.success
        yield {"settings": settings, "cutoff": cutoff, "delivered": counts, "first_tick": first_tick, "tick": tick,
               "before": before, "after": _snapshot(settings), "versions_before": versions_before,
               "versions_after": _versions(settings), "refresh": refresh}
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def test_sensor_requests_a_refresh_for_the_new_files(living_world):
    assert isinstance(living_world["first_tick"], dg.SkipReason)  # what was there is the baseline
    tick = living_world["tick"]
    assert isinstance(tick, dg.RunRequest)
    assert tick.tags["mailsift/new_files"] == str(len(living_world["delivered"]))
    from orchestration.definitions import defs

    assert defs.resolve_sensor_def("landing_files_sensor").job_name == "mailsift_refresh"


def test_refresh_loads_the_day_and_rescores_without_training(living_world):
    before, after = living_world["before"], living_world["after"]
    delivered = living_world["delivered"]["email_events"]
    assert after["events"] == before["events"] + delivered
    assert after["keys"] == before["keys"] + delivered  # only the new file's rows were keyed
    assert after["as_of"] > before["as_of"] and after["scored_as_of"] == after["as_of"]
    assert living_world["versions_after"] == living_world["versions_before"]  # no model trained
    steps = {e.step_key for e in living_world["refresh"].all_events if e.event_type_value == "STEP_SUCCESS"}
    assert "segmentation_model" not in steps and "scoring_models" not in steps
    assert {"raw_landing", "segment_assignments", "subscriber_scores", "published_serving_files"} <= steps


def test_moves_and_history_are_recorded(living_world):
    settings, before, after = living_world["settings"], living_world["before"], living_world["after"]
    both = before["assigned"].index.intersection(after["assigned"].index)
    moved = int((before["assigned"][both] != after["assigned"][both]).sum())
    with connect(settings.warehouse, read_only=True) as con:
        transitions = con.execute("SELECT * FROM serving.segment_transitions").df()
        history = con.execute("SELECT * FROM serving.segment_membership_history").df()
        scores_hist = con.execute("SELECT as_of, count(*) n FROM serving.subscriber_scores_history GROUP BY 1 ORDER BY 1").fetchall()
    assert len(transitions) == moved
    assert (transitions["moved_at"] == after["as_of"]).all()
    assert history["valid_to"].isna().sum() == len(after["assigned"])  # one open stretch per subscriber
    assert [a for a, _ in scores_hist] == [before["scored_as_of"], after["scored_as_of"]]
    assert scores_hist[0][1] == len(before["assigned"]) and scores_hist[1][1] == len(after["assigned"])
    published = pd.read_parquet(settings.serving_dir / "segment_transitions.parquet")
    assert len(published) == moved
    manifest = json.loads((settings.serving_dir / "_published.json").read_text())
    assert manifest["run_id"] == living_world["refresh"].run_id


def test_drift_is_checked_against_the_champion(living_world):
    settings = living_world["settings"]
    with connect(settings.warehouse, read_only=True) as con:
        drift = con.execute("SELECT feature, psi, status FROM ml.feature_drift").df()
    assert len(drift) > 20 and drift["psi"].ge(0).all()
    # one more day of data is not a major shift of the list
    assert drift["psi"].max() < 0.25, drift.head()
    checks = {e.check_name for e in living_world["refresh"].get_asset_check_evaluations()}
    assert {"feature_drift_below_warning", "segment_shares_stable"} <= checks
