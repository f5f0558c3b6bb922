"""ml.scoring: point-in-time labels, calibrated propensities, baselines, the value model's weights.

Hand-written tables with hand-computed answers where the logic is about boundaries, small synthetic
problems (a few thousand rows, seconds) where it is about statistics. No Dagster, no DuckDB.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.scoring import (
    ChurnModel, OpenPropensityModel, PointInTimeError, PurchasePropensityModel, RecencyBaseline,
    RecencyFrequencyBaseline, assert_point_in_time, backtest_frame, brier, calibration_table, events_until,
    make_labels, make_next_send_labels, top_decile_lift, auc,
)
from ml.scoring.value_model import CustomerValueModel
from ml.scoring.calibrated import choose_calibration
from ml.scoring.churn import CHURN_DERIVED_FEATURES, READER_FEATURES, silence_features
from ml.scoring.send_time import HOUR_COLUMNS
from tests.scoring_events import CUTOFF, ev


def ev(key, etype, when, campaign="c1", machine=False, real=None):
    real = (etype in ("open", "click") and not machine) if real is None else real
    return {"subscriber_key": key, "campaign_id": campaign, "event_type": etype, "occurred_at": when,
            "is_machine_open": machine, "is_real_engagement": real}


# ------------------------------------------------------------------------------------------- pit
@pytest.fixture
def hand_events():
    return pd.DataFrame([
        ev("A", "sent", "2024-02-20 09:00"), ev("A", "open", "2024-03-01 00:00"),   # at the cut-off: a feature
        ev("B", "sent", "2024-02-25 09:00"),
        ev("B", "open", "2024-03-02 09:00", machine=True),                          # machine open: not life
        ev("B", "click", "2024-03-31 00:00"),                                       # exactly cut-off + 30 d
        ev("C", "sent", "2024-02-10 09:00"),
        ev("D", "open", "2024-02-15 09:00"), ev("D", "open", "2024-03-31 00:00:01"),  # just past the horizon
        ev("E", "sent", "2024-03-05 09:00"), ev("E", "open", "2024-03-05 10:00"),    # new after the cut-off
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
        ev("A", "sent", "2024-03-01 00:00", "c0"),                                   # at the cut-off: not next
        ev("A", "sent", "2024-03-02 09:00", "c1"), ev("A", "open", "2024-03-03 09:00", "c1"),
        ev("B", "sent", "2024-03-02 09:00", "c1"), ev("B", "open", "2024-03-04 09:00", "c2"),  # other campaign
        ev("C", "sent", "2024-03-02 09:00", "c1"), ev("C", "open", "2024-03-20 09:00", "c1"),  # too late
        ev("D", "sent", "2024-02-02 09:00", "c9"),                                   # never mailed after
    ])
    out = make_next_send_labels(events, CUTOFF).set_index("subscriber_key")
    assert sorted(out.index) == ["A", "B", "C"]
    assert out["opened_next_send"].to_dict() == {"A": True, "B": False, "C": False}
    assert out.loc["A", "campaign_id"] == "c1"


def test_point_in_time_refuses_frames_past_the_cutoff(hand_events):
    features = events_until(hand_events, CUTOFF)
    assert features["occurred_at"].max() == "2024-03-01 00:00"       # the boundary event is kept
    assert assert_point_in_time(features, CUTOFF) is features
    leaky = pd.concat([features, pd.DataFrame([ev("A", "open", "2024-03-01 00:00:01")])])
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



def _value_history():
    """(orders, cut-off): 60 made-up buyers with repeat purchases in the year before the cut-off (half
    went quiet) and 10 first purchases in the last 90 days, on a list of 200."""
    rng = np.random.default_rng(0)
    cutoff = pd.Timestamp("2024-06-01")
    rows = []
    for i in range(60):
        for d in np.sort(rng.uniform(1 if i % 2 else 200, 360, 1 + rng.poisson(2.0))):
            rows.append({"subscriber_key": f"b{i}", "ordered_at": cutoff - pd.Timedelta(days=float(d)),
                         "total_amount": float(rng.gamma(4.0, 10.0))})
    for i in range(10):  # the first-purchase rate is 10 / (200 - 60)
        rows.append({"subscriber_key": f"f{i}", "ordered_at": cutoff - pd.Timedelta(days=5.0 + 6 * i),
                     "total_amount": 30.0})
    return pd.DataFrame(rows), cutoff


@pytest.mark.filterwarnings("ignore:a parameter reached its bound")  # a made-up history of 70 buyers
def test_value_model_shares_the_first_purchase_rate_out_by_weight():
    orders, cutoff = _value_history()
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


@pytest.mark.filterwarnings("ignore:a parameter reached its bound")
def test_value_model_rescales_buyers_by_a_purchase_probability():
    orders, cutoff = _value_history()
    model = CustomerValueModel().fit(orders, cutoff, n_subscribers=200)
    keys = ["b0", "b1", "b2", "n1"]
    summary = model._summary(orders, cutoff).loc[["b0", "b1", "b2"]]
    x, t_x, T = (summary[c].to_numpy(float) for c in ("x", "t_x", "T"))
    own = model.bgnbd_.probability_of_purchases_in(30.0, x, t_x, T)
    # given alive: 1 - ((alpha + T) / (alpha + T + 30))^(r + x), by hand; times p_alive without it
    p = model.bgnbd_.params_
    alive = model.bgnbd_.probability_of_purchases_in(30.0, x, t_x, T, given_alive=True)
    assert alive == pytest.approx(1 - ((p["alpha"] + T) / (p["alpha"] + T + 30)) ** (p["r"] + x))
    assert own == pytest.approx(model.bgnbd_.p_alive(x, t_x, T) * alive)
    plain = model.predict(orders, cutoff, keys).set_index("subscriber_key")
    # b0: the other model agrees with the BG/NBD; b1: it sees twice the chance; b2: none at all
    scaled = model.predict(orders, cutoff, keys, purchase_probability_30d=[own[0], 2 * own[1], 0.0, 0.5]
                           ).set_index("subscriber_key")
    pd.testing.assert_series_equal(scaled["p_alive"], plain["p_alive"])          # stays the BG/NBD's
    forecasts = ["expected_orders_90d", "predicted_clv_365d", "predicted_clv_365d_low", "predicted_clv_365d_high"]
    assert scaled.loc["b0", forecasts].tolist() == pytest.approx(plain.loc["b0", forecasts].tolist())
    assert scaled.loc["b1", forecasts].tolist() == pytest.approx((2 * plain.loc["b1", forecasts]).tolist())
    assert scaled.loc["b2", forecasts].tolist() == [0.0] * 4
    assert plain.loc["b1", "predicted_clv_365d"] > 0
    # a non-buyer is not the BG/NBD's: only a first_purchase_weight moves them
    pd.testing.assert_series_equal(scaled.loc["n1"], plain.loc["n1"])
    with pytest.raises(ValueError, match="at most 1"):
        model.predict(orders, cutoff, keys, purchase_probability_30d=[0.1, 1.5, 0.1, 0.1])
    with pytest.raises(ValueError, match="finite"):
        model.predict(orders, cutoff, keys, purchase_probability_30d=[0.1, np.nan, 0.1, 0.1])
    with pytest.raises(ValueError, match="3 values for 4"):
        model.predict(orders, cutoff, keys, purchase_probability_30d=[0.1, 0.1, 0.1])
