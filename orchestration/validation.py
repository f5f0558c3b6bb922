"""SQL expressions that type and validate one landing file's rows, built from the contract only.

Every identifier here comes from :mod:`orchestration.landing_contract`; names found in a user's file
are never pasted into SQL (DuckDB binds our lower-case contract names to the file's columns
case-insensitively, and the remaining columns are picked by a lambda over constant lists).
"""

from __future__ import annotations

from orchestration.landing_contract import (
    BOOLEAN,
    DOUBLE,
    EMAIL_PATTERN,
    INTEGER,
    TIMESTAMP,
    Column,
    EntitySpec,
)


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _present(src: str) -> str:
    return f"NULLIF(trim(CAST({src} AS VARCHAR)), '') IS NOT NULL"


def typed_expr(col: Column, available: bool) -> str:
    """The column converted to its raw-layer type (NULL when the value does not convert)."""
    if not available:
        return f"CAST(NULL AS {col.type})"
    src = f'src."{col.name}"'
    text = f"NULLIF(trim(CAST({src} AS VARCHAR)), '')"
    if col.type == TIMESTAMP:
        # TIMESTAMPTZ parses offsets; a value without one is read in the session zone, UTC.
        return f"timezone('UTC', TRY_CAST({src} AS TIMESTAMPTZ))"
    if col.type == DOUBLE:
        return f"TRY_CAST({text} AS DOUBLE)"
    if col.type == INTEGER:
        return (
            f"CASE WHEN TRY_CAST({text} AS DOUBLE) = floor(TRY_CAST({text} AS DOUBLE)) "
            f"THEN TRY_CAST(TRY_CAST({text} AS DOUBLE) AS INTEGER) END"
        )
    if col.type == BOOLEAN:
        return f"TRY_CAST({text} AS BOOLEAN)"
    if col.is_email:  # kept as written; staging normalises
        return f"CAST({src} AS VARCHAR)"
    if col.accepted:
        return f"lower({text})"
    return text


def reason_checks(spec: EntitySpec, available: set[str]) -> list[str]:
    """One SQL expression per rule, each NULL when the row passes and a reason when it does not."""
    checks: list[str] = []
    for col in spec.columns:
        if not (col.name in available):
            continue  # absent optional columns are NULL; absent required ones reject the file
        src = f'src."{col.name}"'
        val = typed_expr(col, True)
        if col.required:
            checks.append(f"CASE WHEN NOT ({_present(src)}) THEN {_lit('missing required field: ' + col.name)} END")
        if col.is_email:
            checks.append(
                f"CASE WHEN {_present(src)} AND NOT regexp_full_match(lower(trim(CAST({src} AS VARCHAR))), "
                f"{_lit(EMAIL_PATTERN)}) THEN {_lit('invalid email address in ' + col.name)} END"
            )
        if col.type == TIMESTAMP:
            checks.append(
                f"CASE WHEN {_present(src)} AND {val} IS NULL "
                f"THEN {_lit('unparseable timestamp in ' + col.name)} END"
            )
        elif col.type in (DOUBLE, INTEGER):
            kind = "number" if col.type == DOUBLE else "whole number"
            checks.append(
                f"CASE WHEN {_present(src)} AND {val} IS NULL THEN {_lit(f'not a {kind} in {col.name}')} END"
            )
        elif col.type == BOOLEAN:
            checks.append(
                f"CASE WHEN {_present(src)} AND {val} IS NULL THEN {_lit('not a boolean in ' + col.name)} END"
            )
        if col.non_negative:
            checks.append(f"CASE WHEN {val} < 0 THEN {_lit('negative value in ' + col.name)} END")
        if col.accepted:
            accepted = ", ".join(_lit(v) for v in col.accepted)
            checks.append(
                f"CASE WHEN {val} IS NOT NULL AND {val} NOT IN ({accepted}) "
                f"THEN {_lit('unknown ' + col.name + ' ')} || {_lit(chr(39))} || {val} || {_lit(chr(39))} END"
            )
    for group in spec.one_of:
        present = [f'src."{c}"' for c in group if c in available]
        cond = " OR ".join(_present(p) for p in present) or "FALSE"
        checks.append(f"CASE WHEN NOT ({cond}) THEN {_lit('missing all of: ' + ', '.join(group))} END")
    return checks


def validated_select(spec: EntitySpec, available: set[str], extras: bool, ordinal: str) -> str:
    """SELECT over ``src`` giving typed contract columns, ``_extra``, ``__ord``, ``__line``, ``__reason``.

    ``src`` is the file's rows plus ``__ord``, their 1-based order in the file. ``__reason`` is NULL for
    a row that loads, else every rule it breaks, joined by '; '.
    """
    cols = [f'{typed_expr(c, c.name in available)} AS "{c.name}"' for c in spec.columns]
    known = ", ".join(_lit(c) for c in spec.column_names + ["__ord"])
    extra = (
        f"to_json(struct_pack(*COLUMNS(lambda c: lower(c) NOT IN ({known}))))" if extras else "CAST(NULL AS JSON)"
    )
    checks = reason_checks(spec, available)
    reason = f"NULLIF(concat_ws('; ', {', '.join(checks)}), '')" if checks else "CAST(NULL AS VARCHAR)"
    return (
        f"SELECT {', '.join(cols)}, {extra} AS _extra, src.__ord AS __ord, {ordinal} AS __line, "
        f"{reason} AS __reason FROM src"
    )


# The row as it stood in the file (every column, as JSON), for the rows ``_validated`` rejects.
RAW_RECORD_SELECT = (
    "SELECT __ord, to_json(struct_pack(*COLUMNS(lambda c: c <> '__ord'))) AS __raw FROM _src "
    "WHERE __ord IN (SELECT __ord FROM _validated WHERE __reason IS NOT NULL)"
)
