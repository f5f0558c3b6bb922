"""`mailsift report`: one card per macro segment, inline charts, nothing fetched from the network."""

from __future__ import annotations

import re

import pandas as pd

from orchestration.cli import main
from orchestration.report import bar_svg


def _profiles() -> pd.DataFrame:
    rows = [("M01", "macro", None, "night-owl discount seekers", 60), ("M02", "macro", None, "weekend home buyers", 40),
            ("M01-01", "micro", "M01", "heavy clickers", 35), ("M01-02", "micro", "M01", "quiet browsers", 25),
            ("M02-01", "micro", "M02", "weekend home buyers", 40)]
    df = pd.DataFrame(rows, columns=["segment_id", "level", "parent_segment_id", "name", "size"])
    return df.assign(description=lambda d: d["name"] + " <b>described</b>", share=df["size"] / 100,
                     key_traits="opens at night (+1.2 SD); discount orders 60% vs 20% overall, +1.5 SD",
                     recommended_send_hour=[22, 10, 22, 23, 10], recommended_content="topic: home; offer: discount",
                     recommended_cadence=2.0, avg_clv=[120.0, None, None, None, None],
                     avg_churn_probability=None, model_version="3", as_of=pd.Timestamp("2026-09-30"), run_id="r")


def test_report_has_a_card_per_macro_segment(isolated_settings, tmp_path):
    serving = isolated_settings.serving_dir
    serving.mkdir(parents=True)
    _profiles().to_parquet(serving / "segment_profiles.parquet")
    pd.DataFrame({"segment_id": ["M01", "M01", "M02"], "dimension": ["content_topic"] * 3,
                  "value": ["home", "tech", "home"], "lift": [1.8, 0.5, 1.1]}).to_parquet(
        serving / "segment_content_response.parquet")
    assert main(["report", "--out", str(tmp_path / "report")]) == 0
    page = (tmp_path / "report" / "index.html").read_text()
    assert re.findall(r'data-segment-id="([^"]+)"', page) == ["M01", "M02"]  # largest first
    assert "night-owl discount seekers" in page and "100 subscribers in 2 macro and 3 micro" in page
    assert "&lt;b&gt;described" in page  # text is escaped, not injected
    assert "around 22:00 local" in page and "120.00" in page
    assert page.count("<svg") == 2
    assert not re.search(r'(src|href)\s*=\s*["\']?https?:', page)  # no network fetches
    assert "No registered champion models yet" in page


def test_report_without_a_run_says_what_to_do(isolated_settings, tmp_path, capsys):
    assert main(["report", "--out", str(tmp_path / "r")]) == 2
    assert "mailsift run" in capsys.readouterr().out


def test_bar_svg_scales_to_the_largest_value():
    svg = bar_svg(["a", "b"], [2.0, 1.0], width=300)
    widths = [float(w) for w in re.findall(r'<rect x="\d+" y="[\d.]+" width="([\d.]+)"', svg)]
    assert widths[0] == 2 * widths[1]
