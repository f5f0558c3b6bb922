"""Tests of behavioural segment discovery (``ml.segmentation``): stable ids, gates, segment response, the
whole pipeline and the quality benchmark's scoring, on small hand-made data.
"""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from ml.segmentation import (ASSIGNMENT_COLUMNS, PROFILE_COLUMNS, SegmentationModel, SegmentResponse,
                             check_gates, match_segments, moved_between)
from ml.segmentation.identity import macro_id
from tests.segmentation_profiles import make_profiles


def test_stable_ids_follow_permuted_centroids_and_count_moves():
    rng = np.random.default_rng(3)
    old = rng.normal(0, 3, (5, 8))
    old_ids = [macro_id(i) for i in range(1, 6)]
    old_names = [f"name {i}" for i in range(5)]
    perm = np.array([3, 0, 4, 1, 2])
    new = np.vstack([old[perm] + rng.normal(0, 0.05, (5, 8)), np.full((1, 8), 40.0)])  # + a new segment
    match = match_segments(new, old, old_ids, old_names, max_distance=1.0)
    assert match.ids[:5] == [old_ids[p] for p in perm] and match.names[:5] == [old_names[p] for p in perm]
    assert match.ids[5] == "M06" and match.names[5] is None and match.matched_old[5] is None
    keys = [f"k{i}" for i in range(10)]
    before = pd.Series(["M01"] * 5 + ["M02"] * 5, index=keys)
    after = pd.Series(["M01"] * 4 + ["M02"] * 4 + ["M06"] * 2, index=keys)
    moved = moved_between(before, after)
    assert moved["compared"] == 10 and moved["moved"] == 3
    assert moved["flows"].iloc[0].to_dict() == {"from": "M02", "to": "M06", "subscribers": 2}


def test_gate_fails_for_too_small_segment():
    sp = pd.DataFrame({"segment_id": ["M01", "M02", "M01-01", "M02-01"], "level": ["macro", "macro", "micro", "micro"],
                       "name": ["a", "b", "a", "b"], "size": [950, 30, 950, 30], "share": [0.97, 0.03, 0.97, 0.03]})
    metrics = {"stability": 0.95, "silhouette": 0.3, "mean_confidence": 0.9, "min_size": 50}
    report = check_gates(sp, metrics, max_share=1.0)
    assert not report.passed
    assert [c.name for c in report.checks if not c.passed] == ["min_segment_size"]
    assert "M02 (30)" in report.reasons[0]
    ok = check_gates(sp, metrics, min_size=10, max_share=1.0)
    assert ok.passed
    worse = check_gates(sp, metrics, {"silhouette": 0.5}, min_size=10, max_share=1.0)
    assert [c.name for c in worse.checks if not c.passed] == ["criterion_vs_champion"]


def test_segment_response_shrinks_and_finds_alike_segments():
    rows = []
    for seg, rates in {"A": (0.10, 0.02, 0.02), "B": (0.11, 0.02, 0.03), "C": (0.02, 0.10, 0.02)}.items():
        for topic, r in zip(("home", "tech", "food"), rates):
            rows.append((seg, topic, 5000, int(r * 5000)))
    rows.append(("D", "home", 4, 4))  # tiny cell: 100 % raw rate
    hist = pd.DataFrame(rows, columns=["segment_id", "content_topic", "sends", "clicks"])
    resp = SegmentResponse(prior_strength=200).fit(hist)
    d = resp.rates_.set_index(["segment_id", "item"])
    assert d.loc[("D", "home"), "raw_rate"] == 1.0 and d.loc[("D", "home"), "rate"] < 0.15
    assert resp.most_similar("A", 1).index[0] == "B"
    assert resp.best_items()["C"] == "tech"
    assert set(resp.order_) == {"A", "B", "C", "D"}
    assert SegmentResponse().fit(hist).prior_strength_ > 0


@pytest.fixture(scope="module")
def fitted():
    df = make_profiles(1600, seed=1)
    model = SegmentationModel(k_range=(2, 7), n_bootstrap=3, min_size=40, random_state=0)
    return df, model.fit(df.drop(columns=["group"]))


def test_end_to_end_fit_assign(fitted):
    df, model = fitted
    out = model.assign(df)
    assert list(out.columns[:len(ASSIGNMENT_COLUMNS)]) == list(ASSIGNMENT_COLUMNS)
    assert len(out) == len(df) and out["subscriber_key"].tolist() == df["subscriber_key"].tolist()
    assert adjusted_rand_score(df["group"], out["macro_segment_id"]) > 0.9
    assert out["macro_segment_id"].str.fullmatch(r"M\d\d").all()
    assert out["micro_segment_id"].str.fullmatch(r"M\d\d-\d\d").all()
    assert (out["micro_segment_id"].str[:3] == out["macro_segment_id"]).all()
    assert out["segment_confidence"].between(0, 1).all() and out["segment_reason"].str.len().gt(0).all()
    sp = model.segment_profiles_
    assert list(sp.columns) == list(PROFILE_COLUMNS)
    assert sp.groupby("level")["name"].apply(lambda s: s.is_unique).all()
    micro = sp[sp["level"] == "micro"]
    assert (micro["size"] >= 40).all() and set(micro["parent_segment_id"]) == set(sp.loc[sp.level == "macro", "segment_id"])
    assert model.metrics_["k"] == 4 and set(model.metrics_["stability_per_k"]) == set(range(2, 8))
    assert check_gates(sp, model.gate_metrics(), min_size=40, max_share=0.6).passed
    night = out.loc[df["group"].eq("night_owl").to_numpy(), "macro_segment_name"].mode()[0]
    assert "night-owl" in night
    assert not out.astype(str).apply(lambda c: c.str.contains("@")).any().any()  # no addresses


def test_refit_keeps_ids_and_names_and_pickles(fitted):
    df, model = fitted
    again = pickle.loads(pickle.dumps(model))
    pd.testing.assert_frame_equal(again.assign(df), model.assign(df))
    shuffled = df.sample(frac=1.0, random_state=5).drop(columns=["group"]).reset_index(drop=True)
    refit = SegmentationModel(k_range=(2, 7), n_bootstrap=3, min_size=40, random_state=7).fit(shuffled, previous=model)
    old = model.assign(df).set_index("subscriber_key")
    new = refit.assign(df).set_index("subscriber_key")
    assert (old["macro_segment_id"] == new["macro_segment_id"]).mean() > 0.95
    assert (old["macro_segment_name"] == new["macro_segment_name"]).mean() > 0.95
    assert refit.metrics_["moved"] <= 0.05 * len(df) and refit.metrics_["retired_macro_ids"] == []


def test_campaign_response_updates_recommended_content(fitted):
    _, model = fitted
    model = pickle.loads(pickle.dumps(model))
    ids = model.macro_ids_
    hist = pd.DataFrame({"segment_id": ids * 2, "content_topic": ["kids"] * len(ids) + ["home"] * len(ids),
                         "sends": 1000, "clicks": [90] * len(ids) + [10] * len(ids)})
    model.use_campaign_response(SegmentResponse(prior_strength=50).fit(hist))
    sp = model.segment_profiles_.set_index("segment_id")
    assert all(sp.loc[i, "recommended_content"].startswith("topic: kids; offer: ") for i in ids)


def test_segmentation_quality_benchmark_scores_planted_groups():
    from benchmarks.segmentation_quality import evaluate_segmentation

    df = make_profiles(1200, seed=2)
    personas = df.set_index("subscriber_key")["group"]
    res = evaluate_segmentation(df.drop(columns=["group"]), personas.iloc[:1000], seeds=(0, 1),
                                model_params={"k_range": (2, 6), "n_bootstrap": 3, "min_size": 40})
    assert res["n_scored"] == 1000 and res["n_personas"] == 4
    assert res["ari_macro"] > 0.9 and res["stability_ari"] > 0.9 and res["k"] == 4
    assert 0 <= res["ari_kmeans_baseline"] < 1 and res["ratio"] == pytest.approx(res["ari_macro"] / res["ari_kmeans_baseline"])
    assert res["fit_seconds"] > 0 and res["assign_seconds"] > 0 and res["n_micro"] >= 4 and res["peak_rss_mb"] > 0
    assert res["ari_supervised_ceiling"] > 0.9 and res["ceiling_rows"] == 1000
    # the truth-reading oracle figures: each of the 4 macro segments has another majority persona, so the
    # merge by persona is the segmentation itself; the micro segments merge back to nearly the personas
    assert res["ari_macro_merged"] == pytest.approx(res["ari_macro"]) and res["ari_micro_merged"] > 0.9
    assert res["neighbour_purity"] > 0.9 and res["purity_rows"] == 1000
    # well separated planted groups: their own means are the segments' centres, and k-means stays there
    assert res["ari_nearest_persona_centre"] > 0.9
    assert res["ari_kmeans_from_persona_centres"] == pytest.approx(res["ari_macro"], abs=0.02)


def test_persona_ceiling_is_high_for_separable_groups_and_zero_for_labels_unrelated_to_behaviour():
    from benchmarks.persona_ceiling import supervised_persona_ceiling

    df = make_profiles(1200, seed=3)
    planted = supervised_persona_ceiling(df.drop(columns=["group"]), df.set_index("subscriber_key")["group"])
    assert planted["ari_supervised_ceiling"] > 0.9 and planted["accuracy_supervised_ceiling"] > 0.95
    noise = pd.Series(np.random.default_rng(0).integers(0, 4, len(df)), index=df["subscriber_key"])
    blind = supervised_persona_ceiling(df.drop(columns=["group"]), noise, max_rows=800)
    assert abs(blind["ari_supervised_ceiling"]) < 0.05 and blind["accuracy_supervised_ceiling"] < 0.35
    assert blind["ceiling_rows"] == 800
