"""Activation checks on the end-to-end generated world (called from tests/test_end_to_end.py)."""

from __future__ import annotations

import pandas as pd

from benchmarks.segments_vs_rules import PICKERS, segments_vs_rules
from orchestration.warehouse import connect


def check_generated_world(settings) -> None:
    """segment_performance adds up, fairness_report has both attributes, the audience the e2e test exported
    is in serving.audience_exports, and segments_vs_rules compares equal-size audiences."""
    exported = pd.read_csv(settings.data_dir / "audience.csv")
    with connect(settings.warehouse, read_only=True) as con:
        sends = dict(con.execute("SELECT level, sum(sends) FROM serving.segment_performance GROUP BY 1").fetchall())
        campaign_sends = con.execute("SELECT sum(sends) FROM marts.campaign_performance").fetchone()[0]
        served = con.execute("SELECT email FROM serving.audience_exports").df()
        attributes = {r[0] for r in con.execute("SELECT DISTINCT attribute FROM serving.fairness_report").fetchall()}
        bad_rates = con.execute("SELECT count(*) FROM serving.segment_performance WHERE click_rate > open_rate + 1 "
                                "OR unique_clicks > sends OR unique_opens > sends").fetchone()[0]
    assert sends["macro"] == sends["micro"] > 0 and sends["macro"] <= campaign_sends
    assert bad_rates == 0
    assert sorted(served["email"]) == sorted(exported["email"])
    assert attributes == {"gender", "age_band"}
    assert (settings.serving_dir / "segment_performance.parquet").exists()
    assert (settings.serving_dir / "fairness_report.parquet").exists()

    figures = segments_vs_rules(settings.warehouse, settings.landing_dir / "truth", min_recipients=10)
    per = figures["per_campaign"]
    assert figures["campaigns_evaluated"] == len(per) > 0
    for name in ("ai_segments", "rule_segments"):
        assert (per[f"{name}_size"] == per["audience_size"]).all()  # equal audience sizes
    assert (per["audience_size"] <= per["recipients"]).all()
    for name in PICKERS:
        assert 0 <= figures[f"{name}_click_rate"] <= 1 and 0 <= figures[f"{name}_conversion_rate"] <= 1
    assert figures["markdown"].count("\n| ") == 5 and "ratio AI / rules" in figures["markdown"]
