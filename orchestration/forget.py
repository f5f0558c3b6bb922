"""``mailsift forget EMAIL``: erase one person from every layer and keep them erased.

In one warehouse transaction: every raw row holding the address (and the order lines of their
orders, and rejected rows that quote it; how many per loaded file goes to ``raw.erased_rows`` so the
ingestion check loaded + rejected + erased = rows keeps holding), every row of every derived table keyed by their
``subscriber_key``, address or internal ``identity_id`` (staging, intermediate, marts, labels, the
training build, ``ml``, ``serving``), and a tombstone -- ``sha256(salt || address)``, the person's
``subscriber_key``, never the address -- so a later import of the same address is rejected with the
reason ``erased``. Then the published serving Parquet files are rewritten from the cleaned tables and
every audience file `mailsift audience` wrote (``<data>/audience_exports.jsonl``; plain, Mailchimp or
Klaviyo columns) is rewritten without the person; their rows of ``ml.audience_exports`` (behind the
view ``serving.audience_exports``) go with the other ``ml`` rows. Registered MLflow models hold no addresses (tested), but the fatigue and affinity
models keep per-``subscriber_key`` evidence until the next retrain replaces them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from orchestration.audience import write_audience
from orchestration.exports import EMAIL_COLUMNS
from orchestration.landing_contract import EMAIL_PATTERN, ENTITIES
from orchestration.serving import PARTITIONED, SERVING_SCHEMA, existing_tables, publish_parquet
from orchestration.settings import Settings, read_or_create_salt
from orchestration.warehouse import RAW_SCHEMA, bootstrap, connect, ident

EXPORT_LOG = "audience_exports.jsonl"


@dataclass
class ForgetReport:
    subscriber_key: str
    already_erased: bool
    rows_deleted: dict[str, int] = field(default_factory=dict)
    files_rewritten: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.rows_deleted.values())


def normalise(email: str) -> str:
    norm = (email or "").strip().lower()
    if not re.fullmatch(EMAIL_PATTERN, norm):
        raise ValueError(f"{email!r} is not a valid e-mail address")
    return norm


def log_export(settings: Settings, path: Path) -> None:
    """Remember a file that holds addresses, so that `forget` can find it later."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.data_dir / EXPORT_LOG, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"path": str(Path(path).resolve()),
                             "written_at": datetime.now(timezone.utc).isoformat()}) + "\n")


def _delete(con, table: str, where: str, params: list, file_col: str | None = None) -> int:
    """Delete matching rows; for raw tables (``file_col``) record how many per loaded file."""
    n = con.execute(f"SELECT count(*) FROM {table} WHERE {where}", params).fetchone()[0]
    if n:
        if file_col:
            con.execute(f"INSERT INTO {RAW_SCHEMA}.erased_rows SELECT {file_col}, count(*), now() FROM {table} "
                        f"WHERE {where} GROUP BY 1", params)
        con.execute(f"DELETE FROM {table} WHERE {where}", params)
    return int(n)


def _rejected_rowids(con, norm: str) -> list[int]:
    """Rejected rows whose recorded fields hold the address (any column, any case or padding)."""
    rows = con.execute(f"SELECT rowid, CAST(raw_record AS VARCHAR) FROM {RAW_SCHEMA}.rejected_rows "
                       "WHERE position(? IN lower(CAST(raw_record AS VARCHAR))) > 0", [norm]).fetchall()
    hit = []
    for rowid, raw in rows:
        try:
            values = json.loads(raw).values()
        except (TypeError, ValueError):
            values = [raw]
        if any(isinstance(v, str) and v.strip().lower() == norm for v in values):
            hit.append(rowid)
    return hit


def _erase_warehouse(con, norm: str, key: str, report: ForgetReport) -> None:
    rows = report.rows_deleted
    email_match = "lower(trim(CAST(email AS VARCHAR))) = ?"
    rows["raw.order_items"] = _delete(con, f"{RAW_SCHEMA}.order_items",
                                      f"order_id IN (SELECT order_id FROM {RAW_SCHEMA}.orders WHERE {email_match})",
                                      [norm], file_col="_file_hash")
    for entity, spec in ENTITIES.items():
        if "email" in spec.column_names:
            rows[f"raw.{entity}"] = _delete(con, f"{RAW_SCHEMA}.{entity}", email_match, [norm], file_col="_file_hash")
    ids = _rejected_rowids(con, norm)
    if ids:
        _delete(con, f"{RAW_SCHEMA}.rejected_rows", "list_contains(?, rowid)", [ids], file_col="file_hash")
    rows["raw.rejected_rows"] = len(ids)
    columns = con.execute(
        "SELECT c.table_schema, c.table_name, list(c.column_name) FROM information_schema.columns c "
        "JOIN information_schema.tables t USING (table_schema, table_name) "
        "WHERE t.table_type = 'BASE TABLE' AND c.table_schema <> ? GROUP BY 1, 2 ORDER BY 1, 2",
        [RAW_SCHEMA]).fetchall()
    for schema, table, cols in columns:
        target = f"{ident(schema)}.{ident(table)}"
        conds, params = [], []
        if "subscriber_key" in cols:
            conds.append("subscriber_key = ?")
            params.append(key)
        if "email" in cols:
            conds.append(email_match)
            params.append(norm)
        if "identity_id" in cols:
            conds.append("identity_id = hash(?)")  # the dbt macro identity_id() on DuckDB
            params.append(norm)
        if conds:
            n = _delete(con, target, " OR ".join(conds), params)
            if n:
                rows[target] = n


def _rewrite_exports(settings: Settings, norm: str, report: ForgetReport) -> None:
    log = settings.data_dir / EXPORT_LOG
    if not log.exists():
        return
    for line in log.read_text(encoding="utf-8").splitlines():
        path = Path(json.loads(line)["path"])
        if not path.exists():
            continue
        # text as written (no type guessing), so a rewritten ESP file keeps its other values unchanged
        frame = (pd.read_parquet(path) if path.suffix == ".parquet"
                 else pd.read_csv(path, dtype=str, keep_default_na=False))
        col = next((c for c in EMAIL_COLUMNS if c in frame.columns), None)
        if col is None:
            continue
        keep = frame[col].astype(str).str.strip().str.lower() != norm
        if keep.all():
            continue
        write_audience(frame[keep], path)
        report.files_rewritten.append(str(path))
        report.rows_deleted[str(path)] = int((~keep).sum())


def forget(settings: Settings, email: str) -> ForgetReport:
    """Erase ``email`` everywhere (see the module docstring); idempotent."""
    norm = normalise(email)
    salt = read_or_create_salt(settings.salt_file)
    with connect(settings.warehouse) as con:
        bootstrap(con, salt)
        key = con.execute("SELECT sha256(? || ?)", [salt, norm]).fetchone()[0]
        already = con.execute(f"SELECT count(*) FROM {RAW_SCHEMA}.erased_subscribers WHERE subscriber_key = ?",
                              [key]).fetchone()[0] > 0
        report = ForgetReport(subscriber_key=key, already_erased=already)
        con.execute("BEGIN TRANSACTION")
        try:
            _erase_warehouse(con, norm, key, report)
            if not already:
                con.execute(f"INSERT INTO {RAW_SCHEMA}.erased_subscribers VALUES (?, ?)",
                            [key, datetime.now(timezone.utc).replace(tzinfo=None)])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        served = sorted(existing_tables(con, SERVING_SCHEMA))
        if served and settings.serving_dir.exists():
            publish_parquet(con, served, settings.serving_dir, run_id="forget", full=True)
            report.files_rewritten += [str(settings.serving_dir / (t if t in PARTITIONED else f"{t}.parquet"))
                                       for t in served]
    _rewrite_exports(settings, norm, report)
    report.rows_deleted = {k: v for k, v in report.rows_deleted.items() if v}
    return report
