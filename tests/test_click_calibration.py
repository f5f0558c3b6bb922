"""Platt scaling of a planned campaign's click probability (ml.scoring.click_calibration), by hand."""

from __future__ import annotations

import numpy as np
import pytest

from ml.scoring.affinity import combine_affinities
from ml.scoring.click_calibration import (CampaignClickCalibration, campaign_mode, model_versions,
                                          parse_versions)

S1 = 1.0 / (1.0 + np.exp(-1.0))  # sigmoid(1): a topic affinity whose log-odds is exactly 1


def _rows(topic, clicks, sends=100, offer=0.1, overall=0.1):
    n = len(topic)
    return (np.asarray(topic, float), np.full(n, offer), np.full(n, overall), np.full(n, float(sends)),
            np.asarray(clicks, float))


def test_two_groups_give_the_maximum_likelihood_slope_and_intercept_by_hand():
    # log-odds 0: 20 of 100 clicked; log-odds 1: 50 of 100. Two free parameters, two groups: the fit is
    # exact, b = logit(0.2) = ln(0.25) = -1.3863 and a + b = logit(0.5) = 0, so a = 1.3863
    cal = CampaignClickCalibration(min_sends=100, min_clicks=10).fit(*_rows([0.5, S1], [20, 50]))
    for mode in ("topic+offer", "topic"):  # offer = overall: the combination is the topic affinity itself
        assert cal.slope_[mode] == pytest.approx(np.log(4), abs=1e-4)
        assert cal.intercept_[mode] == pytest.approx(-np.log(4), abs=1e-4)
        assert mode not in cal.reasons_
        got = cal.predict_proba(mode, np.array([0.5, S1]), np.full(2, 0.1), np.full(2, 0.1))
        assert got == pytest.approx([0.2, 0.5], abs=1e-4)
        summary = cal.summary_[mode]
        assert summary["clicked"] == pytest.approx(0.35)
        assert summary["predicted_before"] == pytest.approx((0.5 + S1) / 2)  # 0.6155: far too high
        assert summary["predicted_after"] == pytest.approx(0.35, abs=1e-4)  # maximum likelihood: mean matches
    # the offer affinity is 0.1 for everyone: nothing to fit a slope on, so the identity
    assert cal.slope_["offer"] == 1.0 and cal.intercept_["offer"] == 0.0
    assert "do not vary" in cal.reasons_["offer"]
    assert (cal.sends_["topic"], cal.clicks_["topic"]) == (200, 70)


def test_too_little_evidence_or_a_reversing_slope_keep_the_combination_as_it_is():
    few = CampaignClickCalibration().fit(*_rows([0.5, S1], [20, 50]))  # 200 sends < 1,000
    assert set(few.reasons_) == {"topic+offer", "topic", "offer"}
    assert "200 sends and 70 clicks" in few.reasons_["topic"]
    p_topic, p_offer, p_overall = np.array([0.3, 0.05]), np.array([0.2, 0.4]), np.array([0.1, 0.08])
    assert few.predict_proba("topic+offer", p_topic, p_offer, p_overall) == pytest.approx(
        combine_affinities(p_topic, p_offer, p_overall))
    # the higher prediction clicked less: a negative slope would turn the audience upside down
    reverse = CampaignClickCalibration(min_sends=100, min_clicks=10).fit(*_rows([0.5, S1], [50, 20]))
    assert reverse.slope_["topic"] == 1.0 and "not positive" in reverse.reasons_["topic"]


def test_calibration_keeps_every_audience_in_its_order():
    rng = np.random.default_rng(0)
    n = 5_000
    p_topic, p_offer, p_overall = rng.uniform(0.01, 0.6, n), rng.uniform(0.01, 0.6, n), rng.uniform(0.02, 0.2, n)
    true = 1.0 / (1.0 + np.exp(-(0.6 * np.log(p_topic / (1 - p_topic)) - 0.5)))  # over-confident inputs
    sends = np.full(n, 4.0)
    clicks = rng.binomial(4, true).astype(float)
    cal = CampaignClickCalibration().fit(p_topic, p_offer, p_overall, sends, clicks)
    assert 0.45 < cal.slope_["topic"] < 0.75  # recovers the planted 0.6
    for mode in ("topic+offer", "topic", "offer"):
        before = {"topic+offer": combine_affinities(p_topic, p_offer, p_overall), "topic": p_topic,
                  "offer": p_offer}[mode]
        after = cal.predict_proba(mode, p_topic, p_offer, p_overall)
        assert np.array_equal(np.argsort(-before, kind="stable"), np.argsort(-after, kind="stable"))


def test_stored_parameters_modes_and_version_strings():
    cal = CampaignClickCalibration.from_parameters({"topic+offer": 0.5}, {"topic+offer": -1.0})
    # topic 0.4, offer = overall = 0.1: log-odds logit(0.4) = -0.405465;
    # sigmoid(0.5 * -0.405465 - 1) = 1 / (1 + e^1.20273) = 0.23099
    got = cal.predict_proba("topic+offer", np.array([0.4]), np.array([0.1]), np.array([0.1]))
    assert got == pytest.approx([0.23099], abs=1e-5)
    assert cal.predict_proba("topic", np.array([0.4]), None, None) == pytest.approx([0.4])  # not stored: identity
    assert cal.predict_proba(None, None, None, np.array([0.07])) == pytest.approx([0.07])
    assert [campaign_mode("a", "b"), campaign_mode("a", None), campaign_mode(None, "b"),
            campaign_mode(None, None)] == ["topic+offer", "topic", "offer", None]
    with pytest.raises(ValueError, match="mode must be one of"):
        cal.predict_proba("category", np.array([0.4]), np.array([0.1]), np.array([0.1]))
    assert model_versions({"offer-ranker": 2, "churn": 5, "affinity": 3}) == "affinity=3;offer-ranker=2"
    assert parse_versions("churn=1;affinity=3;topic-ranker=4;offer-ranker=2") == {
        "affinity": "3", "topic-ranker": "4", "offer-ranker": "2"}
    assert parse_versions(None) == {}


def test_bad_counts_are_refused():
    with pytest.raises(ValueError, match="0 <= clicks <= sends"):
        CampaignClickCalibration().fit([0.5], [0.1], [0.1], [3], [4])
    with pytest.raises(ValueError, match="same length"):
        CampaignClickCalibration().fit([0.5, 0.2], [0.1], [0.1], [3], [1])
