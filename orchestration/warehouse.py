"""Opening the DuckDB warehouse and creating the raw layer's tables.

One connection configuration for the whole project (DuckDB refuses a second connection to the same
file with a different configuration in one process), and the raw layer's DDL derived from
:mod:`orchestration.landing_contract`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from orchestration.landing_contract import BOOKKEEPING_COLUMNS, ENTITIES

RAW_SCHEMA = "raw"
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")

_META_DDL = (
    f"""CREATE TABLE IF NOT EXISTS {RAW_SCHEMA}.load_manifest (
        file_hash VARCHAR PRIMARY KEY, entity VARCHAR NOT NULL, source_file VARCHAR NOT NULL,
        file_seq INTEGER NOT NULL, size_bytes BIGINT, rows_in_file BIGINT NOT NULL,
        rows_loaded BIGINT NOT NULL, rows_rejected BIGINT NOT NULL, loaded_at TIMESTAMP NOT NULL)""",
    f"""CREATE TABLE IF NOT EXISTS {RAW_SCHEMA}.rejected_rows (
        entity VARCHAR NOT NULL, source_file VARCHAR NOT NULL, line_number BIGINT,
        reason VARCHAR NOT NULL, raw_record JSON, rejected_at TIMESTAMP NOT NULL, file_hash VARCHAR)""",
    f"""CREATE TABLE IF NOT EXISTS {RAW_SCHEMA}.rejected_files (
        source_file VARCHAR NOT NULL, entity VARCHAR, file_hash VARCHAR,
        reason VARCHAR NOT NULL, rejected_at TIMESTAMP NOT NULL)""",
    f"CREATE TABLE IF NOT EXISTS {RAW_SCHEMA}.key_salt (salt VARCHAR NOT NULL)",
    # Tombstones of erased people (`mailsift forget`): the salted key only, never the address.
    f"""CREATE TABLE IF NOT EXISTS {RAW_SCHEMA}.erased_subscribers (
        subscriber_key VARCHAR PRIMARY KEY, erased_at TIMESTAMP NOT NULL)""",
    # How many rows of each loaded file were erased since, so loaded + rejected + erased = rows still holds.
    f"""CREATE TABLE IF NOT EXISTS {RAW_SCHEMA}.erased_rows (
        file_hash VARCHAR NOT NULL, rows_erased BIGINT NOT NULL, erased_at TIMESTAMP NOT NULL)""",
)


def raw_table_ddl(entity: str) -> str:
    spec = ENTITIES[entity]
    cols = [f'"{c.name}" {c.type}' for c in spec.columns] + [f'"{n}" {t}' for n, t in BOOKKEEPING_COLUMNS]
    return f"CREATE TABLE IF NOT EXISTS {RAW_SCHEMA}.{entity} ({', '.join(cols)})"


@contextmanager
def connect(path: Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection with the project's one configuration; timestamps are read as UTC."""
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    try:
        con.execute("SET TimeZone = 'UTC'")
        yield con
    finally:
        con.close()


def bootstrap(con: duckdb.DuckDBPyConnection, salt: str) -> None:
    """Create the raw schema, its tables and the key salt (idempotent).

    The salt is checked against the one the warehouse already holds: a different salt would silently
    change every ``subscriber_key``, so it is refused with a clear message instead.
    """
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
    for ddl in _META_DDL:
        con.execute(ddl)
    for entity in ENTITIES:
        con.execute(raw_table_ddl(entity))
    held = con.execute(f"SELECT salt FROM {RAW_SCHEMA}.key_salt").fetchall()
    if not held:
        con.execute(f"INSERT INTO {RAW_SCHEMA}.key_salt VALUES (?)", [salt])
    elif held[0][0] != salt:
        raise RuntimeError(
            "The warehouse was built with a different subscriber_key salt than the salt file holds. "
            "Restore the original salt file (MAILSIFT_SALT_FILE) or start from a new warehouse."
        )


def ident(name: str) -> str:
    """``name`` if it is a plain lower-case SQL identifier, else ValueError. Table and column names come
    from this code base, never from users; still, refuse anything else rather than paste it into SQL."""
    if not _IDENT.match(name):
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return name


def read_table(path: Path, schema: str, table: str, order_by: str | None = None, columns=None):
    """A warehouse table (all columns, or ``columns``) as a pandas DataFrame (read-only connection, closed afterwards)."""
    with connect(path, read_only=True) as con:
        cols = ", ".join(ident(c) for c in columns) if columns else "*"
        sql = f"SELECT {cols} FROM {ident(schema)}.{ident(table)}" + (f" ORDER BY {ident(order_by)}" if order_by else "")
        return con.execute(sql).df()
