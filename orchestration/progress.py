"""Run progress on the terminal: one line per step start and end, with counts and elapsed time.

Used for runs started from the ``mailsift`` command and by ``dagster dev`` alike (run logs in the UI
come from the event log and are unaffected). :class:`StepProgress` turns events into lines (pure, unit
tested); :class:`ProgressHandler` feeds it Dagster's log records. :func:`quiet_terminal` sends
everything else a run prints (dbt's per-model lines, MLflow's registry notices, warnings, stack
traces) to a log file, so the terminal shows only the progress lines. :func:`library_progress` relays
the stage lines of a long ``ml`` fit (Python ``logging``, INFO) to an asset's log while it runs.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

import dagster as dg
from dagster._core.log_manager import get_log_record_metadata, has_log_record_metadata

# dagster-dbt's own diagnostics, one per dbt source test or invocation: noise on a terminal (they still
# go to the detail log).
_QUIET = (
    "Logging an `AssetObservation` instead of an `AssetCheckResult`",
    "A dbt subsetted execution is not being performed",
    "to take advantage of partial parsing",
    "Running dbt command:",
    "Finished dbt command:",
)

# Set by quiet_terminal(): where progress lines go while sys.stdout points at the detail log.
_TERMINAL: TextIO | None = None
_DETAIL: TextIO | None = None


def elapsed_tag(seconds: float) -> str:
    """The fixed-width elapsed-time prefix of every progress line: ``[   12.3s]``."""
    return f"[{seconds:7.1f}s]"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


class StepProgress:
    """Turns run events into terminal lines and counts what each step produced.

    ``now`` is seconds since the run started. Returns the line to print, or None for events that only
    count (materialisations, passed checks) or are noise.
    """

    def __init__(self) -> None:
        self.started: dict[str, float] = {}
        self.assets: Counter[str] = Counter()
        self.checks_passed: Counter[str] = Counter()
        self.checks_failed: Counter[str] = Counter()
        self.checks_warned: Counter[str] = Counter()

    def _took(self, now: float, step: str) -> str:
        return f"{now - self.started.get(step, now):.1f} s"

    def _counts(self, step: str) -> str:
        parts = [_plural(self.assets[step], "asset")]
        if self.checks_passed[step] or self.checks_failed[step] or self.checks_warned[step]:
            parts.append(f"{self.checks_passed[step]:,} checks passed")
        if self.checks_warned[step]:
            parts.append(f"{self.checks_warned[step]:,} warned")
        if self.checks_failed[step]:
            parts.append(f"{self.checks_failed[step]:,} FAILED")
        return ", ".join(parts)

    def message(self, now: float, step: str, text: str) -> str | None:
        if any(q in text for q in _QUIET):
            return None
        return f"{elapsed_tag(now)} {step}: {text}"

    def start(self, now: float, step: str) -> str:
        self.started[step] = now
        return f"{elapsed_tag(now)} {step}: started"

    def materialised(self, step: str) -> None:
        self.assets[step] += 1

    def check(self, now: float, step: str, asset: str, check: str, passed: bool, warn: bool = False) -> str | None:
        """A line for a check that did not pass: a WARNING when its severity is WARN (the run goes on)."""
        if passed:
            self.checks_passed[step] += 1
            return None
        if warn:
            self.checks_warned[step] += 1
            return f"{elapsed_tag(now)} {step}: CHECK WARNING {asset} {check}"
        self.checks_failed[step] += 1
        return f"{elapsed_tag(now)} {step}: CHECK FAILED {asset} {check}"

    def success(self, now: float, step: str) -> str:
        return f"{elapsed_tag(now)} {step}: done in {self._took(now, step)} ({self._counts(step)})"

    def failure(self, now: float, step: str, error: str) -> str:
        return f"{elapsed_tag(now)} {step}: FAILED after {self._took(now, step)}: {error}"


def _root_cause(err) -> str:
    """The innermost error of a step failure, as ``ValueError: message`` (Dagster wraps user errors)."""
    while getattr(err, "cause", None) is not None:
        err = err.cause
    first = err.message.strip().splitlines()[0] if err.message.strip() else err.cls_name
    return re.sub(r"^[\w.]+\.(\w+: )", r"\1", first)


class ProgressHandler(logging.Handler):
    def __init__(self, stream: TextIO | None = None) -> None:
        # Dagster logs step starts, successes and materialisations at DEBUG: take everything, and drop
        # plain messages below INFO in format_line.
        super().__init__(logging.DEBUG)
        self._stream = stream
        self.t0 = time.monotonic()
        self.progress = StepProgress()

    @property
    def stream(self) -> TextIO:
        return self._stream or _TERMINAL or sys.stdout

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line, detail = self.format_line(record)
        except Exception:  # never let a display problem fail a run
            return
        if line:
            self.stream.write(line + "\n")
            self.stream.flush()
        if _DETAIL is not None and (detail or line):
            _DETAIL.write((detail or line) + "\n")
            _DETAIL.flush()

    def format_line(self, record: logging.LogRecord) -> tuple[str | None, str | None]:
        """(terminal line, fuller line for the detail log)."""
        if not has_log_record_metadata(record):
            return None, None
        meta = get_log_record_metadata(record)
        now = time.monotonic() - self.t0
        step = meta.get("step_key") or "run"
        event = meta.get("dagster_event")
        p = self.progress
        if event is None:
            message = meta["orig_message"]
            if record.levelno < logging.INFO:
                return None, None
            return p.message(now, step, message), f"{elapsed_tag(now)} {step}: {message}"
        kind = event.event_type_value
        if kind == "STEP_START":
            return p.start(now, step), None
        if kind == "ASSET_MATERIALIZATION":
            p.materialised(step)
            return None, f"{elapsed_tag(now)} {step}: materialised {event.asset_key.to_user_string()}"
        if kind == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            warn = getattr(data, "severity", None) == dg.AssetCheckSeverity.WARN
            return p.check(now, step, data.asset_key.to_user_string(), data.check_name, data.passed, warn), None
        if kind == "STEP_SUCCESS":
            return p.success(now, step), None
        if kind == "STEP_FAILURE":
            err = event.event_specific_data.error
            text = _root_cause(err) if err else meta["orig_message"]
            full = err.to_string() if err else meta["orig_message"]
            line = p.failure(now, step, text)
            # Without a detail log, the terminal is the only place the stack trace can go.
            return (line if _DETAIL is not None else f"{line}\n{full}"), f"{line}\n{full}"
        return None, None


@contextmanager
def quiet_terminal(log_path: Path) -> Iterator[Path]:
    """Progress lines to the terminal, everything else printed meanwhile appended to ``log_path``."""
    global _TERMINAL, _DETAIL
    log_path.parent.mkdir(parents=True, exist_ok=True)
    saved = sys.stdout, sys.stderr, _TERMINAL, _DETAIL
    with open(log_path, "a", encoding="utf-8") as fh:
        _TERMINAL, _DETAIL = sys.stdout, fh
        sys.stdout = sys.stderr = fh
        try:
            yield log_path
        finally:
            sys.stdout, sys.stderr, _TERMINAL, _DETAIL = saved


class _Relay(logging.Handler):
    """Hands each record's message to a callable (``context.log.info``)."""

    def __init__(self, emit_line) -> None:
        super().__init__(logging.INFO)
        self._emit_line = emit_line

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._emit_line(record.getMessage())
        except Exception:  # a broken log sink must not fail the fit
            self.handleError(record)


@contextmanager
def library_progress(emit_line, logger_name: str = "ml") -> Iterator[None]:
    """While the block runs, hand the INFO lines of the modelling library (the ``ml.*`` loggers, which
    stay silent otherwise) to ``emit_line``, e.g. ``context.log.info``: a long fit then shows its stages
    in the run log and on the terminal. The logger's level, propagation and handlers are restored after."""
    log = logging.getLogger(logger_name)
    saved = log.level, log.propagate
    relay = _Relay(emit_line)
    log.addHandler(relay)
    log.setLevel(logging.INFO)
    log.propagate = False  # the lines reach the run log once, through the relay
    try:
        yield
    finally:
        log.removeHandler(relay)
        log.setLevel(saved[0])
        log.propagate = saved[1]


@dg.logger(description="Compact progress lines on the terminal.")
def progress_logger(_init_context) -> logging.Logger:
    log = logging.getLogger("mailsift.progress")
    log.setLevel(logging.DEBUG)
    log.propagate = False
    for old in list(log.handlers):  # a fresh clock and fresh counts for every run
        log.removeHandler(old)
    log.addHandler(ProgressHandler())
    return log
