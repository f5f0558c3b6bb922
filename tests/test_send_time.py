"""ml.scoring.send_time: shrinkage of each person's hours towards the segment's and the list's.

Hand-written tables with hand-computed answers where the logic is about boundaries, small synthetic
problems (a few thousand rows, seconds) where it is about statistics. No Dagster, no DuckDB.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.scoring import GlobalBestHourBaseline, SendTimeModel, engagement_shares_from_events, hour_hit_rate
from ml.scoring.send_time import DOW_COLUMNS, HOUR_COLUMNS, circular_hour_distance
from tests.scoring_events import ev


def _send_time_profiles():
    rows = []
    for i in range(50):  # segment A engages at 19:00 on Tuesdays, segment B at 08:00 on Saturdays
        rows.append(("A", 19, 1, 20))
        rows.append(("B", 8, 5, 20))
    frame = []
    for k, (seg, hour, dow, n) in enumerate(rows):
        r = {c: 0.0 for c in (*HOUR_COLUMNS, *DOW_COLUMNS)}
        r[HOUR_COLUMNS[hour]] = 1.0
        r[DOW_COLUMNS[dow]] = 1.0
        frame.append({"subscriber_key": f"p{k}", "lifecycle_stage": seg, "engagement_events_total": n, **r})
    return pd.DataFrame(frame)


def _person(key, seg, hour, n):
    r = {c: 0.0 for c in (*HOUR_COLUMNS, *DOW_COLUMNS)}
    if n:
        r[HOUR_COLUMNS[hour]] = 1.0
        r[DOW_COLUMNS[3]] = 1.0
    return {"subscriber_key": key, "lifecycle_stage": seg, "engagement_events_total": n, **r}


def test_send_time_shrinkage_with_0_1_and_100_opens():
    model = SendTimeModel().fit(_send_time_profiles())
    people = pd.DataFrame([_person("zero", "A", 0, 0), _person("one", "A", 3, 1), _person("hundred", "A", 3, 100),
                           _person("stranger", "new segment", 0, 0)])
    qh, qd = model.predict_distributions(people)
    ks, kl = model.k_segment, model.k_list
    prior = (ks * model.segment_hour_.loc["A"].to_numpy() + kl * model.list_hour_) / (ks + kl)
    np.testing.assert_allclose(qh[0], prior)                                   # 0 opens: exactly the prior
    np.testing.assert_allclose(qh[3], model.list_hour_)                        # unknown segment: the list
    out = model.predict(people).set_index("subscriber_key")
    assert out.loc["zero", "best_send_hour_local"] == 19 and out.loc["zero", "best_send_dow"] == 1
    assert out.loc["one", "best_send_hour_local"] == 19                        # 1 open: still the prior's hour
    assert 0 < 0.5 * np.abs(qh[1] - prior).sum() <= 1 / (1 + ks + kl) + 1e-12
    assert out.loc["hundred", "best_send_hour_local"] == 3                     # 100 opens: their own hour
    assert out.loc["hundred", "best_send_dow"] == 3
    assert out.loc["hundred", "send_time_confidence"] > 0.8 > out.loc["zero", "send_time_confidence"]
    assert out.loc["hundred", "evidence_weight"] == pytest.approx(100 / 112)
    assert out.loc["zero", "evidence_weight"] == 0

    flat = SendTimeModel(segment_col=None).fit(_send_time_profiles())
    np.testing.assert_allclose(flat.predict_distributions(people.iloc[[0]])[0][0], flat.list_hour_)


def test_send_time_baseline_hit_rate_and_event_counts():
    profiles = _send_time_profiles()
    profiles.loc[profiles["lifecycle_stage"] == "B", "engagement_events_total"] = 30   # B is the bigger group
    base = GlobalBestHourBaseline().fit(profiles)
    assert base.best_hour_ == 8 and (base.predict(profiles)["best_send_hour_local"] == 8).all()
    model_hours = SendTimeModel().fit(profiles).predict(profiles)["best_send_hour_local"]
    target = np.where(profiles["lifecycle_stage"] == "A", 20, 8)               # 20:00 is within 1 h of 19:00
    assert hour_hit_rate(model_hours, target) == 1.0
    assert hour_hit_rate(base.predict(profiles)["best_send_hour_local"], target) == 0.5
    assert circular_hour_distance(23, 0) == 1 and hour_hit_rate([23, 5], [0, np.nan]) == 1.0

    events = pd.DataFrame([
        {**ev("x", "open", "2024-01-01"), "local_hour": 9, "local_dow": 0},
        {**ev("x", "click", "2024-01-02"), "local_hour": 9, "local_dow": 1},
        {**ev("x", "open", "2024-01-03", machine=True), "local_hour": 3, "local_dow": 2},   # machine: ignored
        {**ev("x", "open", "2024-01-04"), "local_hour": 21, "local_dow": 1},
    ])
    shares = engagement_shares_from_events(events).set_index("subscriber_key")
    assert shares.loc["x", "engagement_events_total"] == 3
    assert shares.loc["x", "eng_hour_09"] == pytest.approx(2 / 3) and shares.loc["x", "eng_hour_03"] == 0
    assert shares.loc["x", "eng_dow_1"] == pytest.approx(2 / 3)
