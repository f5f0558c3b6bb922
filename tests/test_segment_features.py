"""Tests of the segment feature matrix (``ml.segmentation.features.ProfileFeaturizer``) on small hand-made
profiles.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.segmentation import REQUIRED_COLUMNS, ProfileFeaturizer
from tests.segmentation_profiles import RHYTHM_COLUMNS, make_profiles


def test_featurizer_names_groups_and_missing_columns():
    df = make_profiles(400)
    f = ProfileFeaturizer().fit(df)
    X = f.transform(df)
    names = list(f.get_feature_names_out())
    assert X.shape == (400, len(names)) and np.isfinite(X).all()
    assert {"never_opened", "hour_sin", "hour_cos", "hour_concentration", "weekend_share"} <= set(names)
    assert sum(len(v) for v in f.feature_groups().values()) == len(names)
    assert not any("email" in n for n in names)
    with pytest.raises(ValueError, match="days_since_last_open.*share_mobile|share_mobile"):
        f.transform(df.drop(columns=["days_since_last_open", "share_mobile"]))
    assert "subscriber_key" in REQUIRED_COLUMNS


@pytest.mark.parametrize("rhythm", ["activity", "email"])
def test_featurizer_hours_are_cyclic_and_never_is_explicit(rhythm):
    df = make_profiles(400)
    f = ProfileFeaturizer(balance_groups=False, rhythm=rhythm).fit(df)
    prefix, count = RHYTHM_COLUMNS[rhythm]
    two = df.iloc[[1, 1, 2]].copy()
    for h in range(24):
        two[f"{prefix}{h:02d}"] = 0.0
    two.iloc[0, two.columns.get_loc(f"{prefix}23")] = 1.0
    two.iloc[1, two.columns.get_loc(f"{prefix}01")] = 1.0
    two.iloc[2, two.columns.get_loc(f"{prefix}12")] = 1.0
    two[count] = 40
    X = pd.DataFrame(f.transform(two), columns=f.get_feature_names_out())
    d_23_01 = np.hypot(*(X.loc[0, ["hour_sin", "hour_cos"]] - X.loc[1, ["hour_sin", "hour_cos"]]))
    d_23_12 = np.hypot(*(X.loc[0, ["hour_sin", "hour_cos"]] - X.loc[2, ["hour_sin", "hour_cos"]]))
    assert d_23_01 < d_23_12 / 3  # 23:00 is close to 01:00, far from noon
    Xd = pd.DataFrame(f.transform(df), columns=f.get_feature_names_out())
    never = df["days_since_last_open"].isna().to_numpy()
    assert Xd.loc[never, "never_opened"].nunique() == 1 and Xd.loc[~never, "never_opened"].nunique() == 1
    assert Xd.loc[never, "never_opened"].iloc[0] > Xd.loc[~never, "never_opened"].iloc[0]


@pytest.mark.parametrize("rhythm", ["activity", "email"])
def test_featurizer_hour_profile_shrinks_sparse_rhythms(rhythm):
    df = make_profiles(400)
    f = ProfileFeaturizer(balance_groups=False, hour_bin_hours=4, rhythm=rhythm).fit(df)
    prefix, count = RHYTHM_COLUMNS[rhythm]
    hours = f.feature_groups()["hour_profile"]
    assert len(hours) == 6 and hours[0] == "hours_00_04"
    two = df.iloc[[1, 1]].copy()
    for h in range(24):
        two[f"{prefix}{h:02d}"] = 1.0 if h == 21 else 0.0
    two[count] = [40, 1]
    X = pd.DataFrame(f.transform(two), columns=f.get_feature_names_out())
    prior = pd.DataFrame(f.transform(df.iloc[[2]].assign(**{count: 0})), columns=X.columns)
    # forty evenings are further from the average rhythm than one
    assert abs(X.loc[0, "hours_20_24"] - prior.loc[0, "hours_20_24"]) > 3 * abs(X.loc[1, "hours_20_24"] - prior.loc[0, "hours_20_24"])
    assert "hour_profile" not in ProfileFeaturizer(hour_bin_hours=0).fit(df).feature_groups()


def test_featurizer_reads_the_rhythm_of_every_channel():
    # two people who never open: one browses and buys at 23:00 on a phone, the other has no activity at
    # all. The default (every channel) sets the first apart, as a night-time mobile person; e-mail alone
    # cannot tell them apart.
    df = make_profiles(400)
    quiet = df.iloc[[2, 2]].copy()  # a dormant row: no opens, no clicks
    assert quiet["engagement_events_total"].eq(0).all()
    for h in range(24):
        quiet[f"act_hour_{h:02d}"] = [1.0 if h == 23 else 0.0, 0.0]
    for d in range(7):
        quiet[f"act_dow_{d}"] = [1 / 7, 0.0]
    quiet["act_share_mobile"], quiet["act_share_desktop"], quiet["act_share_tablet"] = [1.0, 0.0], 0.0, 0.0
    quiet["activity_events_total"] = [30, 0]
    for rhythm, apart in (("activity", True), ("email", False)):
        f = ProfileFeaturizer(rhythm=rhythm).fit(df)
        X = pd.DataFrame(f.transform(quiet), columns=f.get_feature_names_out())
        timing = X.columns[np.isin(f.feature_groups_, ["timing", "hour_profile", "device"])]
        assert np.allclose(X.loc[0, timing], X.loc[1, timing]) is not apart, rhythm
        if apart:  # 30 events at 23:00: close to the night owls' hour, more mobile than the prior
            hour = np.degrees(np.arctan2(X.loc[0, "hour_sin"], X.loc[0, "hour_cos"])) % 360 / 15
            assert abs(hour - 23) < 0.5 and X.loc[0, "share_mobile"] > X.loc[1, "share_mobile"]
            assert X.loc[0, "no_activity"] < X.loc[1, "no_activity"]
    with pytest.raises(ValueError, match="rhythm"):
        ProfileFeaturizer(rhythm="web").fit(df)


def test_featurizer_pickled_before_the_rhythm_option_keeps_reading_email():
    df = make_profiles(400)
    f = ProfileFeaturizer(rhythm="email").fit(df)
    state = dict(f.__getstate__())
    del state["rhythm"]  # what a featurizer pickled by an older release holds
    old = ProfileFeaturizer.__new__(ProfileFeaturizer)
    old.__setstate__(state)
    assert old.rhythm == "email"
    changed = df.assign(**{f"act_hour_{h:02d}": (1.0 if h == 5 else 0.0) for h in range(24)})
    np.testing.assert_array_equal(old.transform(changed), f.transform(df))  # the act_* columns are ignored
    assert ProfileFeaturizer().rhythm == "activity"


def test_featurizer_default_group_weights():
    # balanced groups: each group's columns together carry its named weight (root of the sum of squared
    # column weights), whatever its size; device counts 1.75 beside the two timing groups' 1.5
    f = ProfileFeaturizer().fit(make_profiles(400))
    norm = {g: float(np.sqrt(np.sum(f.weights_[f.feature_groups_ == g] ** 2))) for g in f.feature_groups()}
    assert len(f.feature_groups()["device"]) == 3 and len(f.feature_groups()["web"]) == 4
    assert norm["device"] == pytest.approx(1.75) and norm["timing"] == pytest.approx(1.5)
    assert norm["hour_profile"] == pytest.approx(1.5) and norm["content"] == pytest.approx(0.25)
    assert norm["web"] == pytest.approx(1.0) and norm["value"] == pytest.approx(1.0)
    old = ProfileFeaturizer(group_weights={"timing": 1.5, "hour_profile": 1.5, "content": 0.25}).fit(make_profiles(400))
    assert np.allclose(old.weights_[old.feature_groups_ == "device"], 1.0 / np.sqrt(3))
