"""The refresh section of ``benchmarks/results.md`` (issue 5): a day of new events through every serving
table against a full run, where the time of each went (read from the commands' terminals), whose change
the day was (:mod:`benchmarks.refresh_reach`) and AI vs rule segments as audiences."""

from __future__ import annotations

import re

from benchmarks.markdown import scale_columns, table_head
from benchmarks.refresh_reach import render_reach

REFRESH_BEGIN, REFRESH_END = "<!-- refresh:begin -->", "<!-- refresh:end -->"

DBT_STEP = "mailsift_dbt_models"  # the step that builds the profiles (the serving models are a step of their own)
# A step's closing line on the terminal of `mailsift run` / `refresh` (orchestration/progress.py):
# "[  103.8s] mailsift_dbt_models: done in 98.4 s (52 assets, 116 checks passed)"
STEP_DONE = re.compile(r"^\[\s*[0-9.]+s\] (\S+): done in ([0-9.]+) s ")


def step_seconds(out: str) -> dict[str, float]:
    """Each step's wall time, in the order the steps finished, from a run's terminal output."""
    return {m.group(1): float(m.group(2)) for m in map(STEP_DONE.match, out.splitlines()) if m}


def render_refresh(results: list[dict]) -> list[str]:
    """Issue 5's figure: a day of new events through every serving table, against a full run."""
    out = [REFRESH_BEGIN, "## A day of new events: `mailsift refresh` vs a full run (issue 5)", "",
           "Same worlds, after the figures above. The first day after as_of of the generator's held-back future "
           "(campaigns, e-mail events, orders) lands as new files; `mailsift refresh` loads them, appends them to "
           "the incremental event models, rebuilds the profiles, re-assigns and re-scores everyone with the "
           "champion models (no training), rebuilds every serving table (with the membership and score history) "
           "and publishes them. The full run is the `mailsift run --full-refresh` above (every model retrained, "
           "the incremental models rebuilt from every row) plus the ingestion of every landing file.", "",
           *table_head("figure", scale_columns(results))]

    def refresh(r):
        s = r["stages"].get("refresh")
        return s if s and s.get("ok") else None

    def full(r):
        return r["stages"]["ingest"]["seconds"] + r["stages"]["pipeline"]["seconds"]

    rows = [
        ("rows delivered (e-mail events / orders)", lambda r: "{:,} / {:,}".format(
            r["stages"]["refresh_delivery"]["rows"].get("email_events", 0),
            r["stages"]["refresh_delivery"]["rows"].get("orders", 0)) if "refresh_delivery" in r["stages"] else "n/a"),
        ("`mailsift refresh`, s (peak MB)", lambda r: f"{refresh(r)['seconds']:.0f} ({refresh(r)['peak_mb']:,.0f})"
         if refresh(r) else "FAILED"),
        ("full run: ingest all + `mailsift run --full-refresh`, s", lambda r: f"{full(r):.0f}"),
        ("refresh / full run (goal < 10 %)", lambda r: f"{refresh(r)['seconds'] / full(r):.1%}" if refresh(r) else "n/a"),
        (f"refresh without its `{DBT_STEP}` step / full run", lambda r: without_dbt(refresh(r), full(r))),
    ]
    for label, fn in rows:
        out.append(f"| {label} | " + " | ".join(fn(r) for r in results) + " |")
    out += render_steps(results)
    out += render_reach(results)
    for r in results:
        s = r["stages"].get("segments_vs_rules")
        if s and s.get("ok") and s.get("detail"):
            out += ["", f"### AI segments vs lifecycle/RFM segments as audiences, {r['subscribers']:,} subscribers", "",
                    "benchmarks/segments_vs_rules.py: for each held-back broadcast, equal-size audiences (20 % of its "
                    "recipients) from the segments with the best historical response to its topic and offer; future "
                    "clicks and click-attributed orders (7 days) from the generator's held-back period.", "",
                    s["detail"]["markdown"]]
    return out + ["", REFRESH_END]


def without_dbt(refresh: dict | None, full_seconds: float) -> str:
    """The share of the full run that a refresh takes beside its ``DBT_STEP`` (the profile models): landing
    the files, re-assigning and re-scoring every subscriber, the serving models, publishing, start-up.
    However fast the profile models get, the refresh takes at least this much; 'n/a' when the refresh
    failed or did not record its steps."""
    if not refresh or DBT_STEP not in (refresh.get("steps") or {}):
        return "n/a"
    return f"{(refresh['seconds'] - refresh['steps'][DBT_STEP]) / full_seconds:.1%}"


def render_steps(results: list[dict]) -> list[str]:
    """Where the time goes: each step of the full run and of the refresh at every scale, as their
    terminals reported it (:func:`step_seconds`); nothing when no run recorded its steps."""
    runs = [(r["subscribers"], kind, r["stages"].get(stage)) for r in results
            for kind, stage in (("full run", "pipeline"), ("refresh", "refresh"))]
    runs = [(n, kind, s) for n, kind, s in runs if s and s.get("ok") and s.get("steps")]
    if not runs:
        return []
    names = list(dict.fromkeys(name for _, _, s in runs for name in s["steps"]))
    out = ["", "Where the time goes: each step's wall time as the command's terminal reports it, s. '-': the "
           "step is not part of that job (the refresh trains nothing). The full run's landing step finds every "
           "file already loaded by the ingest stage counted above.", "",
           *table_head("step", (f"{n:,} {kind}" for n, kind, _ in runs))]
    for name in names:
        out.append(f"| {name} | " + " | ".join(
            f"{s['steps'][name]:.1f}" if name in s["steps"] else "-" for _, _, s in runs) + " |")
    out.append("| start-up, between and after the steps | " + " | ".join(
        f"{s['seconds'] - sum(s['steps'].values()):.1f}" for _, _, s in runs) + " |")
    out.append("| the whole command | " + " | ".join(f"{s['seconds']:.1f}" for _, _, s in runs) + " |")
    return out
