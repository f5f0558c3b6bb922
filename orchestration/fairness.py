"""The fairness section of `mailsift report`: ``serving.fairness_report`` as an HTML table.

One row per group (gender, age band) and outcome (premium-offer exposure, membership of each macro
segment): group size, rate, the most-favoured comparable group and its rate, and the disparate-impact
ratio; rows below the threshold (``is_flagged``) are highlighted. Reads the published Parquet file.
"""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

CSS = ("tr.flagged td{background:#fde2e1;font-weight:600} .fair-note{font-size:.85rem;color:#555;max-width:60rem}"
       " td.num{text-align:right}")
_OUTCOME_ORDER = {"premium_offer_exposure": 0, "segment_membership": 1}


def _e(x) -> str:
    return html.escape("" if x is None or (isinstance(x, float) and pd.isna(x)) else str(x))


def _pct(x) -> str:
    return "" if x is None or pd.isna(x) else f"{x:.1%}"


def load(serving_dir: Path) -> pd.DataFrame | None:
    path = Path(serving_dir) / "fairness_report.parquet"
    return pd.read_parquet(path) if path.exists() else None


def render_section(report: pd.DataFrame | None) -> str:
    """The section's HTML (a heading, how to read it, the table); a one-line note without the table."""
    head = "<h2>Fairness: segments and premium offers by gender and age band</h2>"
    if report is None or report.empty:
        return head + "<p>No fairness report yet (serving.fairness_report is built by `mailsift run`).</p>"
    r = report.assign(_o=report["outcome"].map(_OUTCOME_ORDER).fillna(9))
    r = r.sort_values(["_o", "segment_id", "attribute", "group_value"], na_position="first")
    premium = _e(r["premium_offer_types"].iloc[0]).replace(",", ", ")
    flagged = int(r["is_flagged"].sum())
    rows = []
    for x in r.itertuples(index=False):
        outcome = "premium offer exposure" if x.outcome == "premium_offer_exposure" else f"in segment {x.segment_id}"
        ratio = "" if pd.isna(x.disparate_impact_ratio) else f"{x.disparate_impact_ratio:.2f}"
        z = getattr(x, "z_score", float("nan"))
        z = "" if pd.isna(z) else f"{z:+.1f}"
        note = "" if x.is_comparable else " (not compared)"
        rows.append(f'<tr class="{"flagged" if x.is_flagged else ""}" data-flagged="{str(bool(x.is_flagged)).lower()}">'
                    f"<td>{_e(outcome)}</td><td>{_e(x.attribute)}</td><td>{_e(x.group_value)}{note}</td>"
                    f'<td class="num">{int(x.group_size):,}</td><td class="num">{_pct(x.rate)}</td>'
                    f"<td>{_e(x.reference_group)}</td><td class=\"num\">{_pct(x.reference_rate)}</td>"
                    f'<td class="num">{ratio}</td><td class="num">{z}</td>'
                    f'<td>{"below threshold" if x.is_flagged else ""}</td></tr>')
    return (head + f'<p class="fair-note">Premium offer = a campaign whose offer type is one of: {premium}. '
            "Exposure = received at least one such e-mail in the send history window. Disparate-impact ratio = "
            "the group's rate / the most-favoured comparable group's rate; highlighted rows are below the "
            "threshold (four-fifths rule). Groups with unknown gender or birth year, and small groups, are shown "
            "but not compared. z = two-proportion z statistic against the most-favoured group: a flagged row with "
            f"|z| under 2 may be chance. {flagged} flagged row(s).</p>"
            "<table class=fairness><tr><th>outcome</th><th>attribute</th><th>group</th><th>size</th><th>rate</th>"
            "<th>most-favoured group</th><th>its rate</th><th>ratio</th><th>z</th><th>flag</th></tr>"
            + "".join(rows) + "</table>")
