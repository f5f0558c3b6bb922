"""A day of new events on the shared demo world (tests/demo_world.py): the landing sensor asks for a
refresh, the refresh job updates every serving table with the champion models (no training) and
records the moves and the history.

The world's last day was cut out of the generated files before the first full run (ml.synthetic.split)
and delivered afterwards as new files, the way tomorrow's export lands.
"""

from __future__ import annotations

import json

import dagster as dg
import pandas as pd
import pytest

from orchestration.warehouse import connect

# one pytest-xdist worker builds the shared demo world and runs every test on it (`make test`)
pytestmark = pytest.mark.xdist_group("demo_world")


@pytest.fixture(scope="module")
def refreshed(demo_world):
    return demo_world.refresh | {"settings_env": demo_world.env, "world": demo_world}


def test_sensor_requests_a_refresh_for_the_new_files(refreshed, dbt_manifest):
    assert isinstance(refreshed["first_tick"], dg.SkipReason)  # what was there is the baseline
    tick = refreshed["tick"]
    assert isinstance(tick, dg.RunRequest)
    assert tick.tags["mailsift/new_files"] == str(len(refreshed["delivered"]))
    from orchestration.definitions import defs

    assert defs.resolve_sensor_def("landing_files_sensor").job_name == "mailsift_refresh"


def test_refresh_loads_the_day_and_rescores_without_training(refreshed):
    before, after = refreshed["before"], refreshed["after"]
    delivered = refreshed["delivered"]["email_events"]
    assert delivered > 0
    assert after["events"] == before["events"] + delivered
    assert after["keys"] == before["keys"] + delivered  # only the new file's rows were keyed
    assert after["as_of"] > before["as_of"] and after["scored_as_of"] == after["as_of"]
    assert refreshed["versions_after"] == refreshed["versions_before"]  # no model trained
    steps = {e.step_key for e in refreshed["result"].all_events if e.event_type_value == "STEP_SUCCESS"}
    assert "segmentation_model" not in steps and "scoring_models" not in steps
    assert {"raw_landing", "segment_assignments", "subscriber_scores", "published_serving_files"} <= steps


def test_moves_and_history_are_recorded(refreshed):
    world, before, after = refreshed["world"], refreshed["before"], refreshed["after"]
    both = before["assigned"].index.intersection(after["assigned"].index)
    moved = int((before["assigned"][both] != after["assigned"][both]).sum())
    with connect(world.warehouse, read_only=True) as con:
        transitions = con.execute("SELECT * FROM serving.segment_transitions").df()
        history = con.execute("SELECT * FROM serving.segment_membership_history").df()
        scores_hist = con.execute(
            "SELECT as_of, count(*) n FROM serving.subscriber_scores_history GROUP BY 1 ORDER BY 1").fetchall()
        profiles = con.execute("SELECT description, size, share FROM serving.segment_profiles").df()
    # sizes are this assignment's; each description opens with them, not with the sizes at training
    assert all(d.startswith(f"{n:,} subscribers ({sh:.1%} of the list)")
               for d, n, sh in zip(profiles["description"], profiles["size"], profiles["share"]))
    assert len(transitions) == moved
    assert (transitions["moved_at"] == after["as_of"]).all()
    assert history["valid_to"].isna().sum() == len(after["assigned"])  # one open stretch per subscriber
    assert [a for a, _ in scores_hist] == [before["scored_as_of"], after["scored_as_of"]]
    assert scores_hist[0][1] == len(before["assigned"]) and scores_hist[1][1] == len(after["assigned"])
    published = pd.read_parquet(world.serving_dir / "segment_transitions.parquet")
    assert len(published) == moved
    manifest = json.loads((world.serving_dir / "_published.json").read_text())
    assert manifest["run_id"] == refreshed["result"].run_id
    # the scores history is published one file per as_of: the refresh added its own day's file
    files = sorted((world.serving_dir / "subscriber_scores_history").glob("*.parquet"))
    assert [f.name for f in files] == [a.strftime("%Y%m%dT%H%M%S.parquet") for a, _ in scores_hist]
    assert [len(pd.read_parquet(f)) for f in files] == [n for _, n in scores_hist]
    assert sorted(manifest["partitions"]["subscriber_scores_history"]) == [a.isoformat() for a, _ in scores_hist]


def test_drift_is_checked_against_the_champion(refreshed):
    world = refreshed["world"]
    with connect(world.warehouse, read_only=True) as con:
        drift = con.execute("SELECT feature, psi, status FROM ml.feature_drift").df()
    assert len(drift) > 20 and drift["psi"].ge(0).all()
    # one more day of data is not a major shift of the list
    assert drift["psi"].max() < 0.25, drift.head()
    checks = {e.check_name for e in refreshed["result"].get_asset_check_evaluations()}
    assert {"feature_drift_below_warning", "segment_shares_stable"} <= checks
