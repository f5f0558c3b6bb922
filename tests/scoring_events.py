"""Hand-written e-mail event rows shared by the ml.scoring tests."""

from __future__ import annotations

import pandas as pd

CUTOFF = pd.Timestamp("2024-03-01 00:00", tz="UTC")


def ev(key, etype, when, campaign="c1", machine=False, real=None):
    """One event row; opens and clicks are real engagement unless a machine made them (or ``real`` says)."""
    real = (etype in ("open", "click") and not machine) if real is None else real
    return {"subscriber_key": key, "campaign_id": campaign, "event_type": etype, "occurred_at": when,
            "is_machine_open": machine, "is_real_engagement": real}
