"""Campaign click ranker (ml/scoring/campaign_ranker.py): features checked by hand, the learned topic ->
category map, a ranking that beats the beta-binomial affinity where interest shows outside clicks, the
small-list fallback, and the recipe's backtest against the affinities alone."""

import numpy as np
import pandas as pd
import pytest

from ml.scoring.campaign_ranker import CampaignClickRanker, content_evidence, value_counts
from ml.scoring.metrics import auc
from ml.scoring.recipes import RECIPES, TrainingData


def _evidence(n_people, topics=("home", "tech"), p_value=0.05, interest=None, content=None, profile=None):
    people = pd.Index([f"s{i:05d}" for i in range(n_people)])
    if content is None:
        content = pd.DataFrame({"subscriber_key": people, "dimension": "overall", "value": "all", "sends": 10,
                                "clicks": 0, "opens": 3})
    interest = interest if interest is not None else pd.DataFrame(
        {"subscriber_key": pd.Series(dtype=object), "category": pd.Series(dtype=object)})
    profile = profile if profile is not None else pd.DataFrame(index=range(n_people))
    return people, content_evidence(people, "content_topic", list(topics), np.full((n_people, len(topics)), p_value),
                                    np.full(n_people, p_value), content, interest, profile)


def test_value_counts_and_category_lift_by_hand():
    people = pd.Index(["a", "b"])
    content = pd.DataFrame({"subscriber_key": ["a", "a", "b"], "dimension": ["overall", "content_topic", "overall"],
                            "value": ["all", "tech", "all"], "sends": [10, 4, 5], "clicks": [1, 1, 0],
                            "opens": [5, 3, 1]})
    (sends, opens), (all_sends, all_opens) = value_counts(content, "subscriber_key", people, "content_topic",
                                                          ["home", "tech"])
    assert sends.tolist() == [[0, 4], [0, 0]] and opens.tolist() == [[0, 3], [0, 0]]
    assert all_sends.tolist() == [10, 5] and all_opens.tolist() == [5, 1]
    interest = pd.DataFrame({"subscriber_key": ["a", "a"], "category": ["electronics", "garden"],
                             "web_events": [6, 0], "order_lines": [1, 0], "link_clicks": [1, 0]})
    ev = content_evidence(people, "content_topic", ["home", "tech"], np.full((2, 2), 0.1), np.full(2, 0.1),
                          content, interest, pd.DataFrame(index=range(2)))
    assert ev.categories == ["electronics", "garden"] and ev.interest.tolist() == [[8, 0], [0, 0]]
    ranker = CampaignClickRanker(interest_strength=10.0, open_strength=5.0)
    ranker.categories_, ranker.category_share_ = ev.categories, np.array([0.9, 0.1])  # (8+1)/10, (0+1)/10
    lifts = ranker._category_lifts(ev)
    # a: (8 + 10 * 0.9) / (8 + 10) / 0.9 for electronics; b has no evidence: exactly the list's share
    assert lifts[0, 0] == pytest.approx(np.log(17 / 18 / 0.9))
    assert lifts[0, 1] == pytest.approx(np.log(1 / 18 / 0.1)) and lifts[1].tolist() == [0.0, 0.0]
    ranker.open_rate_ = 0.4
    opens_lift = ranker._open_lifts(ev)
    overall_a = (5 + 5 * 0.4) / (10 + 5)                              # 7/15
    assert opens_lift[0, 1] == pytest.approx(np.log((3 + 5 * overall_a) / (4 + 5) / overall_a))
    assert opens_lift[0, 0] == pytest.approx(0.0) and opens_lift[1].tolist() == pytest.approx([0.0, 0.0])


def _interest_world(n, seed):
    """Half the people browse electronics, half garden; a tech send is clicked with 20 % by the first and
    2 % by the second, a home send the other way round. Nobody has clicked before (equal affinities)."""
    rng = np.random.default_rng(seed)
    techie = rng.random(n) < 0.5
    people = [f"s{i:05d}" for i in range(n)]
    views = rng.poisson(6, n) + 1
    interest = pd.DataFrame({"subscriber_key": people, "category": np.where(techie, "electronics", "garden"),
                             "web_events": views, "order_lines": 0, "link_clicks": 0})
    noise = pd.DataFrame({"subscriber_key": people, "category": np.where(techie, "garden", "electronics"),
                          "web_events": rng.poisson(1, n), "order_lines": 0, "link_clicks": 0})
    sends = rng.integers(1, 4, (n, 2)).astype(float)                   # columns: home, tech
    p = np.column_stack([np.where(techie, 0.02, 0.2), np.where(techie, 0.2, 0.02)])
    clicks = rng.binomial(sends.astype(int), p).astype(float)
    return people, pd.concat([interest, noise], ignore_index=True), sends, clicks, p, techie


def test_ranker_learns_the_category_of_each_topic_and_beats_the_affinity():
    people, interest, sends, clicks, p, _ = _interest_world(6000, 1)
    _, ev = _evidence(len(people), interest=interest)
    ranker = CampaignClickRanker(min_samples_leaf=50).fit(ev, clicks, sends)
    assert ranker.value_category_ == {"home": "garden", "tech": "electronics"}
    assert ranker.booster_ is not None and ranker.n_rows_ > 0
    # new people from the same world: the ranker's tech probability orders them by their true chance
    people2, interest2, sends2, clicks2, p2, techie2 = _interest_world(4000, 2)
    _, ev2 = _evidence(len(people2), interest=interest2)
    pred = ranker.predict_proba(ev2)
    assert pred.shape == (4000, 2)
    clicked_tech = (clicks2[:, 1] > 0).astype(int)
    assert auc(clicked_tech, pred[:, 1]) > 0.7
    assert auc(clicked_tech, ev2.p_value[:, 1]) == pytest.approx(0.5)  # equal affinities: no ranking at all
    # calibrated on average: the mean predicted tech chance of techies is near 20 %, of the others near 2 %
    assert pred[techie2, 1].mean() == pytest.approx(0.2, abs=0.04)
    assert pred[~techie2, 1].mean() == pytest.approx(0.02, abs=0.02)


def test_small_list_keeps_the_affinities_and_unknown_values_too():
    people, interest, sends, clicks, _, _ = _interest_world(200, 3)
    _, ev = _evidence(len(people), interest=interest, p_value=0.07)
    ranker = CampaignClickRanker(min_clicks=10_000).fit(ev, clicks, sends)   # far fewer clicks than that
    assert ranker.booster_ is None
    assert np.array_equal(ranker.predict_proba(ev), ev.p_value)
    big = CampaignClickRanker(min_clicks=1, min_samples_leaf=5).fit(ev, clicks, sends)
    _, other = _evidence(len(people), topics=("home", "travel"), interest=interest, p_value=0.07)
    out = big.predict_proba(other)
    assert np.array_equal(out[:, 1], other.p_value[:, 1])             # travel: never trained on
    assert not np.array_equal(out[:, 0], other.p_value[:, 0])


def test_ranker_rejects_bad_labels_and_another_dimension():
    people, interest, sends, clicks, _, _ = _interest_world(100, 4)
    _, ev = _evidence(len(people), interest=interest)
    with pytest.raises(ValueError, match="people x values"):
        CampaignClickRanker().fit(ev, clicks[:, :1], sends[:, :1])
    with pytest.raises(ValueError, match="between 0 and sends"):
        CampaignClickRanker().fit(ev, sends + 1, sends)
    ranker = CampaignClickRanker(min_clicks=1, min_samples_leaf=5).fit(ev, clicks, sends)
    ev.dimension = "offer_type"
    with pytest.raises(ValueError, match="fitted on content_topic"):
        ranker.predict_proba(ev)


def test_topic_ranker_recipe_beats_the_affinities_on_the_held_out_sends():
    """The recipe end to end on TrainingData: fitted on the non-held-out people's later sends, judged on
    the held-out people's against the beta-binomial affinities (the affinity model's ranking)."""
    people, interest, sends, clicks, _, _ = _interest_world(4000, 5)
    profiles = pd.DataFrame({"subscriber_key": people, "lifecycle_stage": "active",
                             "as_of": pd.Timestamp("2024-03-01")})
    content = pd.concat([pd.DataFrame({"subscriber_key": people, "dimension": "overall", "value": "all",
                                       "sends": 10, "clicks": 0, "opens": 4})]
                        + [pd.DataFrame({"subscriber_key": people, "dimension": "content_topic", "value": topic,
                                         "sends": 5, "clicks": 0, "opens": 2}) for topic in ("home", "tech")],
                        ignore_index=True)
    later = pd.DataFrame({"subscriber_key": np.repeat(people, 2), "content_topic": ["home", "tech"] * len(people),
                          "offer_type": "new_arrival", "sends": sends.ravel().astype(int),
                          "clicks": clicks.ravel().astype(int)})
    data = TrainingData(cutoff=pd.Timestamp("2024-03-01"), horizon_days=90, profiles=profiles,
                        outcomes=pd.DataFrame({"subscriber_key": people}),
                        orders=pd.DataFrame(columns=["subscriber_key", "ordered_at", "total_amount"]),
                        cadence=pd.DataFrame(columns=["subscriber_key", "sends_prev_7d", "sends", "opens"]),
                        content=content, later_cadence=pd.DataFrame(columns=["subscriber_key", "sends_prev_7d"]),
                        later_content=later, interest=interest)
    recipe = RECIPES["topic-ranker"]
    model = recipe.fit(data)
    assert model.dimension_ == "content_topic" and model.value_category_["tech"] == "electronics"
    bt = recipe.evaluate(model, data)
    held = data.holdout.sum()
    assert bt.metrics["rows"] == sends[data.holdout].sum() and 0 < held < 4000
    # no topic was ever clicked before the cut-off: the affinities cannot tell people apart (AUC 0.5)
    assert bt.baseline["auc"] == pytest.approx(0.5, abs=0.01)
    assert bt.metrics["auc"] > 0.7


def test_scoring_replaces_the_ranked_dimension_only():
    """score_all's step: the topic columns become the ranker's probabilities for today's people (keyed by
    profile row, or by string key on a day without sends), the offer and overall columns stay."""
    from types import SimpleNamespace

    from orchestration.assets.scores import _rank_content

    people, interest, sends, clicks, _, _ = _interest_world(3000, 6)
    _, ev = _evidence(len(people), interest=interest)
    ranker = CampaignClickRanker(min_samples_leaf=50).fit(ev, clicks, sends)
    champions = {"topic-ranker": SimpleNamespace(model=ranker, version=1)}
    pairs = [("content_topic", "home"), ("content_topic", "tech"), ("offer_type", "discount")]
    n = 200
    profiles = pd.DataFrame({"subscriber_key": people[:n]})
    rows = pd.Index(people[:n])
    today = interest.loc[interest["subscriber_key"].isin(rows)]
    by_row = today.assign(subscriber_row=rows.get_indexer(today["subscriber_key"])).drop(columns="subscriber_key")
    content = pd.DataFrame({"subscriber_key": np.arange(n), "dimension": "overall", "value": "all", "sends": 10,
                            "clicks": 0, "opens": 3})
    aff = np.tile([0.05, 0.05, 0.08, 0.04], (n, 1))
    _rank_content(champions, aff, pairs, np.arange(n), content, by_row, profiles)
    expected = content_evidence(rows, "content_topic", ["home", "tech"], np.full((n, 2), 0.05), np.full(n, 0.04),
                                content.assign(subscriber_key=rows[content["subscriber_key"]]), today,
                                pd.DataFrame(index=range(n)))
    want = ranker.predict_proba(expected)
    np.testing.assert_allclose(aff[:, :2], want)
    assert (aff[:, 2] == 0.08).all() and (aff[:, 3] == 0.04).all()
    assert want[:, 1].std() > 0.01                                     # the interest moved the tech column
    # no sends today: people are their string keys, the interest rows are mapped to them
    aff2 = np.tile([0.05, 0.05, 0.08, 0.04], (n, 1))
    empty = content.iloc[:0]
    _rank_content(champions, aff2, pairs, profiles["subscriber_key"], empty, by_row, profiles)
    no_sends = content_evidence(rows, "content_topic", ["home", "tech"], np.full((n, 2), 0.05), np.full(n, 0.04),
                                empty.assign(subscriber_key=pd.Series(dtype=object)), today,
                                pd.DataFrame(index=range(n)))
    np.testing.assert_allclose(aff2[:, :2], ranker.predict_proba(no_sends))


def test_ranker_reads_the_reading_habits():
    """Mobile readers click tech, desktop readers home, and nothing else tells them apart: the ranker sees it
    through the device mix of PROFILE_COLUMNS; without those columns it cannot."""
    n = 3000
    rng = np.random.default_rng(11)
    mobile = rng.random(n) < 0.5
    profile = pd.DataFrame({"share_mobile": np.where(mobile, 0.9, 0.1), "share_desktop": np.where(mobile, 0.1, 0.9),
                            "share_tablet": 0.0, "peak_hour_local": np.where(mobile, 22, 9)})
    p_click = np.column_stack([np.where(mobile, 0.05, 0.3), np.where(mobile, 0.3, 0.05)])   # home, tech
    sends = np.full((n, 2), 5)
    clicks = rng.binomial(sends, p_click)
    _, ev = _evidence(n, profile=profile)
    out = CampaignClickRanker(min_clicks=1, min_samples_leaf=20).fit(ev, clicks, sends).predict_proba(ev)
    assert out[mobile, 1].mean() == pytest.approx(0.3, abs=0.05) and out[mobile, 0].mean() == pytest.approx(0.05, abs=0.03)
    assert out[~mobile, 0].mean() == pytest.approx(0.3, abs=0.05) and out[~mobile, 1].mean() == pytest.approx(0.05, abs=0.03)
    _, blind = _evidence(n)
    flat = CampaignClickRanker(min_clicks=1, min_samples_leaf=20).fit(blind, clicks, sends).predict_proba(blind)
    assert abs(flat[mobile, 1].mean() - flat[~mobile, 1].mean()) < 0.01
