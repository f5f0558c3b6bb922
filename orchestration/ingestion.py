"""Landing files → the raw layer, by DuckDB bulk reads (no per-row Python).

For every new file (by SHA-256 of its bytes; a file once loaded is never loaded twice, wherever it
lies): read it with DuckDB, type and validate every row with SQL built from the contract, then in one
transaction append the good rows to ``raw.<entity>``, the others to ``raw.rejected_rows`` with their
reason, the contract columns the file lacks to ``raw.absent_columns``, and the file to
``raw.load_manifest`` with its counts. A file DuckDB cannot read at all (or one without a required
column) goes to ``raw.rejected_files`` and the rest carry on.
"""

from __future__ import annotations

import gzip
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from orchestration.landing_contract import ENTITIES, EntitySpec
from orchestration.validation import email_check_sql, raw_record_select, validated_select
from orchestration.warehouse import RAW_SCHEMA

SUFFIXES = (".parquet", ".csv", ".csv.gz")
NOT_ENTITIES = {"truth"}  # the generator's planted answers sit beside the landing files


@dataclass
class FileResult:
    entity: str
    source_file: str
    status: str  # loaded | skipped | rejected
    rows_in_file: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    reason: str | None = None
    seconds: float = 0.0


@dataclass
class IngestionReport:
    files: list[FileResult] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    def rows(self, entity: str | None = None) -> tuple[int, int]:
        sel = [f for f in self.files if f.status == "loaded" and (entity is None or f.entity == entity)]
        return sum(f.rows_loaded for f in sel), sum(f.rows_rejected for f in sel)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def discover(landing_dir: Path) -> tuple[list[tuple[str, Path]], list[str]]:
    """(entity, path) for every landing file in arrival order (modification time, then name).

    Returns also what was ignored (unknown folders, other file types) so the caller can say so.
    """
    found: list[tuple[str, Path]] = []
    ignored: list[str] = []
    if not landing_dir.exists():
        raise FileNotFoundError(
            f"Landing folder {landing_dir} does not exist. Create it with one sub-folder per entity "
            f"({', '.join(ENTITIES)}), or run `mailsift generate --out {landing_dir}`."
        )
    for sub in sorted(p for p in landing_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
        entity = sub.name.lower()
        if entity not in ENTITIES:
            if entity not in NOT_ENTITIES:
                ignored.append(f"{sub.name}/ (not a contract entity)")
            continue
        for path in sorted(p for p in sub.rglob("*") if p.is_file() and not p.name.startswith((".", "_"))):
            found.append((entity, path))
    found.sort(key=lambda ep: (ep[1].stat().st_mtime_ns, str(ep[1])))
    return found, ignored


def _count_csv_rows(path: Path) -> int:
    """Data rows of a CSV file counted independently of DuckDB: non-blank lines less the header."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    lines = 0
    with opener(path, "rb") as fh:
        for line in fh:
            if line.strip():
                lines += 1
    return max(lines - 1, 0)


def _source_sql(path: Path) -> tuple[str, str]:
    """(FROM clause for the file with __ord, kind); the path is a bound parameter ($path)."""
    if path.name.lower().endswith(".parquet"):
        return (
            "(SELECT * EXCLUDE (file_row_number), file_row_number + 1 AS __ord "
            "FROM read_parquet($path, file_row_number = true))",
            "parquet",
        )
    # CSV: every value as text (typed by the validation), malformed lines kept aside in _rej_errors.
    return (
        "(SELECT *, row_number() OVER () AS __ord FROM read_csv($path, header = true, all_varchar = true, "
        "ignore_errors = true, store_rejects = true, rejects_table = '_rej_errors', "
        "rejects_scan = '_rej_scans'))",
        "csv",
    )


class _Unreadable(Exception):
    pass


def _load_file(
    con: duckdb.DuckDBPyConnection, spec: EntitySpec, path: Path, rel: str, file_hash: str, seq: int
) -> FileResult:
    t0 = time.perf_counter()
    params = {"path": str(path)}
    src_sql, kind = _source_sql(path)
    src_params = params  # what a statement reading src_sql binds
    try:
        if kind == "csv":
            con.execute("DROP TABLE IF EXISTS _rej_errors; DROP TABLE IF EXISTS _rej_scans")
        # Parquet is read where it lies (columnar reads are cheap to repeat), a CSV file once into a
        # table, because its malformed lines are collected while it is scanned.
        if kind == "csv":
            con.execute(f"CREATE OR REPLACE TEMP TABLE _src AS SELECT * FROM {src_sql}", params)
            src_sql, src_params = "_src", {}
        described = con.execute(f"DESCRIBE SELECT * FROM {src_sql}", src_params).fetchall()
        if kind == "parquet":
            rows_in_file = con.execute("SELECT sum(num_rows) FROM parquet_file_metadata($path)", params).fetchone()[0]
        else:
            rows_in_file = _count_csv_rows(path)
    except (duckdb.Error, OSError, EOFError, UnicodeDecodeError) as exc:
        raise _Unreadable(f"cannot read the file: {str(exc).splitlines()[0]}") from exc

    described = [(r[0], r[1]) for r in described if r[0] != "__ord"]
    lowered = [n.lower() for n, _ in described]
    dupes = sorted({n for n in lowered if lowered.count(n) > 1})
    if dupes:
        raise _Unreadable(f"column names repeat when case is ignored: {', '.join(dupes)}")
    available = {n.lower(): t for n, t in described if n.lower() in spec.column_names}
    missing = [c.name for c in spec.columns if c.required and c.name not in available]
    if missing:
        raise _Unreadable(f"missing required column(s) for {spec.name}: {', '.join(missing)}")
    extras = bool(set(lowered) - set(spec.column_names))

    ordinal = "src.__ord" if kind == "parquet" else "src.__ord + 1"  # CSV: the header is line 1
    if "email" in available:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _email_check AS {email_check_sql(src_sql)}", src_params)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _validated AS WITH src AS (SELECT * FROM {src_sql}) "
        + validated_select(spec, available, extras, ordinal),
        src_params,
    )
    if kind == "csv":
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _bad AS SELECT line, any_value(csv_line) AS csv_line, "
            "string_agg(DISTINCT error_message, '; ') AS msg FROM _rej_errors GROUP BY line"
        )
        if con.execute("SELECT count(*) FROM _bad").fetchone()[0]:
            # row_number() counted only the lines DuckDB could parse: shift each row past the
            # malformed lines before it (the j-th malformed line L_j has L_j - j - 1 good rows before it).
            con.execute(
                "UPDATE _validated SET __line = __line + (SELECT count(*) FROM "
                "(SELECT line - row_number() OVER (ORDER BY line) - 1 AS good_before FROM _bad) b "
                "WHERE b.good_before < _validated.__line - 1)"
            )
    cols = ", ".join(f'"{c}"' for c in spec.column_names)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            f"INSERT INTO {RAW_SCHEMA}.{spec.name} SELECT {cols}, _extra, $rel, $hash, $seq, __line, "
            "now()::TIMESTAMP FROM _validated WHERE __reason IS NULL",
            {"rel": rel, "hash": file_hash, "seq": seq},
        )
        con.execute(
            f"INSERT INTO {RAW_SCHEMA}.rejected_rows SELECT $entity, $rel, v.__line, v.__reason, r.__raw, "
            f"now()::TIMESTAMP, $hash FROM _validated v JOIN ({raw_record_select(src_sql)}) r USING (__ord) "
            "ORDER BY v.__line",
            {"entity": spec.name, "rel": rel, "hash": file_hash, **src_params},
        )
        if kind == "csv":
            con.execute(
                f"INSERT INTO {RAW_SCHEMA}.rejected_rows SELECT $entity, $rel, line, "
                "'malformed CSV line: ' || msg, to_json(struct_pack(csv_line := csv_line)), now()::TIMESTAMP, $hash "
                "FROM _bad",
                {"entity": spec.name, "rel": rel, "hash": file_hash},
            )
        absent = [(file_hash, spec.name, c) for c in spec.column_names if c not in available]
        if absent:
            con.executemany(f"INSERT INTO {RAW_SCHEMA}.absent_columns VALUES (?, ?, ?)", absent)
        loaded, rejected = con.execute(
            f"SELECT (SELECT count(*) FROM {RAW_SCHEMA}.{spec.name} WHERE _file_hash = $hash), "
            f"(SELECT count(*) FROM {RAW_SCHEMA}.rejected_rows WHERE file_hash = $hash)",
            {"hash": file_hash},
        ).fetchone()
        con.execute(
            f"INSERT INTO {RAW_SCHEMA}.load_manifest VALUES ($hash, $entity, $rel, $seq, $size, $rows, "
            "$loaded, $rejected, now()::TIMESTAMP)",
            {
                "hash": file_hash, "entity": spec.name, "rel": rel, "seq": seq, "size": path.stat().st_size,
                "rows": rows_in_file, "loaded": loaded, "rejected": rejected,
            },
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.execute(
            "DROP TABLE IF EXISTS _src; DROP TABLE IF EXISTS _validated; DROP TABLE IF EXISTS _bad; "
            "DROP TABLE IF EXISTS _email_check"
        )
    return FileResult(spec.name, rel, "loaded", rows_in_file, loaded, rejected, seconds=time.perf_counter() - t0)


def ingest_landing(
    con: duckdb.DuckDBPyConnection,
    landing_dir: Path,
    progress: Callable[[str], None] | None = None,
    entities: set[str] | None = None,
) -> IngestionReport:
    """Load every landing file not loaded before; the raw tables must exist (see warehouse.bootstrap)."""
    say = progress or (lambda _msg: None)
    files, ignored = discover(landing_dir)
    report = IngestionReport(ignored=ignored)
    for item in ignored:
        say(f"ignored {item}")
    known = {r[0] for r in con.execute(f"SELECT file_hash FROM {RAW_SCHEMA}.load_manifest").fetchall()}
    known |= {r[0] for r in con.execute(f"SELECT file_hash FROM {RAW_SCHEMA}.rejected_files").fetchall()}
    seq = con.execute(f"SELECT coalesce(max(file_seq), 0) FROM {RAW_SCHEMA}.load_manifest").fetchone()[0]
    for entity, path in files:
        if entities is not None and entity not in entities:
            continue
        rel = str(path.relative_to(landing_dir))
        file_hash = file_sha256(path)
        if file_hash in known:
            report.files.append(FileResult(entity, rel, "skipped", reason="already loaded (same content)"))
            continue
        known.add(file_hash)
        if not path.name.lower().endswith(SUFFIXES):
            result = FileResult(entity, rel, "rejected", reason="not a .csv, .csv.gz or .parquet file")
            _record_rejected_file(con, result, file_hash)
            report.files.append(result)
            say(f"rejected {rel}: {result.reason}")
            continue
        try:
            seq += 1
            result = _load_file(con, ENTITIES[entity], path, rel, file_hash, seq)
            say(
                f"loaded {rel}: {result.rows_loaded:,} rows, {result.rows_rejected:,} rejected "
                f"({result.seconds:.1f} s)"
            )
        except _Unreadable as exc:
            seq -= 1
            result = FileResult(entity, rel, "rejected", reason=str(exc))
            _record_rejected_file(con, result, file_hash)
            say(f"rejected {rel}: {result.reason}")
        report.files.append(result)
    skipped = report.count("skipped")
    if skipped:
        say(f"skipped {skipped} file(s) seen before (same content)")
    return report


def _record_rejected_file(con: duckdb.DuckDBPyConnection, result: FileResult, file_hash: str | None) -> None:
    con.execute(
        f"INSERT INTO {RAW_SCHEMA}.rejected_files VALUES ($rel, $entity, $hash, $reason, now()::TIMESTAMP)",
        {"rel": result.source_file, "entity": result.entity, "hash": file_hash, "reason": result.reason},
    )


def reconcile(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int, int, int]]:
    """Files where loaded + rejected differs from the rows in the file: (file, rows, loaded, rejected).

    Counts the raw tables and rejected_rows afresh rather than trusting the manifest's own counts. Rows
    erased since by `mailsift forget` (``raw.erased_rows``) count as rejected here.
    """
    union = " UNION ALL ".join(
        f"SELECT _file_hash AS h, count(*) AS n FROM {RAW_SCHEMA}.{e} GROUP BY 1" for e in ENTITIES
    )
    return con.execute(
        f"""
        WITH loaded AS ({union}),
        rejected AS (
            SELECT h, sum(n) AS n FROM (
                SELECT file_hash AS h, count(*) AS n FROM {RAW_SCHEMA}.rejected_rows GROUP BY 1
                UNION ALL
                SELECT file_hash, sum(rows_erased) FROM {RAW_SCHEMA}.erased_rows GROUP BY 1
            ) GROUP BY h
        )
        SELECT m.source_file, m.rows_in_file, coalesce(l.n, 0), coalesce(r.n, 0)
        FROM {RAW_SCHEMA}.load_manifest m
        LEFT JOIN loaded l ON l.h = m.file_hash LEFT JOIN rejected r ON r.h = m.file_hash
        WHERE m.rows_in_file <> coalesce(l.n, 0) + coalesce(r.n, 0)
        ORDER BY 1
        """
    ).fetchall()
