"""`mailsift audience` on a hand-made warehouse: consent filtering, ranking, clear errors; the champion rule."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from ml.scoring.gates import Backtest, beats, beats_baseline, no_worse
from orchestration.audience import AudienceError, build_audience
from orchestration.cli import main
from orchestration.warehouse import connect

# key, email, mailable, paused, unsubscribed, hard bounced, complained
PEOPLE = [
    ("k1", "a@x.test", True, False, False, False, False),
    ("k2", "b@x.test", True, False, False, False, False),
    ("k3", "c@x.test", True, False, False, False, False),
    ("k4", "unsub@x.test", False, False, True, False, False),
    ("k5", "bounce@x.test", False, False, False, True, False),
    ("k6", "spam@x.test", False, False, False, False, True),
    ("k7", "paused@x.test", True, True, False, False, False),
    ("k8", "complained-then-resubscribed@x.test", True, False, False, False, True),
]
# overall click rate 0.1 for everyone; topic 'running' affinity per key (k4..k8 would rank first)
RUNNING = {"k1": 0.2, "k2": 0.4, "k3": 0.1, "k4": 0.9, "k5": 0.9, "k6": 0.9, "k7": 0.9, "k8": 0.9}


def _warehouse(path):
    with connect(path) as con:
        for schema in ("marts", "serving", "ml"):
            con.execute(f"CREATE SCHEMA {schema}")
        con.execute("CREATE TABLE marts.dim_subscribers (subscriber_key VARCHAR, email VARCHAR, is_mailable BOOLEAN, "
                    "is_paused BOOLEAN, is_unsubscribed BOOLEAN, is_hard_bounced BOOLEAN, has_complained BOOLEAN, "
                    "first_name VARCHAR, last_name VARCHAR, consent_status VARCHAR)")
        con.executemany("INSERT INTO marts.dim_subscribers VALUES (?, ?, ?, ?, ?, ?, ?, 'Ann', 'Lee', 'subscribed')",
                        PEOPLE)
        con.execute("CREATE TABLE serving.subscriber_scores (subscriber_key VARCHAR, best_send_hour_local INTEGER, "
                    "as_of TIMESTAMP)")
        con.executemany("INSERT INTO serving.subscriber_scores VALUES (?, ?, TIMESTAMP '2026-09-30 00:00:00')",
                        [(p[0], 9) for p in PEOPLE])
        con.execute("CREATE TABLE ml.subscriber_scores (subscriber_key VARCHAR, click_probability_overall DOUBLE)")
        con.executemany("INSERT INTO ml.subscriber_scores VALUES (?, 0.1)", [(p[0],) for p in PEOPLE])
        con.execute("CREATE TABLE serving.subscriber_affinities (subscriber_key VARCHAR, dimension VARCHAR, "
                    "value VARCHAR, affinity DOUBLE, evidence_sends BIGINT)")
        rows = [(k, "content_topic", "running", a, 5) for k, a in RUNNING.items()]
        rows += [(k, "offer_type", "discount", 0.1, 5) for k in RUNNING]  # no lift from the offer
        con.executemany("INSERT INTO serving.subscriber_affinities VALUES (?, ?, ?, ?, ?)", rows)


@pytest.fixture
def warehouse(isolated_settings):
    _warehouse(isolated_settings.warehouse)
    return isolated_settings


def test_only_mailable_people_ranked_best_first(warehouse, tmp_path):
    out = tmp_path / "aud.csv"
    assert main(["audience", "--topic", "running", "--offer", "discount", "--size", "100%", "--out", str(out)]) == 0
    got = pd.read_csv(out)
    assert list(got["email"]) == ["b@x.test", "a@x.test", "c@x.test"]  # never k4-k8
    assert list(got["rank"]) == [1, 2, 3]
    # offer affinity equals the overall rate: the click probability is the topic affinity itself
    assert got["predicted_click_probability"].tolist() == pytest.approx([0.4, 0.2, 0.1])
    assert (got["send_hour_local"] == 9).all()
    assert len(build_audience(warehouse.warehouse, "running", "discount", 2)) == 2
    assert len(build_audience(warehouse.warehouse, "running", "discount", "34%")) == math.ceil(0.34 * 3)


def test_unknown_topic_or_offer_and_missing_run_are_clear(warehouse, tmp_path, capsys):
    assert main(["audience", "--topic", "chess", "--offer", "discount", "--size", "5", "--out",
                 str(tmp_path / "a.csv")]) == 2
    assert "unknown content_topic 'chess'" in capsys.readouterr().err
    with pytest.raises(AudienceError, match="unknown offer_type 'free'.*discount"):
        build_audience(warehouse.warehouse, "running", "free", 5)
    with pytest.raises(AudienceError, match="size"):
        build_audience(warehouse.warehouse, "running", "discount", "lots")
    assert not (tmp_path / "a.csv").exists()


def test_no_scored_run(isolated_settings, tmp_path):
    with pytest.raises(AudienceError, match="no warehouse"):
        build_audience(isolated_settings.warehouse, "running", "discount", 5)
    with connect(isolated_settings.warehouse) as con:
        con.execute("CREATE SCHEMA marts")
    with pytest.raises(AudienceError, match="no scored run"):
        build_audience(isolated_settings.warehouse, "running", "discount", 5)


def _bt(score):
    return Backtest("auc", {"auc": score}, {"auc": 0.5}, pd.DataFrame())


def test_champion_rule_no_worse_on_the_same_backtest():
    assert no_worse(_bt(0.70), None)                 # first version
    assert no_worse(_bt(0.70), _bt(0.70))            # equal: no worse
    assert no_worse(_bt(0.71), _bt(0.70))
    assert not no_worse(_bt(0.69), _bt(0.70))
    assert not no_worse(_bt(float("nan")), _bt(0.70))
    assert no_worse(_bt(0.70), _bt(float("nan")))    # a champion that cannot be evaluated loses


def test_baseline_rule_and_the_warning_check(dbt_manifest):
    from types import SimpleNamespace

    import dagster as dg

    from orchestration.assets.scoring_models import BASELINE_CHECK, _baseline_check

    # a generated 3,000-subscriber world's first open model: AUC 0.684 against its baseline's 0.695, promoted
    # all the same (a first version has no champion to compare with)
    weak = Backtest("auc", {"auc": 0.684}, {"auc": 0.695}, pd.DataFrame())
    assert beats_baseline(weak) is False
    assert beats_baseline(_bt(0.70)) is True and beats_baseline(_bt(0.50)) is True  # equal is no worse
    assert beats_baseline(Backtest("spearman", {"spearman": 0.4}, {"auc": 0.5}, pd.DataFrame())) is None
    assert beats_baseline(Backtest("auc", {"auc": 0.7}, {"auc": float("nan")}, pd.DataFrame())) is None
    assert beats_baseline(_bt(float("nan"))) is False
    # the same rule on bare figures (the run summary's "BELOW it"): a missing score never beats a baseline
    assert beats(0.684, 0.695) is False and beats(0.695, 0.695) is True and beats(0.7, None) is None
    assert beats(None, 0.695) is False

    warnings = []
    context = SimpleNamespace(log=SimpleNamespace(warning=warnings.append))
    result = _baseline_check(context, {"mailsift-churn": (3, _bt(0.90)), "mailsift-open": (1, weak)})
    assert result.check_name == BASELINE_CHECK and not result.passed
    assert result.severity == dg.AssetCheckSeverity.WARN
    assert result.metadata["champions_compared"].value == 2
    assert result.metadata["below_baseline"].value == "- mailsift-open v1: auc 0.6840 < baseline 0.6950"
    assert warnings == ["Champion below its naive baseline: mailsift-open v1: auc 0.6840 < baseline 0.6950; "
                        "its scores are served all the same"]
    assert _baseline_check(context, {"mailsift-churn": (3, _bt(0.90))}).passed and len(warnings) == 1


def _calibration(path, fitted_for: str, scored_with: str):
    with connect(path) as con:
        con.execute("ALTER TABLE ml.subscriber_scores ADD COLUMN model_version VARCHAR")
        con.execute("UPDATE ml.subscriber_scores SET model_version = ?", [scored_with])
        con.execute("CREATE TABLE ml.campaign_click_calibration (mode VARCHAR, slope DOUBLE, intercept DOUBLE, "
                    "fitted BOOLEAN, holdout_sends BIGINT, model_versions VARCHAR, reason VARCHAR)")  # those read
        con.executemany("INSERT INTO ml.campaign_click_calibration VALUES (?, ?, ?, true, 5000, ?, NULL)",
                        [("topic+offer", 0.5, -1.0, fitted_for), ("topic", 1.0, 0.0, fitted_for),
                         ("offer", 1.0, 0.0, fitted_for)])


def test_click_probabilities_are_calibrated_for_the_champions_that_scored(warehouse, tmp_path, capsys):
    _calibration(warehouse.warehouse, "affinity=2;topic-ranker=1",
                 "churn=4;affinity=2;topic-ranker=1;fatigue=3")
    got = build_audience(warehouse.warehouse, "running", "discount", None)
    assert list(got["email"]) == ["b@x.test", "a@x.test", "c@x.test"]  # the order never changes
    # log-odds = logit(topic) (offer = overall): sigmoid(0.5 * logit(p) - 1) for p = 0.4, 0.2, 0.1:
    # 1 / (1 + e^1.20273) = 0.23099, 1 / (1 + e^1.69315) = 0.15536, 1 / (1 + e^2.09861) = 0.10923
    assert got["predicted_click_probability"].tolist() == pytest.approx([0.23099, 0.15536, 0.10923], abs=1e-5)
    assert got.attrs["click_probability"] == "calibrated on 5,000 held-out sends (affinity=2;topic-ranker=1)"
    # a topic alone has its own map (here the identity): the topic affinity as it is
    assert build_audience(warehouse.warehouse, "running", None, None)["predicted_click_probability"].tolist() \
        == pytest.approx([0.4, 0.2, 0.1])
    with connect(warehouse.warehouse) as con:  # a mode fitted on too few sends stays as it is, and says so
        con.execute("UPDATE ml.campaign_click_calibration SET fitted = false, slope = 1, intercept = 0, "
                    "reason = 'too little evidence: 900 sends and 40 clicks (need 1,000 and 50)' WHERE mode = 'topic'")
    topic_only = build_audience(warehouse.warehouse, "running", None, None)
    assert topic_only.attrs["click_probability"] == ("not calibrated: too little evidence: 900 sends and 40 clicks "
                                                     "(need 1,000 and 50)")
    assert main(["audience", "--topic", "running", "--offer", "discount", "--out", str(tmp_path / "a.csv")]) == 0
    assert "Click probabilities: calibrated on 5,000 held-out sends" in capsys.readouterr().out


def test_a_calibration_fitted_for_other_champions_is_not_applied(warehouse):
    _calibration(warehouse.warehouse, "affinity=2;topic-ranker=1", "affinity=2;topic-ranker=2")
    got = build_audience(warehouse.warehouse, "running", "discount", None)
    assert got["predicted_click_probability"].tolist() == pytest.approx([0.4, 0.2, 0.1])
    assert got.attrs["click_probability"] == ("not calibrated: the calibration was fitted for "
                                              "affinity=2;topic-ranker=1, the scores come from "
                                              "affinity=2;topic-ranker=2")
