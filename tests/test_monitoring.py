"""Drift measures by hand, and the sensors' decisions (landing files, drift past the threshold)."""

from __future__ import annotations

import json
import math
import os
import time

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from ml.monitoring import DriftReference, population_stability_index, share_shift


def test_psi_by_hand():
    # (0.25 - 0.5) ln(0.25 / 0.5) + (0.75 - 0.5) ln(0.75 / 0.5) = 0.25 ln 2 + 0.25 ln 1.5
    assert population_stability_index([0.5, 0.5], [0.25, 0.75]) == pytest.approx(0.25 * math.log(2) + 0.25 * math.log(1.5))
    assert population_stability_index([0.2, 0.3, 0.5], [0.2, 0.3, 0.5]) == 0.0
    with pytest.raises(ValueError):
        population_stability_index([0.5, 0.5], [1.0])


def test_share_shift_counts_new_and_vanished_segments():
    trained = pd.Series({"M01": 0.5, "M02": 0.5})
    today = pd.Series({"M01": 0.5, "M03": 0.5})  # M02 vanished, M03 appeared
    out = share_shift(trained, today)
    assert out["max_abs_change"] == pytest.approx(0.5)
    assert out["psi"] > 1.0
    assert share_shift(trained, trained)["psi"] == 0.0


def test_drift_reference_bins_and_missing_values():
    ref = DriftReference(n_bins=4).fit(pd.DataFrame({"x": [1.0, 2, 3, 4, 5, 6, 7, 8]}))
    assert list(ref.edges_["x"]) == [2.75, 4.5, 6.25]  # the training quartiles
    assert list(ref.shares_["x"]) == [0.25, 0.25, 0.25, 0.25, 0.0]  # four bins, none missing
    assert ref.psi(pd.DataFrame({"x": [1.0, 3, 5, 7]}))["x"] == pytest.approx(0.0)
    # half the rows arrive empty: today [0.25, 0.25, 0, 0 | 0.5 missing] against [0.25 x 4 | 0], empty
    # shares floored at 1e-4: two emptied bins and the filled missing bin contribute
    half_missing = ref.psi(pd.DataFrame({"x": [1.0, 3, np.nan, np.nan]}))["x"]
    expected = 2 * (0.25 - 1e-4) * math.log(0.25 / 1e-4) + (0.5 - 1e-4) * math.log(0.5 / 1e-4)
    assert half_missing == pytest.approx(expected, rel=1e-6)
    with pytest.raises(ValueError, match="missing"):
        ref.psi(pd.DataFrame({"y": [1.0]}))


def test_drift_report_recommends_retrain_only_past_the_threshold():
    from orchestration.assets.monitoring import DRIFT_RETRAIN_PSI, drift_report

    rng = np.random.default_rng(0)
    train = pd.DataFrame({"a": rng.normal(size=4000), "b": rng.normal(size=4000)})

    class Model:
        drift_reference_ = DriftReference().fit(train)
        segment_profiles_ = pd.DataFrame({"segment_id": ["M01", "M02"], "level": ["macro"] * 2, "share": [0.5, 0.5]})

    same = pd.DataFrame({"a": rng.normal(size=4000), "b": rng.normal(size=4000)})
    assigned = pd.DataFrame({"macro_segment_id": ["M01", "M02"] * 2000})
    table, shares = drift_report(Model(), same, assigned)
    assert table["psi"].max() < 0.05 and set(table["status"]) == {"stable"} and shares["psi"] == 0.0
    moved = same.assign(a=same["a"] + 1.0)  # one standard deviation: a major shift
    table, _ = drift_report(Model(), moved, assigned)
    assert table.iloc[0]["feature"] == "a" and table.iloc[0]["psi"] > DRIFT_RETRAIN_PSI
    assert table.set_index("feature").loc["a", "status"] == "major"


def test_drift_sensor_starts_a_retrain_only_when_recommended(dbt_manifest):
    from orchestration.assets.monitoring import DRIFT
    from orchestration.definitions import defs
    from orchestration.sensors import drift_retrain_sensor

    with dg.instance_for_test() as instance:
        instance.report_runless_asset_event(dg.AssetMaterialization(DRIFT, metadata={"retrain_recommended": False}))
        ctx = dg.build_sensor_context(instance=instance, definitions=defs)
        assert isinstance(list(drift_retrain_sensor(ctx))[0], dg.SkipReason)
        instance.report_runless_asset_event(dg.AssetMaterialization(DRIFT, metadata={"retrain_recommended": True}))
        ctx = dg.build_sensor_context(instance=instance, definitions=defs, cursor=ctx.cursor)
        requests = list(drift_retrain_sensor(ctx))
        assert isinstance(requests[0], dg.RunRequest)
        assert defs.resolve_sensor_def("drift_retrain_sensor").job_name == "mailsift_everything"


def test_landing_sensor_baseline_settling_and_new_files(isolated_settings, dbt_manifest):
    from orchestration.sensors import landing_files_sensor

    events = isolated_settings.landing_dir / "email_events"
    events.mkdir(parents=True)
    old = events / "a.csv"
    old.write_text("email,event_type,occurred_at\n")
    os.utime(old, (time.time() - 120, time.time() - 120))

    first = dg.build_sensor_context()
    result = landing_files_sensor(first)
    assert isinstance(result, dg.SkipReason) and "1 file(s) already there" in result.skip_message
    assert list(json.loads(first.cursor)) == ["email_events/a.csv"]

    fresh = events / "b.csv"
    fresh.write_text("email,event_type,occurred_at\n")  # just written: may still be growing
    ctx = dg.build_sensor_context(cursor=first.cursor)
    result = landing_files_sensor(ctx)
    assert isinstance(result, dg.SkipReason) and "1 still being written" in result.skip_message

    os.utime(fresh, (time.time() - 60, time.time() - 60))
    (events / "ignored.txt").write_text("not a landing file")
    os.utime(events / "ignored.txt", (time.time() - 60, time.time() - 60))
    ctx = dg.build_sensor_context(cursor=ctx.cursor)
    request = landing_files_sensor(ctx)
    assert isinstance(request, dg.RunRequest) and request.tags["mailsift/new_files"] == "1"
    ctx = dg.build_sensor_context(cursor=ctx.cursor)
    assert isinstance(landing_files_sensor(ctx), dg.SkipReason)  # nothing new since
