"""ESP-ready audience files and the warehouse record of every export (``serving.audience_exports``).

File conventions (the import columns each tool maps by header; ours ride along as custom fields):

* ``mailchimp``: ``Email Address`` (the one required column), ``First Name``, ``Last Name``, ``Tags``
  (comma-separated, quoted by the CSV writer: ``mailsift``, the audience name, and ``segment <id>`` for
  campaign audiences), then the custom fields ``Mailsift Audience``,
  ``Mailsift Rank``, ``Mailsift Segment``, ``Mailsift Send Hour`` and ``Mailsift Click Probability``.
* ``klaviyo``: ``Email`` first (Klaviyo wants the e-mail or phone column first), the Klaviyo properties
  ``First Name`` and ``Last Name``, then custom properties ``mailsift_audience``, ``mailsift_rank``,
  ``mailsift_segment``, ``mailsift_send_hour_local``, ``mailsift_click_probability``.
* ``plain``: the audience frame as built (``rank, email, subscriber_key, ...``); ``.parquet`` allowed.

:func:`export_audience` writes the file beside its target, records the rows in ``ml.audience_exports``
(the earlier rows of the same audience name replaced) and renames the file into place inside that one
transaction, logs the file for `mailsift forget`, then republishes the serving Parquet files so that
``audience_exports.parquet`` and ``serving.duckdb`` agree with the warehouse.
"""

from __future__ import annotations

import os
import uuid
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from orchestration.serving import ML_SCHEMA, SERVING_SCHEMA, existing_tables, publish_parquet
from orchestration.settings import Settings
from orchestration.warehouse import connect

FORMATS = ("plain", "mailchimp", "klaviyo")
# Columns that hold the address in any of the formats (what `mailsift forget` looks for in a file).
EMAIL_COLUMNS = ("email", "Email Address", "Email")
EXPORTS_TABLE = "audience_exports"
# Same DDL as the pre-hook of dbt_project/models/serving/audience_exports.sql (a test checks they agree).
EXPORTS_DDL = (
    f"CREATE TABLE IF NOT EXISTS {ML_SCHEMA}.{EXPORTS_TABLE} (export_id varchar not null, audience varchar not null, "
    "email varchar not null, subscriber_key varchar not null, segment_id varchar, send_hour_local integer, "
    "rank bigint not null, predicted_click_probability double, export_format varchar not null, "
    "file_path varchar not null, exported_at timestamp not null, as_of timestamp)")
_RECORD_COLUMNS = ["export_id", "audience", "email", "subscriber_key", "segment_id", "send_hour_local", "rank",
                   "predicted_click_probability", "export_format", "file_path", "exported_at", "as_of"]


class ExportError(Exception):
    """An export that cannot be written (bad format for the file name, warehouse busy); the message says why."""


@dataclass
class ExportResult:
    export_id: str
    path: Path
    rows: int
    published: bool


def _tags(frame: pd.DataFrame) -> pd.Series:
    audience = frame["audience"].astype(str).str.replace(",", " ", regex=False)
    seg = frame["segment_id"].fillna("").astype(str)
    # the person's segment as a tag too, unless the audience is that segment already
    add = (seg != "") & ~audience.str.startswith("segment=")
    return ("mailsift, " + audience + seg.where(~add, ", segment " + seg).where(add, "")).astype(str)


def esp_frame(frame: pd.DataFrame, fmt: str) -> pd.DataFrame:
    """The audience in ``fmt``'s import columns (see the module docstring)."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if fmt == "plain":
        return frame.copy()
    hour = frame["send_hour_local"].astype("Int64")
    prob = frame["predicted_click_probability"].round(4)
    if fmt == "mailchimp":
        return pd.DataFrame({
            "Email Address": frame["email"], "First Name": frame["first_name"], "Last Name": frame["last_name"],
            "Tags": _tags(frame), "Mailsift Audience": frame["audience"], "Mailsift Rank": frame["rank"],
            "Mailsift Segment": frame["segment_id"], "Mailsift Send Hour": hour, "Mailsift Click Probability": prob})
    return pd.DataFrame({
        "Email": frame["email"], "First Name": frame["first_name"], "Last Name": frame["last_name"],
        "mailsift_audience": frame["audience"], "mailsift_rank": frame["rank"],
        "mailsift_segment": frame["segment_id"], "mailsift_send_hour_local": hour,
        "mailsift_click_probability": prob})


def _write_aside(frame: pd.DataFrame, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    if out.suffix.lower() == ".parquet":
        frame.to_parquet(tmp, index=False)
    else:
        frame.to_csv(tmp, index=False)
    return tmp


def export_audience(settings: Settings, frame: pd.DataFrame, out: Path, fmt: str = "plain",
                    audience: str | None = None) -> ExportResult:
    """Write ``frame`` (from :func:`orchestration.audience.build_audience`) to ``out`` in ``fmt`` and record it
    as audience ``audience`` (default: the frame's ``audience`` column)."""
    from orchestration.forget import log_export

    out = Path(out).resolve()
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if fmt != "plain" and out.suffix.lower() != ".csv":
        raise ExportError(f"{fmt} imports CSV files: name the --out file *.csv (got {out.name})")
    if audience is None:
        if frame.empty:
            raise ExportError("an empty audience needs its name (audience=...)")
        audience = str(frame["audience"].iloc[0])
    export_id = f"audience-{uuid.uuid4().hex[:12]}"
    record = frame.assign(export_id=export_id, export_format=fmt, file_path=str(out), audience=audience)
    tmp = _write_aside(esp_frame(frame, fmt), out)
    try:
        with ExitStack() as stack:
            try:
                con = stack.enter_context(connect(settings.warehouse))
            except duckdb.Error as exc:
                raise ExportError(f"cannot open the warehouse for writing ({exc}); is `mailsift run` running? "
                                  "Try again when it has finished.") from exc
            served = existing_tables(con, SERVING_SCHEMA)
            record["as_of"] = (con.execute("SELECT max(as_of) FROM serving.subscriber_scores").fetchone()[0]
                               if "subscriber_scores" in served else None)
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {ML_SCHEMA}")
            con.execute(EXPORTS_DDL)
            con.register("__mailsift_export", record[_RECORD_COLUMNS])
            try:
                con.execute("BEGIN TRANSACTION")
                try:
                    con.execute(f"DELETE FROM {ML_SCHEMA}.{EXPORTS_TABLE} WHERE audience = ?", [audience])
                    con.execute(f"INSERT INTO {ML_SCHEMA}.{EXPORTS_TABLE} ({', '.join(_RECORD_COLUMNS)}) "
                                f"SELECT {', '.join(_RECORD_COLUMNS)} FROM __mailsift_export")
                    log_export(settings, out)  # the file holds addresses: `mailsift forget` rewrites it
                    os.replace(tmp, out)
                    con.execute("COMMIT")
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
            finally:
                con.unregister("__mailsift_export")
            published = EXPORTS_TABLE in served and settings.serving_dir.exists()
            if published:
                publish_parquet(con, sorted(served), settings.serving_dir, run_id=export_id)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return ExportResult(export_id, out, len(frame), published)
