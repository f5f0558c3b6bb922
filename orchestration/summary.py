"""The end-of-run summary: what was loaded, rejected and built, read from the warehouse."""

from __future__ import annotations

from pathlib import Path

import duckdb

from orchestration.landing_contract import ENTITIES
from orchestration.warehouse import connect


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )


def summarise(warehouse: Path) -> str:
    if not warehouse.exists():
        return f"No warehouse at {warehouse} yet."
    lines: list[str] = []
    try:
        with connect(warehouse, read_only=True) as con:
            _summarise(con, lines)
    except duckdb.IOException as exc:  # e.g. another process holds the write lock
        lines.append(f"(no summary: the warehouse could not be opened read-only: {str(exc).splitlines()[0]})")
    return "\n".join(lines)


def _summarise(con: duckdb.DuckDBPyConnection, lines: list[str]) -> None:
    lines.append("Raw layer (rows loaded / rejected):")
    for entity in ENTITIES:
        loaded, rejected, files = con.execute(
            "SELECT coalesce(sum(rows_loaded), 0), coalesce(sum(rows_rejected), 0), count(*) "
            "FROM raw.load_manifest WHERE entity = ?",
            [entity],
        ).fetchone()
        lines.append(f"  {entity:<13} {loaded:>12,} / {rejected:>8,}   from {files} file(s)")
    reasons = con.execute(
        "SELECT split_part(reason, '; ', 1) AS r, count(*) FROM raw.rejected_rows GROUP BY 1 "
        "ORDER BY 2 DESC, 1 LIMIT 6"
    ).fetchall()
    if reasons:
        lines.append("Top rejection reasons: " + "; ".join(f"{r} ({n:,})" for r, n in reasons))
    bad_files = con.execute("SELECT source_file, reason FROM raw.rejected_files ORDER BY 1").fetchall()
    for f, reason in bad_files[:5]:
        lines.append(f"Rejected file {f}: {reason}")
    if _table_exists(con, "marts", "subscriber_profiles"):
        n, mailable, as_of = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE is_mailable), max(as_of) FROM marts.subscriber_profiles"
        ).fetchone()
        lines.append(f"Subscriber profiles: {n:,} as of {as_of} ({mailable:,} mailable)")
        for column in ("lifecycle_stage", "rfm_segment"):
            dist = con.execute(
                f"SELECT {column}, count(*) FROM marts.subscriber_profiles GROUP BY 1 ORDER BY 2 DESC"
            ).fetchall()
            lines.append(f"  {column}: " + ", ".join(f"{k} {v:,}" for k, v in dist))
    if _table_exists(con, "serving", "segment_profiles"):
        macro = con.execute(
            "SELECT segment_id, name, size, share, avg_clv, avg_churn_probability, model_version "
            "FROM serving.segment_profiles WHERE level = 'macro' ORDER BY size DESC").fetchall()
        n_micro = con.execute("SELECT count(*) FROM serving.segment_profiles WHERE level = 'micro'").fetchone()[0]
        if macro:
            lines.append(f"Segments (mailsift-segmentation v{macro[0][6]}): {len(macro)} macro, {n_micro} micro")
            for sid, name, size, share, clv, churn in (r[:6] for r in macro):
                extra = "" if clv is None else f", avg CLV {clv:,.0f}"
                extra += "" if churn is None else f", churn {churn:.0%}"
                lines.append(f"  {sid} {name}: {size:,} ({share:.1%}{extra})")
    if _table_exists(con, "serving", "model_backtests"):
        rows = con.execute(
            "SELECT model, model_version, metric, value, baseline_value FROM serving.model_backtests "
            "WHERE is_primary AND role = 'candidate' ORDER BY model").fetchall()
        if rows:
            from ml.scoring.gates import beats  # the rule of the champions_beat_their_baselines check

            lines.append("Scoring models (held-out backtest, primary metric vs its naive baseline):")
            for model, version, metric, value, base in rows:
                below = ", BELOW it" if beats(value, base) is False else ""
                base_txt = "" if base is None else f" (baseline {base:.3f}{below})"
                lines.append(f"  {model} v{version}: {metric} {value:.3f}{base_txt}")
