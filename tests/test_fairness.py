"""The fairness section of `mailsift report`: flagged rows highlighted, text escaped, a note without data."""

from __future__ import annotations

import re

import pandas as pd

from orchestration.cli import main
from orchestration.fairness import render_section
from test_report import _profiles


def _report() -> pd.DataFrame:
    # premium exposure: f 40 of 50 (0.8) is most favoured; m 30 of 60 = 0.5 -> ratio 0.625 < 0.8, flagged;
    # x 10 of 12 is below the minimum group size (not compared); unknown never compared
    rows = [("gender", "f", "premium_offer_exposure", None, 50, 40, True),
            ("gender", "m", "premium_offer_exposure", None, 60, 30, True),
            ("gender", "x", "premium_offer_exposure", None, 12, 10, False),
            ("gender", "unknown", "premium_offer_exposure", None, 20, 2, False),
            ("age_band", "<b>25-34</b>", "segment_membership", "M01", 40, 20, True)]
    df = pd.DataFrame(rows, columns=["attribute", "group_value", "outcome", "segment_id", "group_size", "positives",
                                     "is_comparable"])
    df["rate"] = df["positives"] / df["group_size"]
    df["reference_group"] = ["f", "f", "f", "f", "<b>25-34</b>"]
    df["reference_rate"] = [0.8, 0.8, 0.8, 0.8, 0.5]
    df["disparate_impact_ratio"] = df["rate"] / df["reference_rate"]
    df["is_flagged"] = df["is_comparable"] & (df["disparate_impact_ratio"] < 0.8)
    df["premium_offer_types"] = "discount,winback"
    return df


def test_flagged_rows_are_highlighted():
    html = render_section(_report())
    flagged = re.findall(r'<tr class="flagged" data-flagged="true"><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td>', html)
    assert flagged == [("premium offer exposure", "gender", "m")]
    assert "<td>0.62</td>" not in html and ">0.62<" in html  # 0.5 / 0.8 = 0.625, shown as 0.62
    assert "x (not compared)" in html and "unknown (not compared)" in html
    assert "discount, winback" in html and "1 flagged row(s)" in html
    assert "&lt;b&gt;25-34" in html and "<b>25-34</b>" not in html


def test_report_shows_the_section(isolated_settings, tmp_path):
    serving = isolated_settings.serving_dir
    serving.mkdir(parents=True)
    _profiles().to_parquet(serving / "segment_profiles.parquet")
    assert main(["report", "--out", str(tmp_path / "r1")]) == 0
    assert "No fairness report yet" in (tmp_path / "r1" / "index.html").read_text()
    _report().to_parquet(serving / "fairness_report.parquet")
    assert main(["report", "--out", str(tmp_path / "r2")]) == 0
    page = (tmp_path / "r2" / "index.html").read_text()
    assert "Fairness: segments and premium offers" in page and page.count('data-flagged="true"') == 1
