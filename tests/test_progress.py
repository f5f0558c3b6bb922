"""The terminal progress lines: step start/end with counts and elapsed time; noise kept off the terminal."""

from __future__ import annotations

import io
import sys

from orchestration.progress import StepProgress, elapsed_tag, quiet_terminal


def test_elapsed_tag_is_fixed_width():
    assert elapsed_tag(0) == "[    0.0s]"
    assert elapsed_tag(12.34) == "[   12.3s]"
    assert elapsed_tag(1234.56) == "[ 1234.6s]"


def test_a_dbt_step_reads_as_one_line_with_counts():
    p = StepProgress()
    assert p.start(5.9, "mailsift_dbt_models") == "[    5.9s] mailsift_dbt_models: started"
    assert p.message(6.0, "mailsift_dbt_models", "Running dbt command: `dbt build`.") is None
    for _ in range(43):
        p.materialised("mailsift_dbt_models")
    for _ in range(133):
        assert p.check(10.0, "mailsift_dbt_models", "marts/x", "not_null", True) is None
    assert p.success(20.7, "mailsift_dbt_models") == (
        "[   20.7s] mailsift_dbt_models: done in 14.8 s (43 assets, 133 checks passed)")


def test_step_lines_count_per_step_and_report_failures():
    p = StepProgress()
    p.start(0.2, "raw_landing")
    assert p.message(0.3, "raw_landing", "loaded campaigns/c.parquet: 328 rows, 0 rejected") == (
        "[    0.3s] raw_landing: loaded campaigns/c.parquet: 328 rows, 0 rejected")
    p.materialised("raw_landing")
    p.start(1.0, "scoring_models")
    assert p.success(0.7, "raw_landing") == "[    0.7s] raw_landing: done in 0.5 s (1 asset)"
    assert p.check(2.0, "scoring_models", "ml/model_backtests", "gate", False) == (
        "[    2.0s] scoring_models: CHECK FAILED ml/model_backtests gate")
    assert p.failure(3.5, "scoring_models", "no data") == "[    3.5s] scoring_models: FAILED after 2.5 s: no data"
    assert p.success(3.5, "scoring_models").endswith("(0 assets, 0 checks passed, 1 FAILED)")
    # a check of severity WARN that does not pass warns: the run goes on
    p.start(4.0, "ml__feature_drift")
    assert p.check(4.5, "ml__feature_drift", "ml/feature_drift", "feature_drift_below_warning", False, warn=True) == (
        "[    4.5s] ml__feature_drift: CHECK WARNING ml/feature_drift feature_drift_below_warning")
    assert p.check(4.6, "ml__feature_drift", "ml/feature_drift", "segment_shares_stable", True) is None
    assert p.success(5.0, "ml__feature_drift").endswith("(0 assets, 1 checks passed, 1 warned)")


def test_quiet_terminal_sends_other_output_to_the_log(tmp_path):
    import orchestration.progress as progress

    terminal = io.StringIO()
    saved = sys.stdout
    sys.stdout = terminal
    try:
        with quiet_terminal(tmp_path / "logs" / "run.log") as log:
            print("1 of 176 START test source_not_null ...")  # what dagster-dbt writes to sys.stdout
            print("Successfully registered model 'mailsift-churn'.", file=sys.stderr)
            progress._TERMINAL.write("[    1.0s] raw_landing: started\n")
    finally:
        sys.stdout = saved
    assert terminal.getvalue() == "[    1.0s] raw_landing: started\n"
    text = log.read_text()
    assert "1 of 176 START" in text and "Successfully registered" in text
    assert sys.stderr is not None and progress._TERMINAL is None and progress._DETAIL is None


def test_a_dagster_run_prints_one_line_per_step_start_and_end(tmp_path):
    """The progress logger on a real in-process run: step starts and ends (Dagster logs them at DEBUG)."""
    import re

    import dagster as dg

    from orchestration.progress import progress_logger

    @dg.asset
    def counted(context):
        context.log.info("counted 3 rows")
        return 3

    @dg.asset
    def doubled(counted):
        return counted * 2

    @dg.asset
    def broken(doubled):
        raise ValueError("no data for broken")

    defs = dg.Definitions(assets=[counted, doubled, broken], loggers={"console": progress_logger},
                          jobs=[dg.define_asset_job("all", selection="*")])
    terminal = io.StringIO()
    saved = sys.stdout
    sys.stdout = terminal
    try:
        with quiet_terminal(tmp_path / "run.log") as log:
            result = defs.resolve_job_def("all").execute_in_process(
                instance=dg.DagsterInstance.ephemeral(), raise_on_error=False,
                run_config={"loggers": {"console": {}}})
    finally:
        sys.stdout = saved
    assert not result.success
    lines = [re.sub(r"^\[ *[0-9.]+s\] ", "", line) for line in terminal.getvalue().splitlines()]
    assert lines[:6] == ["counted: started", "counted: counted 3 rows", lines[2], "doubled: started", lines[4],
                         "broken: started"], lines
    assert re.fullmatch(r"counted: done in [0-9.]+ s \(1 asset\)", lines[2])
    assert re.fullmatch(r"doubled: done in [0-9.]+ s \(1 asset\)", lines[4])
    assert re.fullmatch(r"broken: FAILED after [0-9.]+ s: ValueError: no data for broken", lines[6]), lines
    assert "Traceback" not in terminal.getvalue() and "no data for broken" in log.read_text()


def test_library_progress_relays_the_modelling_library_lines_only_while_the_block_runs():
    import logging

    from orchestration.progress import library_progress

    ml_log, other = logging.getLogger("ml.segmentation.macro"), logging.getLogger("mailsift.elsewhere")
    parent = logging.getLogger("ml")
    before = parent.level, parent.propagate, list(parent.handlers)
    seen: list[str] = []
    with library_progress(seen.append):
        ml_log.info("Scored k = %d-%d", 4, 14)
        ml_log.debug("too fine for the run log")
        other.info("not the library's")
    ml_log.info("after the block")
    assert seen == ["Scored k = 4-14"]
    assert (parent.level, parent.propagate, list(parent.handlers)) == before
