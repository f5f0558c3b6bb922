"""ml.scoring.affinity: beta-binomial content affinity, by hand and at scale; audience ranking.

Hand-written tables with hand-computed answers where the logic is about boundaries, small synthetic
problems (a few thousand rows, seconds) where it is about statistics. No Dagster, no DuckDB.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.scoring import ContentAffinityModel, beta_binomial_strength, rank_audience, send_outcomes
from tests.scoring_events import affinity_sends, ev


def test_affinity_shrinkage_from_no_evidence_to_lots():
    model = ContentAffinityModel().fit(affinity_sends())
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
    model = ContentAffinityModel().fit(affinity_sends())
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
    sends = affinity_sends()
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
    events = pd.DataFrame([ev("a", "sent", "2024-01-01", "c1"), ev("a", "click", "2024-01-01 01:00", "c1"),
                           ev("b", "sent", "2024-01-01", "c1"),
                           ev("b", "click", "2024-01-01 01:00", "c1", real=False)])   # scanner click
    campaigns = pd.DataFrame({"campaign_id": ["c1"], "sent_at": ["2024-01-01"], "content_topic": ["yoga"],
                              "offer_type": ["discount"]})
    out = send_outcomes(events, campaigns).set_index("subscriber_key")
    assert out["clicked"].to_dict() == {"a": True, "b": False}
    assert (out["content_topic"] == "yoga").all() and "category" not in out.columns


def test_rank_audience_ordering_and_size_cuts():
    sends = affinity_sends(fan=False)
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
