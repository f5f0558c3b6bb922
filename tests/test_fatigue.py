"""ml.scoring.fatigue: sends in the week before each send, counted by hand; the cadence response.

Hand-written tables with hand-computed answers where the logic is about boundaries, small synthetic
problems (a few thousand rows, seconds) where it is about statistics. No Dagster, no DuckDB.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.scoring import FatigueModel, send_level_frame
from tests.scoring_events import CUTOFF, ev, fatigue_sends


def test_send_level_frame_counts_previous_sends_by_hand():
    days = [0, 1, 3, 8, 10]
    events = pd.DataFrame([ev("a", "sent", CUTOFF + pd.Timedelta(days=d), f"c{d}") for d in days]
                          + [ev("a", "open", CUTOFF + pd.Timedelta(days=1, hours=2), "c1"),
                             ev("a", "open", CUTOFF + pd.Timedelta(days=3, hours=2), "c3", machine=True)])
    sends = send_level_frame(events)
    # day 10 looks back to [day 3, day 10): day 3 (exactly 7 days before) and day 8
    assert sends["sends_prev_7d"].tolist() == [0, 1, 2, 2, 2]
    assert sends["opened"].tolist() == [False, True, False, False, False]


def test_fatigue_is_monotone_in_cadence_for_a_sensitive_subscriber():
    sends = fatigue_sends()
    model = FatigueModel().fit(sends)
    subs = model.subscribers_
    sensitive = subs.index.str[1:].astype(int) % 2 == 0
    assert subs.loc[sensitive, "beta"].mean() < -1.0 < subs.loc[~sensitive, "beta"].mean()
    assert model.list_slope_ < 0 and model.segment_slopes_["sensitive"] < model.segment_slopes_["steady"]
    person = pd.DataFrame({"subscriber_key": ["p0"], "lifecycle_stage": ["sensitive"], "sends_per_week_90d": [3.0]})
    scores = [model.fatigue_score(person, w)[0] for w in (1, 2, 3, 5, 7)]
    assert scores[0] == 0 and all(a < b for a, b in zip(scores, scores[1:]))
    both = pd.DataFrame({"subscriber_key": ["p0", "p1", "new"], "lifecycle_stage": ["sensitive", "steady", "steady"],
                         "sends_per_week_90d": [7.0, 7.0, 7.0]})
    out = model.predict(both).set_index("subscriber_key")
    assert out.loc["p0", "fatigue_score"] > 0.3 > out.loc["p1", "fatigue_score"]
    assert out.loc["p0", "recommended_max_emails_per_week"] < out.loc["p1", "recommended_max_emails_per_week"]
    assert out.loc["new", "fatigue_sensitivity"] == pytest.approx(model.segment_slopes_["steady"])


def test_fatigue_stops_at_convergence_with_the_fit_of_every_sweep():
    """Newton sweeps stop once nothing moves by ``tol``: the same slopes as running all of them, fewer sweeps;
    a model pickled before ``tol`` existed loads and stops at convergence too."""
    import pickle

    sends = fatigue_sends()
    early = FatigueModel().fit(sends)
    full = FatigueModel(tol=0.0).fit(sends)
    assert full.sweeps_ == [30, 30, 30] and max(early.sweeps_) < 30
    np.testing.assert_allclose(early.subscribers_[["alpha", "beta"]], full.subscribers_[["alpha", "beta"]], atol=1e-6)
    state = early.__getstate__()
    del state["tol"]
    old = FatigueModel.__new__(FatigueModel)
    old.__setstate__(state)
    assert pickle.loads(pickle.dumps(old)).get_params()["tol"] == FatigueModel().tol
