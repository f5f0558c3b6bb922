"""benchmarks.segments_vs_rules on hand-made figures (the generated-world check is in activation_checks)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from benchmarks.segments_vs_rules import _pick, markdown_table, segment_rates, segment_scores


def test_segment_scores_combine_topic_and_offer_on_the_log_odds_scale():
    rates = {"overall": {"A": 0.1, "B": 0.2, "C": 0.0},
             "value": {"content_topic": {("A", "home"): 0.2, ("B", "home"): 0.2},
                       "offer_type": {("A", "discount"): 0.1}}}
    got = segment_scores(rates, "home", "discount")
    # A: offer at its own overall rate -> the topic rate itself; B: no offer history -> its topic rate
    assert got["A"] == pytest.approx(0.2) and got["B"] == pytest.approx(0.2)
    assert got["C"] == 0.0  # never clicked anything
    # unknown topic and offer: every segment at its overall rate
    assert segment_scores(rates, "tech", "winback") == pytest.approx({"A": 0.1, "B": 0.2, "C": 0.0})


def test_segment_rates_use_members_history_only():
    history = pd.DataFrame({"subscriber_key": ["k1", "k2", "k3", "k1", "k2", "k3"],
                            "dimension": ["content_topic"] * 3 + ["offer_type"] * 3,
                            "value": ["home"] * 3 + ["discount"] * 3,
                            "sends": [10, 10, 10, 10, 10, 10], "clicks": [5, 1, 9, 5, 1, 9]})
    members = pd.DataFrame({"subscriber_key": ["k1", "k2"], "seg": ["A", "B"]})  # k3 not profiled
    rates = segment_rates(history, members, "seg")
    assert rates["overall"] == {"A": 0.5, "B": 0.1}
    # shrunk towards the value's rate over A and B (6 / 20): between the raw rate and 0.3
    assert 0.3 <= rates["value"]["content_topic"][("A", "home")] <= 0.5
    assert 0.1 <= rates["value"]["content_topic"][("B", "home")] <= 0.3


def test_pick_takes_best_segments_first_ties_by_key():
    keys = np.array(["d", "a", "c", "b"])
    positions = np.array([3, 0, 2, 1])  # places in the key-sorted people
    score = np.array([0.1, 0.1, 0.3, 0.2])
    assert list(keys[_pick(positions, score, 3)]) == ["c", "b", "a"]


def test_markdown_table_has_one_row_per_picker():
    figures = {"ai_level": "micro", "campaigns_evaluated": 3, "audience_share": 0.2, "audience_size_total": 60,
               "attribution_days": 7, "ai_segments_click_rate": 0.1, "ai_segments_conversion_rate": 0.01,
               "rule_segments_click_rate": 0.05, "rule_segments_conversion_rate": 0.01,
               "all_recipients_click_rate": 0.04, "all_recipients_conversion_rate": 0.005,
               "click_lift_ai_vs_rules": 2.0, "conversion_lift_ai_vs_rules": 1.0}
    table = markdown_table(figures)
    assert "| AI segments (micro), best response first | 10.00% | 1.00% |" in table
    assert "| ratio AI / rules | 2.00x | 1.00x |" in table
