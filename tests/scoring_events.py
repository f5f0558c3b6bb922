"""E-mail event rows and small synthetic send histories shared by the ml.scoring tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.scoring import send_level_frame

CUTOFF = pd.Timestamp("2024-03-01 00:00", tz="UTC")


def ev(key, etype, when, campaign="c1", machine=False, real=None):
    """One event row; opens and clicks are real engagement unless a machine made them (or ``real`` says)."""
    real = (etype in ("open", "click") and not machine) if real is None else real
    return {"subscriber_key": key, "campaign_id": campaign, "event_type": etype, "occurred_at": when,
            "is_machine_open": machine, "is_real_engagement": real}


def fatigue_sends(seed=0, n_people=40, weeks=30):
    """Cadence varies week to week; half the people lose opens when mailed often, half do not."""
    rng = np.random.default_rng(seed)
    events = []
    for i in range(n_people):
        t = CUTOFF
        for w in range(weeks):
            cadence = rng.choice([1, 2, 4, 7])
            for j in range(cadence):
                events.append(ev(f"p{i}", "sent", t + pd.Timedelta(days=7 * j / cadence), f"w{w}-{j}"))
            t += pd.Timedelta(days=7)
    sends = send_level_frame(pd.DataFrame(events))
    beta = np.where(sends["subscriber_key"].str[1:].astype(int) % 2 == 0, -2.0, 0.0)
    p = 1 / (1 + np.exp(-(0.5 + beta * np.log1p(sends["sends_prev_7d"]))))
    sends["opened"] = rng.random(len(sends)) < p
    sends["lifecycle_stage"] = np.where(beta < 0, "sensitive", "steady")
    return sends


def affinity_sends(fan: bool = True):
    """150 people per segment, own click rates spread around the segment's (Beta, strength 20)."""
    rng = np.random.default_rng(5)
    rows = []
    means = {("A", "running"): 0.30, ("A", "yoga"): 0.02, ("B", "running"): 0.03, ("B", "yoga"): 0.20}
    for i in range(300):
        seg = "A" if i < 150 else "B"
        for topic in ("running", "yoga"):
            rate = rng.beta(20 * means[seg, topic], 20 * (1 - means[seg, topic]))
            for _ in range(10):
                rows.append((f"p{i}", seg, topic, "discount" if rng.random() < 0.5 else "editorial",
                             rng.random() < rate))
    if fan:  # clicks 90 % of 1,000 running e-mails although segment B does not care for running
        rows += [("fan", "B", "running", "editorial", k < 900) for k in range(1000)]
    return pd.DataFrame(rows, columns=["subscriber_key", "lifecycle_stage", "content_topic", "offer_type", "clicked"])
