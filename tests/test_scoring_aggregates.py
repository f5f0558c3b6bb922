"""ml.scoring on aggregated sends: the fatigue and content-affinity models fitted and backtested on the
warehouse's counts (subscriber x cadence, subscriber x dimension x value) give what one row per send
gives; weighted metrics on counts equal per-send metrics; the reliability curve and calibration error.

Hand-written tables with hand-computed answers, plus small generated problems. No Dagster, no DuckDB.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.scoring import (
    ContentAffinityModel, FatigueModel, auc, brier, cadence_counts, calibration_error, content_counts,
    expand_counts, top_decile_lift,
)
from ml.scoring.recipes import RECIPES, TrainingData
from ml.scoring.reliability import figure_png, reliability_figure
from tests.scoring_events import affinity_sends, fatigue_sends


# ----------------------------------------------------------------------------------- count frames
def test_cadence_counts_by_hand():
    sends = pd.DataFrame({"subscriber_key": ["a", "a", "a", "b", "a"], "sends_prev_7d": [0, 2, 2, 0, 0],
                          "opened": [True, False, True, False, False]})
    out = cadence_counts(sends)
    assert out.to_dict("list") == {"subscriber_key": ["a", "a", "b"], "sends_prev_7d": [0, 2, 0],
                                   "sends": [2, 2, 1], "opens": [1, 1, 0]}


def test_content_counts_by_hand():
    sends = pd.DataFrame({"subscriber_key": ["a", "a", "a", "b"], "clicked": [True, False, True, False],
                          "content_topic": ["yoga", "yoga", None, "run"],
                          "offer_type": ["discount", "editorial", "discount", None]})
    out = content_counts(sends).set_index(["subscriber_key", "dimension", "value"])
    assert out.loc[("a", "overall", "all")].tolist() == [3, 2]       # every send, topic or not
    assert out.loc[("a", "content_topic", "yoga")].tolist() == [2, 1]
    assert out.loc[("a", "offer_type", "discount")].tolist() == [2, 2]
    assert out.loc[("b", "overall", "all")].tolist() == [1, 0]
    assert out.loc[("a", "offer_type", "editorial")].tolist() == [1, 0]
    assert len(out) == 6                      # a: overall, yoga, discount, editorial; b: overall, run (no offer)


# ------------------------------------------------------------------------------------ equivalence
def test_fatigue_on_cadence_counts_equals_fatigue_on_sends():
    sends = fatigue_sends()
    per_send = FatigueModel().fit(sends)
    counts = cadence_counts(sends, extra_cols=("lifecycle_stage",))
    assert len(counts) < len(sends) / 10                                # a few rows per person, not one per send
    counted = FatigueModel().fit(counts)
    assert counted.list_slope_ == pytest.approx(per_send.list_slope_, abs=1e-9)
    assert counted.list_center_ == pytest.approx(per_send.list_center_, abs=1e-12)
    pd.testing.assert_series_equal(counted.segment_slopes_.sort_index(), per_send.segment_slopes_.sort_index(),
                                   atol=1e-9, rtol=0)
    a, b = counted.subscribers_.sort_index(), per_send.subscribers_.sort_index()
    np.testing.assert_allclose(a[["alpha", "beta", "center", "sends"]].to_numpy(float),
                               b[["alpha", "beta", "center", "sends"]].to_numpy(float), atol=1e-9)


def test_fatigue_refuses_impossible_counts():
    bad = pd.DataFrame({"subscriber_key": ["a"], "sends_prev_7d": [1], "sends": [2], "opens": [3]})
    with pytest.raises(ValueError, match="opens <= sends"):
        FatigueModel(segment_col=None).fit(bad)
    with pytest.raises(ValueError, match="'sends' and 'opens'"):
        FatigueModel(segment_col=None).fit(bad.drop(columns=["sends", "opens"]))


def test_affinity_on_counts_equals_affinity_on_sends():
    sends = affinity_sends()
    per_send = ContentAffinityModel().fit(sends)
    counts = content_counts(sends, extra_cols=("lifecycle_stage",))
    counted = ContentAffinityModel().fit(counts)
    assert counted.overall_rate_ == pytest.approx(per_send.overall_rate_)
    pd.testing.assert_frame_equal(counted.prior_strength_, per_send.prior_strength_, check_exact=False)
    pd.testing.assert_frame_equal(counted.segment_rates_.reset_index(drop=True),
                                  per_send.segment_rates_.reset_index(drop=True), check_dtype=False)
    people = pd.DataFrame({"subscriber_key": ["p0", "p200", "fan", "nobody"], "lifecycle_stage": ["A", "B", "B", "A"]})
    np.testing.assert_allclose(counted.predict_frame(people)["affinity"], per_send.predict_frame(people)["affinity"])


def test_affinity_counts_need_the_overall_rows():
    counts = pd.DataFrame({"subscriber_key": ["a"], "dimension": ["content_topic"], "value": ["yoga"],
                           "sends": [3], "clicks": [1]})
    with pytest.raises(ValueError, match="overall"):
        ContentAffinityModel(segment_col=None).fit(counts)
    with pytest.raises(ValueError, match="clicks <= sends"):
        ContentAffinityModel(segment_col=None).fit(pd.concat([counts, counts.assign(
            dimension="overall", value="all", clicks=4)]))


# ------------------------------------------------------------------------------- weighted metrics
def test_metrics_on_counts_by_hand():
    # row 1: score 0.9, 1 positive of 2 trials; row 2: score 0.1, 0 of 2. Per trial: one positive at
    # 0.9 against negatives at 0.9 (tie: 1/2), 0.1 and 0.1 (1 each): AUC = 2.5 / 3.
    y, s, w = expand_counts([0.9, 0.1], [1, 0], [2, 2])
    assert auc(y, s, w) == pytest.approx(2.5 / 3)
    assert brier(y, s, w) == pytest.approx((0.1 ** 2 + 0.9 ** 2 + 2 * 0.1 ** 2) / 4)
    # top 10 % of 4 trials = ceil(0.4) = 1 trial, taken from row 1 (rate 1/2): lift 0.5 / 0.25 = 2
    assert top_decile_lift(y, s, sample_weight=w) == pytest.approx(2.0)


def test_weighted_metrics_equal_per_trial_metrics():
    rng = np.random.default_rng(3)
    score = rng.random(300)
    trials = rng.integers(1, 6, 300)
    positives = rng.binomial(trials, score)
    y, s, w = expand_counts(score, positives, trials)
    y1 = np.concatenate([np.r_[np.ones(k), np.zeros(n - k)] for k, n in zip(positives, trials)])
    s1 = np.repeat(score, trials)
    assert auc(y, s, w) == pytest.approx(auc(y1, s1))
    assert brier(y, s, w) == pytest.approx(brier(y1, s1))
    assert top_decile_lift(y, s, sample_weight=w) == pytest.approx(top_decile_lift(y1, s1), rel=0.02)


# --------------------------------------------------------------------------------- backtest rows
def _hand_training_data():
    keys = [f"s{i}" for i in range(40)]
    profiles = pd.DataFrame({"subscriber_key": keys, "lifecycle_stage": "active",
                             "as_of": pd.Timestamp("2024-03-01")})
    outcomes = pd.DataFrame({"subscriber_key": keys})
    cadence = pd.DataFrame({"subscriber_key": keys * 2, "sends_prev_7d": [1] * 40 + [5] * 40,
                            "sends": [4] * 80, "opens": [3] * 40 + [1] * 40})
    later = pd.DataFrame({"subscriber_key": keys * 2, "sends_prev_7d": [1] * 40 + [5] * 40,
                          "sends": [2] * 80, "opens": [2] * 40 + [0] * 40})
    content = pd.DataFrame({"subscriber_key": keys, "dimension": "overall", "value": "all", "sends": 8, "clicks": 2})
    later_content = pd.DataFrame({"subscriber_key": keys, "content_topic": None, "offer_type": None,
                                  "sends": 4, "clicks": [1, 0] * 20})
    return TrainingData(cutoff=pd.Timestamp("2024-03-01"), horizon_days=90, profiles=profiles, outcomes=outcomes,
                        orders=pd.DataFrame(columns=["subscriber_key", "ordered_at", "total_amount"]),
                        cadence=cadence, content=content, later_cadence=later, later_content=later_content)


def test_fatigue_backtest_on_aggregated_later_sends():
    data = _hand_training_data()
    model = RECIPES["fatigue"].fit(data)
    bt = RECIPES["fatigue"].evaluate(model, data)
    held = int(data.holdout.sum())
    assert 0 < held < 40
    # every held-out person: 2 sends at cadence 1 (both opened), 2 at cadence 5 (none); the fitted curve
    # falls with cadence (3/4 versus 1/4 opened at fit), so the model ranks them perfectly
    assert bt.metrics["rows"] == 4 * held and bt.metrics["positive_rate"] == pytest.approx(0.5)
    assert bt.metrics["auc"] == pytest.approx(1.0) and bt.baseline["auc"] == pytest.approx(0.5)
    assert bt.rows["sends"].sum() == 4 * held and set(bt.rows["actual"]) == {0.0, 1.0}
    aff = RECIPES["affinity"].evaluate(RECIPES["affinity"].fit(data), data)
    assert aff.metrics["rows"] == 4 * held


# ------------------------------------------------------------------------------------ calibration
def test_calibration_error_and_reliability_figure():
    rng = np.random.default_rng(0)
    p = rng.random(20_000)
    y = (rng.random(20_000) < p).astype(int)                          # calibrated: P(y=1 | p) = p
    assert calibration_error(y, p) < 0.02
    squashed = 0.5 + (p - 0.5) * 0.3                                  # under-confident: all near 0.5
    assert calibration_error(y, squashed) > 0.15
    y_rare = (rng.random(20_000) < p ** 3).astype(int)                # over-confident: p says more than happens
    assert calibration_error(y_rare, p) > 0.15
    fig = reliability_figure(y, p, title="toy", baseline=squashed)
    top = fig.axes[0]
    model_line = top.lines[1]                                        # lines[0] is the diagonal
    xs, ys = model_line.get_xdata(), model_line.get_ydata()
    assert len(xs) == 10 and np.max(np.abs(np.asarray(ys) - np.asarray(xs))) < 0.05
    base_x, base_y = (np.asarray(a) for a in (top.lines[2].get_xdata(), top.lines[2].get_ydata()))
    assert np.max(np.abs(base_y - base_x)) > 0.2                       # the squashed curve is far off the diagonal
    assert figure_png(fig)[:8] == b"\x89PNG\r\n\x1a\n"
