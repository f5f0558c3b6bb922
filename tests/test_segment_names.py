"""Tests of segment traits, names, reasons and descriptions (``ml.segmentation.traits`` / ``naming`` /
``profiles``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.segmentation import PROFILE_COLUMNS, SegmentationModel, SegmentProfiler, SegmentTraits, build_names
from tests.segmentation_profiles import make_profiles, night_owls_who_never_open


def test_names_from_traits_are_deterministic_and_unique():
    segs = [SegmentTraits({"night": 1.5, "discount": 1.2, "mobile": 0.4}, buyer_share=0.6),
            SegmentTraits({"weekend": 1.1, "value": 0.1}, buyer_share=0.7, topic="home"),
            SegmentTraits({"night": 1.4, "discount": 1.0, "mobile": 0.3}, buyer_share=0.6),
            SegmentTraits({"tenure": -2.0, "open_rate": 0.8}, buyer_share=0.05)]
    names = build_names(segs)
    assert names == build_names(segs)
    assert len(set(names)) == len(names)
    assert names[0] == "night-owl mobile discount seekers"
    assert names[1] == "weekend home buyers"
    assert names[2] != names[0] and "discount seekers" in names[2]
    assert names[3] == "new engaged readers"


def test_reasons_name_the_right_traits():
    df = make_profiles(800)
    labels = np.where(df["group"] == "night_owl", "A", "B")
    prof = SegmentProfiler().fit(df, labels)
    traits_a = dict(prof.key_traits_["A"])
    assert traits_a["night"] > 1 and traits_a["mobile"] > 1
    reasons = prof.reasons(df, labels)
    night_rows = np.flatnonzero(labels == "A")
    assert all("late at night" in r and "mobile" in r for r in reasons[night_rows[:20]])
    table = prof.profiles_.set_index("segment_id")
    assert table.loc["A", "recommended_send_hour"] in (22, 23, 0)
    assert "night-owl" in table.loc["A", "name"] and table.loc["A", "size"] == len(night_rows)
    assert table["name"].is_unique and list(table.reset_index().columns) == list(PROFILE_COLUMNS)


def test_traits_names_and_send_hour_read_every_channel():
    df, labels = night_owls_who_never_open()
    assert df.loc[labels != "C", "engagement_events_total"].eq(0).all()
    # every channel (the default): the never-openers active at 01:00 on phones stand out by it, are
    # named by it beside their dormant siblings, and get mailed at 01:00 -- when they are active, as no
    # e-mail engagement says otherwise
    parents = np.where(labels == "C", "C", "D")
    prof = SegmentProfiler(max_traits=8).fit(df, labels)
    traits_a = dict(prof.key_traits_["A"])
    assert traits_a["night"] > 1 and traits_a["mobile"] > 1
    hours = prof.profiles_.set_index("segment_id")["recommended_send_hour"]
    # Q has no activity anywhere: the list's e-mail peak, 09:00 (the VIPs open most, at 09:00)
    assert hours.to_dict() == {"A": 1, "B": 13, "C": 9, "Q": 9}
    micro = SegmentProfiler(level="micro").fit(df, labels, parents=parents)
    assert micro.names_["A"].startswith("night-owl mobile") and micro.names_["B"].startswith("desktop")
    # a reason names the 2-3 key traits (vs the whole list) a person shows most: never opening, long
    # tenure, low open rate and late nights are all strong in A, so the night is named for most of them
    night = np.array(["is active late at night" in r for r in SegmentProfiler().fit(df, labels).reasons(df, labels)])
    assert night[labels == "A"].mean() > 0.5 and not night[labels != "A"].any()
    # e-mail alone: nobody in A or B has a rhythm, so no night or device trait, and the list's peak hour
    email = SegmentProfiler(max_traits=8, rhythm="email").fit(df, labels)
    assert not {"night", "mobile", "desktop"} & set(dict(email.key_traits_["A"]))
    assert email.profiles_.set_index("segment_id")["recommended_send_hour"].to_dict() == {"A": 9, "B": 9, "C": 9, "Q": 9}
    assert "night-owl" not in SegmentProfiler(level="micro", rhythm="email").fit(df, labels, parents=parents).names_["A"]
    assert not any("late at night" in r for r in email.reasons(df, labels)[labels == "A"])
    # the segmentation pipeline passes its featurizer's rhythm on to the traits
    model = SegmentationModel(k_range=(3, 3), n_bootstrap=2, min_size=40,
                              featurizer_params={"rhythm": "email"}).fit(df.drop(columns=["group"]))
    assert model.macro_profiler_.rhythm == "email" and model.micro_profiler_.rhythm == "email"


def test_device_traits_need_a_device():
    # a never-opener whose only activity is two orders at 01:00: a night owl, but orders carry no device,
    # so the device traits are unknown (NaN), not "never on mobile"
    from ml.segmentation import trait_table

    df, labels = night_owls_who_never_open()
    row = df.iloc[[np.flatnonzero(labels == "A")[0]]].copy()
    row[["act_share_mobile", "act_share_desktop", "act_share_tablet"]] = 0.0
    row["activity_events_total"] = 2
    t = trait_table(pd.concat([row, df.iloc[[np.flatnonzero(labels == "A")[1]]]])).reset_index(drop=True)
    assert t.loc[0, "night"] == 1.0 and t.loc[0, ["mobile", "desktop", "tablet"]].isna().all()
    assert t.loc[1, ["mobile", "desktop", "tablet"]].tolist() == [1.0, 0.0, 0.0]


def test_profiler_pickled_before_the_rhythm_option_keeps_reading_email():
    df, labels = night_owls_who_never_open(400)
    state = dict(SegmentProfiler().__getstate__())
    del state["rhythm"]  # what a profiler pickled by an older release holds
    old = SegmentProfiler.__new__(SegmentProfiler)
    old.__setstate__(state)
    assert old.rhythm == "email"
    old.fit(df, labels)
    assert "night" not in dict(old.key_traits_["A"])


def test_description_opens_with_the_current_size():
    from orchestration.assets.segmentation import _catalog

    df = make_profiles(1200, seed=2).drop(columns=["group"])
    model = SegmentationModel(k_range=(4, 4), n_bootstrap=2, min_size=40).fit(df)
    trained = model.segment_profiles_.set_index("segment_id")
    for sid, row in trained.iterrows():  # the trained sizes give back the trained sentence
        assert model.describe(sid, row["size"], row["share"]) == row["description"]
    assert model.describe("M01", 1234567, 0.5).startswith("1,234,567 subscribers (50.0% of the list) who ")
    # the served catalog: a later assignment (here 600 of the 1,200 training rows) changes the sizes, and
    # each description opens with the size and share it is served beside
    cat = _catalog(model, model.assign(df.iloc[:600]), version=1).set_index("segment_id")
    assert (cat["size"] != trained["size"]).all() and cat.loc[cat["level"] == "macro", "size"].sum() == 600
    for sid, row in cat.iterrows():
        assert row["description"].startswith(f"{row['size']:,} subscribers ({row['share']:.1%} of the list) who ")
        assert row["description"].split(" who ", 1)[1] == trained.loc[sid, "description"].split(" who ", 1)[1]
