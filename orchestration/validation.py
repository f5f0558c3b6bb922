"""SQL that types and validates one landing file's rows, built from the contract only.

Every identifier here comes from :mod:`orchestration.landing_contract`; names found in a user's file
are never pasted into SQL (DuckDB binds our lower-case contract names to the file's columns
case-insensitively, and the remaining columns are picked by a lambda over constant lists).

The SQL depends on the type each column already has in the file: a Parquet timestamp is converted,
a CSV text is parsed and its failure reported. Address checks run once per distinct address
(``_email_check``), not once per row: an events file repeats each address many times.
"""

from __future__ import annotations

from orchestration.landing_contract import BOOLEAN, DOUBLE, EMAIL_PATTERN, INTEGER, TIMESTAMP, Column, EntitySpec

INTERNAL = ("__ord", "__email_raw", "__email_ok", "__erased")
_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
            "UBIGINT", "FLOAT", "DOUBLE", "REAL")
_INTEGRAL = _NUMERIC[:8]


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _is_text(stype: str) -> bool:
    return stype.upper() == "VARCHAR"


def _src(col: Column) -> str:
    return f'src."{col.name}"'


def _present(col: Column, stype: str) -> str:
    return f"NULLIF(trim({_src(col)}), '') IS NOT NULL" if _is_text(stype) else f"{_src(col)} IS NOT NULL"


def _text(col: Column, stype: str) -> str:
    s = _src(col)
    return f"NULLIF(trim({s}), '')" if _is_text(stype) else f"CAST({s} AS VARCHAR)"


def typed_expr(col: Column, stype: str | None) -> str:
    """The column converted to its raw-layer type (NULL when absent or when the value does not convert)."""
    if stype is None:
        return f"CAST(NULL AS {col.type})"
    s, up = _src(col), stype.upper()
    if col.type == TIMESTAMP:
        if up.startswith("TIMESTAMP WITH TIME ZONE"):
            return f"timezone('UTC', {s})"
        if up.startswith(("TIMESTAMP", "DATE")):
            return f"CAST({s} AS TIMESTAMP)"  # a value without an offset is UTC
        # TIMESTAMPTZ parses an offset; a value without one is read in the session zone, UTC.
        return f"timezone('UTC', TRY_CAST({_text(col, stype)} AS TIMESTAMPTZ))"
    if col.type == DOUBLE:
        return f"CAST({s} AS DOUBLE)" if up in _NUMERIC else f"TRY_CAST({_text(col, stype)} AS DOUBLE)"
    if col.type == INTEGER:
        if up in _INTEGRAL:
            return f"TRY_CAST({s} AS INTEGER)"
        d = f"TRY_CAST({_text(col, stype)} AS DOUBLE)"
        return f"CASE WHEN {d} = floor({d}) THEN TRY_CAST({d} AS INTEGER) END"
    if col.type == BOOLEAN:
        return s if up == "BOOLEAN" else f"TRY_CAST({_text(col, stype)} AS BOOLEAN)"
    if col.is_email:  # kept as written; staging normalises
        return f"CAST({s} AS VARCHAR)"
    if col.accepted:
        return f"lower({_text(col, stype)})"
    return f"NULLIF({s}, '')" if _is_text(stype) else f"CAST({s} AS VARCHAR)"


def reason_checks(spec: EntitySpec, available: dict[str, str]) -> list[str]:
    """One SQL expression per rule, each NULL when the row passes and a reason when it does not."""
    checks: list[str] = []
    for col in spec.columns:
        stype = available.get(col.name)
        if stype is None:
            continue  # absent optional columns are NULL; absent required ones reject the whole file
        val, present = typed_expr(col, stype), _present(col, stype)
        if col.required:
            checks.append(f"CASE WHEN NOT ({present}) THEN {_lit('missing required field: ' + col.name)} END")
        if col.is_email:
            checks.append(f"CASE WHEN NOT ec.__email_ok THEN {_lit('invalid email address in ' + col.name)} END")
            checks.append(f"CASE WHEN ec.__erased THEN {_lit('erased')} END")
        converts = (
            (col.type == TIMESTAMP and not stype.upper().startswith(("TIMESTAMP", "DATE")))
            or (col.type in (DOUBLE, INTEGER) and stype.upper() not in _INTEGRAL)
            or (col.type == BOOLEAN and stype.upper() != "BOOLEAN")
        )
        if converts:
            what = {TIMESTAMP: "unparseable timestamp", DOUBLE: "not a number", INTEGER: "not a whole number",
                    BOOLEAN: "not a boolean"}[col.type]
            checks.append(f"CASE WHEN {present} AND {val} IS NULL THEN {_lit(f'{what} in {col.name}')} END")
        if col.non_negative:
            checks.append(f"CASE WHEN {val} < 0 THEN {_lit('negative value in ' + col.name)} END")
        if col.accepted:
            accepted = ", ".join(_lit(v) for v in col.accepted)
            checks.append(
                f"CASE WHEN {val} NOT IN ({accepted}) "
                f"THEN {_lit('unknown ' + col.name + ' ')} || {_lit(chr(39))} || {val} || {_lit(chr(39))} END"
            )
    for group in spec.one_of:
        cond = " OR ".join(_present(spec.column(c), available[c]) for c in group if c in available) or "FALSE"
        checks.append(f"CASE WHEN NOT ({cond}) THEN {_lit('missing all of: ' + ', '.join(group))} END")
    return checks


def email_check_sql(source: str) -> str:
    """One row per distinct address value in the file with whether it is valid once trimmed and
    lower-cased (a blank is 'valid' here: the required-field rule reports it) and whether its owner
    was erased (``raw.erased_subscribers``)."""
    return (
        f"SELECT email AS __email_raw, NULLIF(trim(email), '') IS NULL OR regexp_full_match("
        f"lower(trim(email)), {_lit(EMAIL_PATTERN)}) AS __email_ok, "
        # erased by `mailsift forget`: the tombstone holds sha256(salt || normalised address), as subscriber_key
        f"sha256((SELECT max(salt) FROM raw.key_salt) || lower(trim(email))) IN "
        f"(SELECT subscriber_key FROM raw.erased_subscribers) AS __erased "
        f"FROM (SELECT DISTINCT CAST(email AS VARCHAR) AS email FROM {source})"
    )


def validated_select(spec: EntitySpec, available: dict[str, str], extras: bool, ordinal: str) -> str:
    """SELECT over ``src`` (the file's rows plus ``__ord``, their 1-based order in the file) and
    ``_email_check`` giving typed contract columns, ``_extra``, ``__ord``, ``__line`` and ``__reason``
    (NULL for a row that loads, else every rule it breaks, joined by '; ').
    """
    cols = [f'{typed_expr(c, available.get(c.name))} AS "{c.name}"' for c in spec.columns]
    known = ", ".join(_lit(c) for c in spec.column_names + list(INTERNAL))
    extra = (
        f"to_json(struct_pack(*COLUMNS(lambda c: lower(c) NOT IN ({known}))))" if extras else "CAST(NULL AS JSON)"
    )
    checks = reason_checks(spec, available)
    reason = f"NULLIF(concat_ws('; ', {', '.join(checks)}), '')" if checks else "CAST(NULL AS VARCHAR)"
    source = "src"
    if "email" in available and spec.column("email").is_email:
        source = 'src LEFT JOIN _email_check ec ON ec.__email_raw = CAST(src."email" AS VARCHAR)'
    return (
        f"SELECT {', '.join(cols)}, {extra} AS _extra, src.__ord AS __ord, {ordinal} AS __line, "
        f"{reason} AS __reason FROM {source}"
    )


def raw_record_select(source: str) -> str:
    """The rows ``_validated`` rejects as they stood in the file (every column, as JSON), by ``__ord``."""
    return (
        f"SELECT __ord, to_json(struct_pack(*COLUMNS(lambda c: c <> '__ord'))) AS __raw FROM {source} "
        "WHERE __ord IN (SELECT __ord FROM _validated WHERE __reason IS NOT NULL)"
    )
