"""A compact console logger: what each step is doing, with elapsed time, instead of every event.

Used for runs started from the ``mailsift`` command and by ``dagster dev`` alike (run logs in the UI
come from the event log and are unaffected).
"""

from __future__ import annotations

import logging
import sys
import time

import dagster as dg
from dagster._core.log_manager import get_log_record_metadata, has_log_record_metadata

_SHOWN = {
    "STEP_START": "started",
    "STEP_SUCCESS": "done",
    "STEP_FAILURE": "FAILED",
    "ASSET_MATERIALIZATION": "materialised",
    "ASSET_CHECK_EVALUATION": "check",
}


# dagster-dbt's own diagnostics, one per dbt source test or invocation: noise on a terminal.
_QUIET = (
    "Logging an `AssetObservation` instead of an `AssetCheckResult`",
    "A dbt subsetted execution is not being performed",
    "to take advantage of partial parsing",
)


class ProgressHandler(logging.Handler):
    def __init__(self, stream=None) -> None:
        super().__init__(logging.INFO)
        self.stream = stream or sys.stdout
        self.t0 = time.monotonic()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format_line(record)
        except Exception:  # never let a display problem fail a run
            return
        if line:
            self.stream.write(line + "\n")
            self.stream.flush()

    def format_line(self, record: logging.LogRecord) -> str | None:
        if not has_log_record_metadata(record):
            return None
        meta = get_log_record_metadata(record)
        elapsed = f"[{time.monotonic() - self.t0:7.1f}s]"
        step = meta.get("step_key") or "run"
        event = meta.get("dagster_event")
        if event is None:
            message = meta["orig_message"]
            if record.levelno < logging.INFO or any(q in message for q in _QUIET):
                return None
            return f"{elapsed} {step}: {message}"
        kind = event.event_type_value
        if kind not in _SHOWN:
            return None
        if kind == "ASSET_MATERIALIZATION":
            return f"{elapsed} {step}: materialised {event.asset_key.to_user_string()}"
        if kind == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            if data.passed:
                return None
            return f"{elapsed} {step}: CHECK FAILED {data.asset_key.to_user_string()} {data.check_name}"
        if kind == "STEP_FAILURE":
            err = event.event_specific_data.error
            return f"{elapsed} {step}: FAILED\n{err.to_string() if err else meta['orig_message']}"
        return f"{elapsed} {step}: {_SHOWN[kind]}"


@dg.logger(description="Compact progress lines on the terminal.")
def progress_logger(_init_context) -> logging.Logger:
    log = logging.getLogger("mailsift.progress")
    log.setLevel(logging.INFO)
    log.propagate = False
    if not log.handlers:
        log.addHandler(ProgressHandler())
    return log
