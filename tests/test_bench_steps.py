"""benchmarks/refresh_report.py: each step's time read from a run's terminal, and the table of where the time goes."""

from __future__ import annotations

from benchmarks.refresh_report import render_refresh, render_steps, step_seconds, without_dbt

# what `mailsift refresh` prints (orchestration/progress.py), one step failing its check included
REFRESH_OUT = """mailsift refresh: landing /tmp/w/landing
[    0.2s] raw_landing: started
[    5.4s] raw_landing: done in 5.4 s (12 assets, 7 checks passed)
[    5.5s] mailsift_dbt_models: started
[   25.0s] mailsift_dbt_models: CHECK WARNING not_null_x
[  103.8s] mailsift_dbt_models: done in 98.4 s (52 assets, 115 checks passed, 1 warned)
[  116.7s] segment_assignments: done in 12.8 s (2 assets, 3 checks passed)
{"not": "a step"}
"""

RUN_OUT = """[    0.3s] raw_landing: done in 0.3 s (12 assets, 7 checks passed)
[  172.6s] mailsift_dbt_models: done in 172.3 s (52 assets, 116 checks passed)
[  560.1s] scoring_models: done in 387.5 s (1 asset, 1 checks passed)
[  568.5s] segment_assignments: done in 8.4 s (2 assets, 3 checks passed)
"""


def test_step_seconds_reads_each_done_line_in_order():
    assert step_seconds(REFRESH_OUT) == {"raw_landing": 5.4, "mailsift_dbt_models": 98.4, "segment_assignments": 12.8}
    assert list(step_seconds(RUN_OUT)) == ["raw_landing", "mailsift_dbt_models", "scoring_models",
                                           "segment_assignments"]
    assert step_seconds("mailsift run: FAILED in step x\n") == {}


def test_steps_table_puts_the_full_run_beside_the_refresh():
    results = [{"subscribers": 1000, "stages": {
        "pipeline": {"ok": True, "seconds": 575.0, "steps": step_seconds(RUN_OUT)},
        "refresh": {"ok": True, "seconds": 120.0, "steps": step_seconds(REFRESH_OUT)}}}]
    lines = render_steps(results)
    assert "| step | 1,000 full run | 1,000 refresh |" in lines
    # in the full run's order; a step only the full run has is '-' for the refresh
    rows = [line for line in lines if line.startswith("| ") and not line.startswith("| step")]
    assert rows == ["| raw_landing | 0.3 | 5.4 |",
                    "| mailsift_dbt_models | 172.3 | 98.4 |",
                    "| scoring_models | 387.5 | - |",
                    "| segment_assignments | 8.4 | 12.8 |",
                    # 575 - (0.3 + 172.3 + 387.5 + 8.4) = 6.5; 120 - (5.4 + 98.4 + 12.8) = 3.4
                    "| start-up, between and after the steps | 6.5 | 3.4 |",
                    "| the whole command | 575.0 | 120.0 |"]


def test_steps_table_leaves_out_failed_runs_and_runs_without_steps():
    results = [{"subscribers": 1000, "stages": {
        "pipeline": {"ok": True, "seconds": 575.0, "steps": step_seconds(RUN_OUT)},
        "refresh": {"ok": False, "seconds": 30.0, "steps": step_seconds(REFRESH_OUT)}}},
        {"subscribers": 2000, "stages": {"pipeline": {"ok": True, "seconds": 9.0}}}]
    lines = render_steps(results)
    assert "| step | 1,000 full run |" in lines and not any("refresh |" in line for line in lines)
    assert render_steps([{"subscribers": 10, "stages": {}}]) == []


def test_the_refresh_beside_its_dbt_step_as_a_share_of_the_full_run():
    refresh = {"ok": True, "seconds": 120.0, "steps": step_seconds(REFRESH_OUT)}
    # (120 - 98.4) / 200 = 21.6 / 200 = 10.8 %
    assert without_dbt(refresh, 200.0) == "10.8%"
    assert without_dbt(None, 200.0) == "n/a"
    assert without_dbt({"ok": True, "seconds": 120.0, "steps": {"raw_landing": 5.4}}, 200.0) == "n/a"
    results = [{"subscribers": 1000, "stages": {
        "ingest": {"seconds": 25.0}, "pipeline": {"ok": True, "seconds": 575.0, "steps": step_seconds(RUN_OUT)},
        "refresh": {**refresh, "peak_mb": 900.0}}}]
    lines = render_refresh(results)
    # full run 25 + 575 = 600 s: the refresh is 120 / 600 = 20.0 %, beside its dbt step 21.6 / 600 = 3.6 %
    assert "| refresh / full run (goal < 10 %) | 20.0% |" in lines
    assert "| refresh without its `mailsift_dbt_models` step / full run | 3.6% |" in lines
