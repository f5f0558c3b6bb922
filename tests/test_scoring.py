"""ml.scoring: point-in-time labels, calibrated propensities, send time, fatigue, content affinity.

Hand-written tables with hand-computed answers where the logic is about boundaries, small synthetic
problems (a few thousand rows, seconds) where it is about statistics. No Dagster, no DuckDB.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.scoring import (
    ChurnModel, ContentAffinityModel, FatigueModel, GlobalBestHourBaseline, OpenPropensityModel,
    PointInTimeError, PurchasePropensityModel, RecencyBaseline, RecencyFrequencyBaseline, SendTimeModel,
    assert_point_in_time, backtest_frame, beta_binomial_strength, brier, calibration_table,
    engagement_shares_from_events, events_until, hour_hit_rate, make_labels, make_next_send_labels,
    rank_audience, send_level_frame, send_outcomes, top_decile_lift,
)
from ml.scoring import auc
from ml.scoring.value_model import CustomerValueModel
from ml.scoring.calibrated import choose_calibration
from ml.scoring.churn import CHURN_DERIVED_FEATURES, READER_FEATURES, silence_features
from ml.scoring.send_time import DOW_COLUMNS, HOUR_COLUMNS, circular_hour_distance

CUTOFF = pd.Timestamp("2024-03-01 00:00", tz="UTC")


def _ev(key, etype, when, campaign="c1", machine=False, real=None):
    real = (etype in ("open", "click") and not machine) if real is None else real
    return {"subscriber_key": key, "campaign_id": campaign, "event_type": etype, "occurred_at": when,
            "is_machine_open": machine, "is_real_engagement": real}


# ------------------------------------------------------------------------------------------- pit
@pytest.fixture
def hand_events():
    return pd.DataFrame([
        _ev("A", "sent", "2024-02-20 09:00"), _ev("A", "open", "2024-03-01 00:00"),   # at the cut-off: a feature
        _ev("B", "sent", "2024-02-25 09:00"),
        _ev("B", "open", "2024-03-02 09:00", machine=True),                          # machine open: not life
        _ev("B", "click", "2024-03-31 00:00"),                                       # exactly cut-off + 30 d
        _ev("C", "sent", "2024-02-10 09:00"),
        _ev("D", "open", "2024-02-15 09:00"), _ev("D", "open", "2024-03-31 00:00:01"),  # just past the horizon
        _ev("E", "sent", "2024-03-05 09:00"), _ev("E", "open", "2024-03-05 10:00"),    # new after the cut-off
    ])


@pytest.fixture
def hand_orders():
    return pd.DataFrame({
        "subscriber_key": ["A", "C", "C", "C", "D"],
        "ordered_at": ["2024-03-01 00:00", "2024-03-06 12:00", "2024-03-11 12:00", "2024-04-01 12:00",
                       "2024-01-01 12:00"],
        "total_amount": [99.0, 40.0, 60.0, 25.0, 10.0],
        "status": ["completed", "completed", "cancelled", "completed", "completed"],
    })


def test_make_labels_by_hand(hand_events, hand_orders):
    # the cut-off given with an offset: the same instant as 2024-03-01 00:00 UTC
    labels = make_labels(hand_events, hand_orders, "2024-03-01T01:00:00+01:00", 30).set_index("subscriber_key")
    assert sorted(labels.index) == ["A", "B", "C", "D"]               # E only appears after the cut-off
    expect = pd.DataFrame({
        "active_next": [False, True, True, False],     # A: open and order at the cut-off are features
        "purchased_next": [False, False, True, False],  # C: 60 cancelled, 25 after the horizon
        "orders_next": [0, 0, 1, 0],
        "revenue_next": [0.0, 0.0, 40.0, 0.0],
    }, index=pd.Index(["A", "B", "C", "D"], name="subscriber_key"))
    pd.testing.assert_frame_equal(labels.loc[expect.index, expect.columns], expect, check_dtype=False)
    assert (labels["cutoff"] == CUTOFF).all() and (labels["horizon_days"] == 30).all()

    named = make_labels(hand_events, None, CUTOFF, 30, subscribers=["B", "Z"]).set_index("subscriber_key")
    assert named.loc["B", "active_next"] and not named.loc["Z", "active_next"]
    assert named.loc["Z", "orders_next"] == 0


def test_next_send_label_by_hand():
    events = pd.DataFrame([
        _ev("A", "sent", "2024-03-01 00:00", "c0"),                                   # at the cut-off: not next
        _ev("A", "sent", "2024-03-02 09:00", "c1"), _ev("A", "open", "2024-03-03 09:00", "c1"),
        _ev("B", "sent", "2024-03-02 09:00", "c1"), _ev("B", "open", "2024-03-04 09:00", "c2"),  # other campaign
        _ev("C", "sent", "2024-03-02 09:00", "c1"), _ev("C", "open", "2024-03-20 09:00", "c1"),  # too late
        _ev("D", "sent", "2024-02-02 09:00", "c9"),                                   # never mailed after
    ])
    out = make_next_send_labels(events, CUTOFF).set_index("subscriber_key")
    assert sorted(out.index) == ["A", "B", "C"]
    assert out["opened_next_send"].to_dict() == {"A": True, "B": False, "C": False}
    assert out.loc["A", "campaign_id"] == "c1"


def test_point_in_time_refuses_frames_past_the_cutoff(hand_events):
    features = events_until(hand_events, CUTOFF)
    assert features["occurred_at"].max() == "2024-03-01 00:00"       # the boundary event is kept
    assert assert_point_in_time(features, CUTOFF) is features
    leaky = pd.concat([features, pd.DataFrame([_ev("A", "open", "2024-03-01 00:00:01")])])
    with pytest.raises(PointInTimeError, match="occurred_at"):
        assert_point_in_time(leaky, CUTOFF)
    profiles = pd.DataFrame({"subscriber_key": ["A"], "as_of": [CUTOFF + pd.Timedelta(days=1)]})
    with pytest.raises(PointInTimeError, match="as_of"):
        assert_point_in_time(profiles, CUTOFF)
    negative = pd.DataFrame({"as_of": [CUTOFF], "days_since_last_open": [-2.0]})
    with pytest.raises(PointInTimeError, match="days_since_last_open"):
        assert_point_in_time(negative, CUTOFF)
    with pytest.raises(ValueError, match="no time column"):
        assert_point_in_time(pd.DataFrame({"x": [1]}), CUTOFF)


# ------------------------------------------------------------------------------ propensity models
def _profiles(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Profiles with every feature column; the outcome depends on recent opens and open recency."""
    rng = np.random.default_rng(seed)
    cols = set(ChurnModel.DEFAULT_FEATURES) | set(PurchasePropensityModel.DEFAULT_FEATURES) | set(
        OpenPropensityModel.DEFAULT_FEATURES)
    df = pd.DataFrame({c: rng.gamma(1.0, 3.0, n) for c in sorted(cols)})
    for flag in ("is_unsubscribed", "is_hard_bounced", "has_complained", "is_paused"):
        df[flag] = False
    df["is_mailable"] = True
    engaged = rng.normal(size=n)
    df["opens_90d"] = rng.poisson(np.exp(1.0 + engaged))
    days = rng.exponential(np.exp(3.5 - engaged))
    df["days_since_last_open"] = np.where(rng.random(n) < 0.1, np.nan, days)          # some never opened
    df["days_since_last_order"] = np.where(rng.random(n) < 0.5, np.nan, rng.exponential(100, n))
    df["orders_total"] = np.where(df["days_since_last_order"].isna(), 0, rng.integers(1, 10, n))
    df["as_of"] = pd.Timestamp("2024-03-01")
    df["last_send_at"] = df["as_of"] - pd.to_timedelta(rng.exponential(5.0, n), unit="D")  # churn's silence
    df["preferred_frequency"] = rng.choice(np.array([None, "daily", "weekly", "monthly"], dtype=object), n)
    z = -0.5 + 0.8 * np.log1p(df["opens_90d"]) - 0.6 * np.log1p(df["days_since_last_open"].fillna(400)) + 1.5
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    df.insert(0, "subscriber_key", [f"s{i}" for i in range(n)])
    return df, y


def test_churn_silence_features_by_hand():
    rows = pd.DataFrame({
        "sends_30d": [3, 0], "sends_90d": [9, 0], "sends_180d": [12, 2], "sends_total": [20, 4],
        "tenure_days": [380, 200], "days_since_last_open": [60, np.nan], "days_since_last_click": [np.nan, np.nan],
        "days_since_last_order": [75, np.nan], "engagement_rate_smoothed": [0.5, 0.1], "open_rate_smoothed": [0.25, 0.1],
        "real_opens_total": [9, 0], "clicks_total": [0, 0], "orders_total": [1, 0],
        "as_of": pd.Timestamp("2024-03-01"), "last_send_at": [pd.Timestamp("2024-02-28"), pd.NaT],
        "preferred_frequency": ["monthly", None]})
    f = silence_features(rows)
    # A: last engaged 60 days ago -> all 3 sends of the last 30 days + half of the 6 in days 31-90
    assert f["sends_since_last_engagement"].tolist() == pytest.approx([6.0, 4.0])   # B never engaged: every send
    assert f["expected_engagements_missed"].tolist() == pytest.approx([3.0, 0.4])
    assert f["silence_log_likelihood"].tolist() == pytest.approx([6 * np.log(0.5), 4 * np.log(0.9)])
    assert f["silence_log_likelihood_open"].tolist() == pytest.approx([6 * np.log(0.75), 4 * np.log(0.9)])
    assert f["silence_vs_usual_gap"].tolist() == pytest.approx([60 / (380 / 11), 200 / 200])
    assert f["days_since_last_send"].iloc[0] == pytest.approx(2.0) and np.isnan(f["days_since_last_send"].iloc[1])
    # the preference centre's monthly = 12 sends a year; no choice = unknown
    weekly = f["preferred_sends_per_week"]
    assert weekly.iloc[0] == pytest.approx(12 / 52) and np.isnan(weekly.iloc[1])
    with pytest.raises(ValueError, match="last_send_at"):
        silence_features(rows.drop(columns="last_send_at"))
    with pytest.raises(ValueError, match="preferred_frequency"):
        silence_features(rows.drop(columns="preferred_frequency"))
    assert silence_features(rows.drop(columns="preferred_frequency"), ["silence_log_likelihood"]).shape == (2, 1)


def test_churn_model_without_derived_features_needs_no_silence_inputs():
    train, y = _profiles(1500, 3)
    base = [c for c in ChurnModel.DEFAULT_FEATURES]  # e.g. a champion fitted before the derived features
    inputs = ["as_of", "last_send_at", "preferred_frequency"]
    model = ChurnModel(features=base, max_iter=20).fit(train.drop(columns=inputs), y)
    assert list(model.feature_names_) == base
    assert model.predict_proba(train.drop(columns=inputs)).shape == (1500, 2)
    full = ChurnModel(max_iter=20).fit(train, y)
    assert list(full.feature_names_)[-len(CHURN_DERIVED_FEATURES):] == list(CHURN_DERIVED_FEATURES)


@pytest.mark.parametrize("model_class", [ChurnModel, PurchasePropensityModel, OpenPropensityModel])
def test_calibrated_models_on_a_synthetic_problem(model_class):
    train, y_train = _profiles(2000, 1)
    test, y_test = _profiles(2000, 2)
    model = model_class(max_iter=60).fit(train, y_train)
    assert model.calibration_method_ == "sigmoid"                        # 2,000 rows: too few for isotonic
    p = model.predict_proba(test)[:, 1]
    assert p.shape == (2000,) and ((p >= 0) & (p <= 1)).all()
    assert abs(p.mean() - y_test.mean()) < 0.03                            # mean predicted ~ observed
    assert brier(y_test, p) < brier(y_test, np.full(len(y_test), y_train.mean()))
    table = calibration_table(y_test, p)
    assert len(table) == 10 and table["n"].sum() == 2000
    assert (table["gap"].abs() < 0.12).all()
    assert top_decile_lift(y_test, p) > 1.2
    frame = model.predict_frame(test)
    assert list(frame.columns) == ["subscriber_key", model_class.OUTPUT_COLUMN]



def _night_and_morning_readers(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Profiles whose outcome depends only on the kind of reader: mobile readers at 23:00 have it with
    probability 0.6, desktop readers at 07:00 with 0.2; every other column is noise."""
    df, _ = _profiles(n, seed)
    rng = np.random.default_rng(seed + 100)
    night = rng.random(n) < 0.5
    for c in HOUR_COLUMNS:
        df[c] = 0.0
    df["eng_hour_23"] = np.where(night, 1.0, 0.0)
    df["eng_hour_07"] = np.where(night, 0.0, 1.0)
    df["share_mobile"] = np.where(night, 0.9, 0.1)
    df["share_desktop"] = 1.0 - df["share_mobile"]
    df["share_tablet"] = 0.0
    return df, (rng.random(n) < np.where(night, 0.6, 0.2)).astype(int)


@pytest.mark.parametrize("model_class", [ChurnModel, PurchasePropensityModel])
def test_churn_and_purchase_models_read_the_reading_habits(model_class):
    train, y_train = _night_and_morning_readers(3000, 4)
    test, y_test = _night_and_morning_readers(3000, 5)
    assert set(READER_FEATURES) <= set(model_class.DEFAULT_FEATURES)
    p = model_class(max_iter=40).fit(train, y_train).predict_proba(test)[:, 1]
    night = test["eng_hour_23"].to_numpy() == 1.0
    assert p[night].mean() == pytest.approx(0.6, abs=0.05) and p[~night].mean() == pytest.approx(0.2, abs=0.05)
    # the best AUC here, by hand: (0.3 * 0.4 + (0.3 * 0.2 + 0.1 * 0.4) / 2) / (0.4 * 0.6) = 0.708;
    # a model that cannot see the reading habits has only noise: ~0.5
    blind = [c for c in model_class.DEFAULT_FEATURES if c not in READER_FEATURES]
    p_blind = model_class(features=blind, max_iter=40).fit(train, y_train).predict_proba(test)[:, 1]
    assert auc(y_test, p) > 0.65 > 0.56 > auc(y_test, p_blind)

def test_calibration_choice_and_missing_columns():
    assert choose_calibration(np.r_[np.zeros(4000), np.ones(1000)], 3) == "isotonic"
    assert choose_calibration(np.r_[np.zeros(4900), np.ones(100)], 3) == "sigmoid"
    train, y = _profiles(100, 3)
    with pytest.raises(ValueError, match="opens_90d"):
        ChurnModel().fit(train.drop(columns="opens_90d"), y)


def test_baselines_and_backtest_frame():
    profiles = pd.DataFrame({
        "subscriber_key": ["a", "b", "c", "d"],
        "days_since_last_open": [3.0, np.nan, 50.0, np.nan], "days_since_last_click": [10.0, 20.0, np.nan, np.nan],
        "days_since_last_order": [np.nan, 5.0, 80.0, np.nan], "tenure_days": [100.0, 200.0, 300.0, 400.0],
        "orders_total": [0, 2, 9, 0],
    })
    base = RecencyBaseline()
    assert base.decision_function(profiles).tolist() == [3.0, 5.0, 50.0, 400.0]   # never -> tenure
    y_churn = np.array([0, 0, 1, 1])
    assert base.fit(profiles, y_churn).predict_proba(profiles)[:, 1].tolist() == [0.0, 0.0, 1.0, 1.0]

    rf = RecencyFrequencyBaseline(prior_strength=2.0).fit(profiles, np.array([0, 1, 1, 0]))
    p = rf.predict_proba(profiles)[:, 1]
    assert p[0] == p[3] == pytest.approx((0 + 2 * 0.5) / (2 + 2))                  # the never-ordered cell
    assert p[1] == pytest.approx((1 + 2 * 0.5) / (1 + 2))

    table = backtest_frame(y_churn, {"model": [0.1, 0.2, 0.9, 0.8], "recency": base.decision_function(profiles)},
                           cutoff=CUTOFF, horizon=90, baseline="recency")
    assert list(table.columns) == ["model", "cutoff", "horizon", "metric", "value", "baseline", "baseline_value"]
    row = table.set_index("metric")
    assert row.loc["auc", "value"] == 1.0 and row.loc["auc", "baseline_value"] == 1.0
    assert np.isnan(row.loc["brier", "baseline_value"])                         # raw days: not a probability
    assert row.loc["brier", "value"] == pytest.approx((0.01 + 0.04 + 0.01 + 0.04) / 4)


# ------------------------------------------------------------------------------------- send time
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
        {**_ev("x", "open", "2024-01-01"), "local_hour": 9, "local_dow": 0},
        {**_ev("x", "click", "2024-01-02"), "local_hour": 9, "local_dow": 1},
        {**_ev("x", "open", "2024-01-03", machine=True), "local_hour": 3, "local_dow": 2},   # machine: ignored
        {**_ev("x", "open", "2024-01-04"), "local_hour": 21, "local_dow": 1},
    ])
    shares = engagement_shares_from_events(events).set_index("subscriber_key")
    assert shares.loc["x", "engagement_events_total"] == 3
    assert shares.loc["x", "eng_hour_09"] == pytest.approx(2 / 3) and shares.loc["x", "eng_hour_03"] == 0
    assert shares.loc["x", "eng_dow_1"] == pytest.approx(2 / 3)


# ---------------------------------------------------------------------------------------- fatigue
def test_send_level_frame_counts_previous_sends_by_hand():
    days = [0, 1, 3, 8, 10]
    events = pd.DataFrame([_ev("a", "sent", CUTOFF + pd.Timedelta(days=d), f"c{d}") for d in days]
                          + [_ev("a", "open", CUTOFF + pd.Timedelta(days=1, hours=2), "c1"),
                             _ev("a", "open", CUTOFF + pd.Timedelta(days=3, hours=2), "c3", machine=True)])
    sends = send_level_frame(events)
    # day 10 looks back to [day 3, day 10): day 3 (exactly 7 days before) and day 8
    assert sends["sends_prev_7d"].tolist() == [0, 1, 2, 2, 2]
    assert sends["opened"].tolist() == [False, True, False, False, False]


def _fatigue_sends(seed=0, n_people=40, weeks=30):
    """Cadence varies week to week; half the people lose opens when mailed often, half do not."""
    rng = np.random.default_rng(seed)
    events = []
    for i in range(n_people):
        sensitive = i % 2 == 0
        t = CUTOFF
        for w in range(weeks):
            cadence = rng.choice([1, 2, 4, 7])
            for j in range(cadence):
                events.append(_ev(f"p{i}", "sent", t + pd.Timedelta(days=7 * j / cadence), f"w{w}-{j}"))
            t += pd.Timedelta(days=7)
    sends = send_level_frame(pd.DataFrame(events))
    beta = np.where(sends["subscriber_key"].str[1:].astype(int) % 2 == 0, -2.0, 0.0)
    p = 1 / (1 + np.exp(-(0.5 + beta * np.log1p(sends["sends_prev_7d"]))))
    sends["opened"] = rng.random(len(sends)) < p
    sends["lifecycle_stage"] = np.where(beta < 0, "sensitive", "steady")
    return sends


def test_fatigue_is_monotone_in_cadence_for_a_sensitive_subscriber():
    sends = _fatigue_sends()
    model = FatigueModel().fit(sends)
    subs = model.subscribers_
    sensitive = subs.index.str[1:].astype(int) % 2 == 0
    assert subs.loc[sensitive, "beta"].mean() < -1.0 < subs.loc[~sensitive, "beta"].mean()
    assert model.list_slope_ < 0 and model.segment_slopes_["sensitive"] < model.segment_slopes_["steady"]
    person = pd.DataFrame({"subscriber_key": ["p0"], "lifecycle_stage": ["sensitive"], "sends_per_week_90d": [3.0]})
    scores = [model.fatigue_score(person, w)[0] for w in (1, 2, 3, 5, 7)]
    assert scores[0] == 0 and all(a < b for a, b in zip(scores, scores[1:]))
    both = pd.DataFrame({"subscriber_key": ["p0", "p1", "new"], "lifecycle_stage": ["sensitive", "steady", "steady"],
                         "sends_per_week_90d": [7.0, 7.0, 7.0]})
    out = model.predict(both).set_index("subscriber_key")
    assert out.loc["p0", "fatigue_score"] > 0.3 > out.loc["p1", "fatigue_score"]
    assert out.loc["p0", "recommended_max_emails_per_week"] < out.loc["p1", "recommended_max_emails_per_week"]
    assert out.loc["new", "fatigue_sensitivity"] == pytest.approx(model.segment_slopes_["steady"])


def test_fatigue_stops_at_convergence_with_the_fit_of_every_sweep():
    """Newton sweeps stop once nothing moves by ``tol``: the same slopes as running all of them, fewer sweeps;
    a model pickled before ``tol`` existed loads and stops at convergence too."""
    import pickle

    sends = _fatigue_sends()
    early = FatigueModel().fit(sends)
    full = FatigueModel(tol=0.0).fit(sends)
    assert full.sweeps_ == [30, 30, 30] and max(early.sweeps_) < 30
    np.testing.assert_allclose(early.subscribers_[["alpha", "beta"]], full.subscribers_[["alpha", "beta"]], atol=1e-6)
    state = early.__getstate__()
    del state["tol"]
    old = FatigueModel.__new__(FatigueModel)
    old.__setstate__(state)
    assert pickle.loads(pickle.dumps(old)).get_params()["tol"] == FatigueModel().tol


# --------------------------------------------------------------------------------------- affinity
def _affinity_sends(fan: bool = True):
    """150 people per segment, own click rates spread around the segment's (Beta, strength 20)."""
    rng = np.random.default_rng(5)
    rows = []
    means = {("A", "running"): 0.30, ("A", "yoga"): 0.02, ("B", "running"): 0.03, ("B", "yoga"): 0.20}
    for i in range(300):
        seg = "A" if i < 150 else "B"
        for topic in ("running", "yoga"):
            rate = rng.beta(20 * means[seg, topic], 20 * (1 - means[seg, topic]))
            for _ in range(10):
                rows.append((f"p{i}", seg, topic, "discount" if rng.random() < 0.5 else "editorial",
                             rng.random() < rate))
    if fan:  # clicks 90 % of 1,000 running e-mails although segment B does not care for running
        rows += [("fan", "B", "running", "editorial", k < 900) for k in range(1000)]
    return pd.DataFrame(rows, columns=["subscriber_key", "lifecycle_stage", "content_topic", "offer_type", "clicked"])


def test_affinity_shrinkage_from_no_evidence_to_lots():
    model = ContentAffinityModel().fit(_affinity_sends())
    seg = model.segment_rates_.set_index(["segment", "dimension", "value"])["rate"]
    lst = model.list_rates_.set_index(["dimension", "value"])["rate"]
    people = pd.DataFrame({"subscriber_key": ["nobody_a", "nobody_x", "fan", "p0"],
                           "lifecycle_stage": ["A", "X", "B", "A"]})
    aff, n = model.affinity(people, "content_topic", "running")
    assert aff[0] == pytest.approx(seg["A", "content_topic", "running"])       # no evidence: segment rate
    assert aff[1] == pytest.approx(lst["content_topic", "running"])            # unknown segment: list rate
    assert aff[2] == pytest.approx(0.9, abs=0.02) and n.tolist() == [0, 0, 1000, 10]   # lots: own rate
    own_p0 = model.person_counts_.loc[("p0", "content_topic", "running"), "clicks"] / 10
    assert min(own_p0, aff[0]) < aff[3] < max(own_p0, aff[0])                 # 10 sends: in between
    assert seg["A", "content_topic", "running"] == pytest.approx(0.30, abs=0.04)
    strengths = model.prior_strength_.set_index(["dimension", "level"])["strength"]
    assert 1.0 <= strengths["content_topic", "person"] <= 1e4
    long = model.predict_frame(people)
    assert list(long.columns) == ["subscriber_key", "dimension", "value", "affinity", "evidence_sends"]
    assert set(long["dimension"]) == {"content_topic", "offer_type"} and len(long) == 4 * 4


def test_affinity_matrix_is_the_hand_formula_for_every_pair_at_once():
    """The dense path (one pass over the counts) against the formula (x + m prior) / (n + m) by hand,
    with a repeated key, an unseen person, an unknown segment and a value never sent."""
    model = ContentAffinityModel().fit(_affinity_sends())
    seg = model.segment_rates_.set_index(["segment", "dimension", "value"])["rate"]
    lst = model.list_rates_.set_index(["dimension", "value"])["rate"]
    counts = model.person_counts_
    people = pd.DataFrame({"subscriber_key": ["p0", "fan", "nobody", "p0", "p200"],
                           "lifecycle_stage": ["A", "B", "X", "A", "B"]})
    pairs = [("content_topic", "running"), ("offer_type", "discount"), ("overall", "all"), ("content_topic", "golf")]
    aff, n = model.affinity_matrix(people, pairs)
    assert aff.shape == n.shape == (5, 4)
    for i, (key, segment) in enumerate(people.itertuples(index=False)):
        for j, (dim, value) in enumerate(pairs[:3]):
            m = model._person_strength(dim)
            prior = seg.get((segment, dim, value), lst[dim, value])
            x, sent = (counts.loc[(key, dim, value), ["clicks", "sends"]].tolist()
                       if (key, dim, value) in counts.index else (0.0, 0.0))
            assert n[i, j] == sent
            assert aff[i, j] == pytest.approx((x + m * prior) / (sent + m), rel=1e-12)
    np.testing.assert_array_equal(aff[:, 3], aff[:, 2])  # golf was never sent: the overall rate, no evidence
    assert (n[:, 3] == 0).all() and n[1, 0] == 1000 and n[0, 0] == 10
    np.testing.assert_array_equal(aff[0], aff[3])  # the repeated key
    one, sent = model.affinity(people, "content_topic", "running")
    np.testing.assert_array_equal(one, aff[:, 0])
    np.testing.assert_array_equal(sent, n[:, 0])


def test_affinity_with_integer_keys_and_segment_codes_is_the_same_model():
    """Scoring passes each person as their row number and the segment as an integer code (-1: none):
    the same groups as the strings, so the same probabilities for every person and value."""
    sends = _affinity_sends()
    sends.loc[sends["subscriber_key"] == "p7", "lifecycle_stage"] = None  # one person without a stage
    named = ContentAffinityModel().fit(sends)
    key_code, key_names = pd.factorize(sends["subscriber_key"])
    seg_code = pd.factorize(sends["lifecycle_stage"])[0]
    coded = ContentAffinityModel().fit(sends.assign(subscriber_key=key_code, lifecycle_stage=seg_code))
    people = pd.DataFrame({"subscriber_key": ["p0", "p7", "fan", "p200"], "lifecycle_stage": ["A", None, "B", "B"]})
    rows = pd.DataFrame({"subscriber_key": pd.Index(key_names).get_indexer(people["subscriber_key"]),
                         "lifecycle_stage": [0, -1, 1, 1]})
    assert seg_code[sends["subscriber_key"].eq("p0").to_numpy()][0] == 0  # "A" is code 0, "B" code 1
    pairs = [*named.value_pairs(), ("overall", "all")]
    assert coded.value_pairs() == named.value_pairs()
    np.testing.assert_allclose(coded.affinity_matrix(rows, pairs)[0], named.affinity_matrix(people, pairs)[0], rtol=1e-12)
    np.testing.assert_array_equal(coded.affinity_matrix(rows, pairs)[1], named.affinity_matrix(people, pairs)[1])


def test_method_of_moments_recovers_the_prior_strength():
    rng = np.random.default_rng(11)
    p = rng.beta(2.0, 18.0, 3000)                                              # mean 0.1, strength 20
    n = np.full(3000, 30)
    x = rng.binomial(n, p)
    assert 12 < beta_binomial_strength(x, n, np.full(3000, 0.1)) < 32
    assert beta_binomial_strength(rng.binomial(n, 0.1), n, np.full(3000, 0.1)) > 300   # no spread: strong prior


def test_send_outcomes_from_events():
    events = pd.DataFrame([_ev("a", "sent", "2024-01-01", "c1"), _ev("a", "click", "2024-01-01 01:00", "c1"),
                           _ev("b", "sent", "2024-01-01", "c1"),
                           _ev("b", "click", "2024-01-01 01:00", "c1", real=False)])   # scanner click
    campaigns = pd.DataFrame({"campaign_id": ["c1"], "sent_at": ["2024-01-01"], "content_topic": ["yoga"],
                              "offer_type": ["discount"]})
    out = send_outcomes(events, campaigns).set_index("subscriber_key")
    assert out["clicked"].to_dict() == {"a": True, "b": False}
    assert (out["content_topic"] == "yoga").all() and "category" not in out.columns


def test_rank_audience_ordering_and_size_cuts():
    sends = _affinity_sends(fan=False)
    model = ContentAffinityModel().fit(sends)
    runs = sends[(sends["lifecycle_stage"] == "B") & (sends["content_topic"] == "running")]
    top_b = runs.groupby("subscriber_key")["clicked"].sum().idxmax()         # B's keenest runner
    candidates = pd.DataFrame({"subscriber_key": ["newA1", "newA2", "newB1", "newB2", top_b, "gone"],
                               "lifecycle_stage": ["A", "A", "B", "B", "B", "A"],
                               "is_mailable": [True, True, True, True, True, False]})
    ranked = rank_audience(model, candidates, topic="running", offer="editorial")
    assert "gone" not in set(ranked["subscriber_key"]) and len(ranked) == 5
    assert ranked["predicted_click_probability"].is_monotonic_decreasing
    assert ranked["rank"].tolist() == [1, 2, 3, 4, 5]
    assert ranked["subscriber_key"].tolist()[:2] == ["newA1", "newA2"]        # A likes running; ties by key
    assert ranked["subscriber_key"].tolist()[2:] == [top_b, "newB1", "newB2"]  # own evidence lifts top_b
    assert len(rank_audience(model, candidates, "running", "editorial", size=2)) == 2
    assert len(rank_audience(model, candidates, "running", "editorial", size="40%")) == 2   # ceil(0.4 * 5)
    assert len(rank_audience(model, candidates, "running", "editorial", size="50%")) == 3   # ceil(2.5)
    assert len(rank_audience(model, candidates, "running", "editorial", size="3")) == 3
    yoga = rank_audience(model, candidates, topic="yoga")
    assert set(yoga["subscriber_key"].iloc[-2:]) == {"newA1", "newA2"}          # A does not do yoga
    unknown = rank_audience(model, candidates, topic="chess")                 # never sent: no lift
    np.testing.assert_allclose(unknown["topic_affinity"], unknown["predicted_click_probability"])
    with pytest.raises(ValueError):
        rank_audience(model, candidates, "running", size=0.5)


@pytest.mark.filterwarnings("ignore:a parameter reached its bound")  # a made-up history of 70 buyers
def test_value_model_shares_the_first_purchase_rate_out_by_weight():
    rng = np.random.default_rng(0)
    cutoff = pd.Timestamp("2024-06-01")
    rows = []
    for i in range(60):  # 60 buyers with repeat purchases in the year before the cut-off; half went quiet
        for d in np.sort(rng.uniform(1 if i % 2 else 200, 360, 1 + rng.poisson(2.0))):
            rows.append({"subscriber_key": f"b{i}", "ordered_at": cutoff - pd.Timedelta(days=float(d)),
                         "total_amount": float(rng.gamma(4.0, 10.0))})
    for i in range(10):  # 10 first purchases in the last 90 days: the first-purchase rate is 10 / (200 - 60)
        rows.append({"subscriber_key": f"f{i}", "ordered_at": cutoff - pd.Timedelta(days=5.0 + 6 * i),
                     "total_amount": 30.0})
    orders = pd.DataFrame(rows)
    model = CustomerValueModel().fit(orders, cutoff, n_subscribers=200)
    rate = model.first_purchase_rate_
    assert rate == pytest.approx(10 / 140)
    keys = ["b0", "b1", "n1", "n2", "n3"]
    plain = model.predict(orders, cutoff, keys).set_index("subscriber_key")
    shared = model.predict(orders, cutoff, keys, first_purchase_weight=[0.9, 0.0, 0.1, 0.3, 0.2]).set_index(
        "subscriber_key")
    # buyers are the BG/NBD's and do not move; the non-buyers' mean weight is 0.2 -> x0.5, x1.5, x1
    pd.testing.assert_frame_equal(plain.loc[["b0", "b1"]], shared.loc[["b0", "b1"]])
    assert plain.loc[["n1", "n2", "n3"], "expected_orders_90d"].tolist() == pytest.approx([rate] * 3)
    assert shared.loc[["n1", "n2", "n3"], "expected_orders_90d"].tolist() == pytest.approx(
        [0.5 * rate, 1.5 * rate, rate])
    assert shared.loc[["n1", "n2", "n3"], "expected_orders_90d"].sum() == pytest.approx(3 * rate)
    assert shared.loc["n2", "predicted_clv_365d"] == pytest.approx(1.5 * rate * 365 / 90 * model.mean_spend_)
    assert shared.loc[["n1", "n2", "n3"], "p_alive"].isna().all()
    # nothing to share out by: everyone keeps the list's rate
    zero = model.predict(orders, cutoff, keys, first_purchase_weight=[1, 1, 0, 0, 0]).set_index("subscriber_key")
    assert zero.loc[["n1", "n2", "n3"], "expected_orders_90d"].tolist() == pytest.approx([rate] * 3)
    with pytest.raises(ValueError, match="4 values for 5"):
        model.predict(orders, cutoff, keys, first_purchase_weight=[1, 1, 1, 1])
    with pytest.raises(ValueError, match="non-negative"):
        model.predict(orders, cutoff, keys, first_purchase_weight=[1, 1, -1, 1, 1])
