{#
  The only place with engine-specific SQL. Each macro dispatches on the adapter: `duckdb__` is what runs
  today; `spark__` is the intended port (untested); anything else fails at compile time.
#}

{# 64-bit non-cryptographic hash of one or more expressions (internal keys and duplicate detection). #}
{% macro fast_hash64(expr) -%}
    {{ return(adapter.dispatch('fast_hash64', 'mailsift')(expr)) }}
{%- endmacro %}
{% macro duckdb__fast_hash64(expr) -%} hash({{ expr }}) {%- endmacro %}
{% macro spark__fast_hash64(expr) -%} xxhash64({{ expr }}) {%- endmacro %}
{% macro default__fast_hash64(expr) -%}
    {{ exceptions.raise_compiler_error("fast_hash64 is not implemented for " ~ adapter.type()) }}
{%- endmacro %}


{# Lower-case hex SHA-256 of a string. #}
{% macro sha256_hex(expr) -%}
    {{ return(adapter.dispatch('sha256_hex', 'mailsift')(expr)) }}
{%- endmacro %}
{% macro duckdb__sha256_hex(expr) -%} sha256({{ expr }}) {%- endmacro %}
{% macro spark__sha256_hex(expr) -%} sha2({{ expr }}, 256) {%- endmacro %}
{% macro default__sha256_hex(expr) -%}
    {{ exceptions.raise_compiler_error("sha256_hex is not implemented for " ~ adapter.type()) }}
{%- endmacro %}


{#
  Naive UTC timestamp -> naive local wall-clock time in the IANA zone `tz` (DST-aware, ICU).
  Independent of the session's TimeZone setting: the inner timezone('UTC', ts) reads the naive value
  as UTC, the outer one renders that instant in `tz`.
#}
{% macro to_local_time(ts_utc, tz) -%}
    {{ return(adapter.dispatch('to_local_time', 'mailsift')(ts_utc, tz)) }}
{%- endmacro %}
{% macro duckdb__to_local_time(ts_utc, tz) -%}
    timezone({{ tz }}, timezone('UTC', {{ ts_utc }}))
{%- endmacro %}
{% macro spark__to_local_time(ts_utc, tz) -%}
    from_utc_timestamp({{ ts_utc }}, {{ tz }})
{%- endmacro %}
{% macro default__to_local_time(ts_utc, tz) -%}
    {{ exceptions.raise_compiler_error("to_local_time is not implemented for " ~ adapter.type()) }}
{%- endmacro %}


{# Day of the week, 0 = Monday ... 6 = Sunday. #}
{% macro day_of_week_monday0(ts) -%}
    {{ return(adapter.dispatch('day_of_week_monday0', 'mailsift')(ts)) }}
{%- endmacro %}
{% macro duckdb__day_of_week_monday0(ts) -%} (isodow({{ ts }}) - 1) {%- endmacro %}
{% macro spark__day_of_week_monday0(ts) -%} weekday({{ ts }}) {%- endmacro %}
{% macro default__day_of_week_monday0(ts) -%}
    {{ exceptions.raise_compiler_error("day_of_week_monday0 is not implemented for " ~ adapter.type()) }}
{%- endmacro %}


{# A query returning one column `name`: every IANA time-zone name the engine can convert to. #}
{% macro timezone_names_query() -%}
    {{ return(adapter.dispatch('timezone_names_query', 'mailsift')()) }}
{%- endmacro %}
{% macro duckdb__timezone_names_query() -%} select name from pg_timezone_names() {%- endmacro %}
{% macro default__timezone_names_query() -%}
    {{ exceptions.raise_compiler_error("timezone_names_query is not implemented for " ~ adapter.type()) }}
{%- endmacro %}


{#
  The `as_of` var as a naive-UTC TIMESTAMP literal. A value with an offset ('...+02:00', '...Z') is
  converted to UTC; a value without one is already UTC.
#}
{% macro as_of_literal(value) -%}
    {{ return(adapter.dispatch('as_of_literal', 'mailsift')(value)) }}
{%- endmacro %}
{% macro duckdb__as_of_literal(value) -%}
    {%- set v = value | string | trim -%}
    {%- if modules.re.search('(Z|[+-][0-9]{2}(:?[0-9]{2})?)$', v) and modules.re.search('[T ][0-9]', v) -%}
        timezone('UTC', cast('{{ v | replace("'", "") }}' as timestamptz))
    {%- else -%}
        cast('{{ v | replace("'", "") }}' as timestamp)
    {%- endif -%}
{%- endmacro %}
{% macro default__as_of_literal(value) -%}
    cast('{{ value | string | trim | replace("'", "") }}' as timestamp)
{%- endmacro %}


{#
  normalize_email, DuckDB: exactly lower(trim(x)), but the costly trim (about 2 s per 50M rows) runs
  only for the few rows that need it. DuckDB's trim removes ASCII space and Unicode spaces only, so an
  ASCII string that does not start or end with a space and is already lower-case is left unchanged by
  lower(trim(x)); anything else (padding, capitals, non-ASCII bytes: strlen <> length) takes the full path.
  Use it on a column reference (the expression is repeated).
#}
{% macro duckdb__normalize_email(email_expr) -%}
    case
        when {{ email_expr }} like ' %' or {{ email_expr }} like '% '
            or {{ email_expr }} <> lower({{ email_expr }})
            or strlen({{ email_expr }}) <> length({{ email_expr }})
        then lower(trim({{ email_expr }}))
        else {{ email_expr }}
    end
{%- endmacro %}


{# The current moment as a naive UTC timestamp. #}
{% macro utc_now() -%}
    {{ return(adapter.dispatch('utc_now', 'mailsift')()) }}
{%- endmacro %}
{% macro duckdb__utc_now() -%} timezone('UTC', now()) {%- endmacro %}
{% macro spark__utc_now() -%} to_utc_timestamp(current_timestamp(), current_timezone()) {%- endmacro %}
{% macro default__utc_now() -%}
    {{ exceptions.raise_compiler_error("utc_now is not implemented for " ~ adapter.type()) }}
{%- endmacro %}


{#
  Rows of the same partition in the `days` days up to and including this row's `order_by` timestamp
  (ties included), as a window count. `count_in_preceding_days('identity_id', 'sent_at', 7) - 1` is
  how many other sends a subscriber got in the 7 days before (and at the moment of) a send.
#}
{% macro count_in_preceding_days(partition_by, order_by, days) -%}
    {{ return(adapter.dispatch('count_in_preceding_days', 'mailsift')(partition_by, order_by, days)) }}
{%- endmacro %}
{% macro duckdb__count_in_preceding_days(partition_by, order_by, days) -%}
    count(*) over (partition by {{ partition_by }} order by {{ order_by }}
                   range between interval {{ days | int }} days preceding and current row)
{%- endmacro %}
{% macro spark__count_in_preceding_days(partition_by, order_by, days) -%}
    count(1) over (partition by {{ partition_by }} order by cast({{ order_by }} as long)
                   range between {{ (days | int) * 86400 }} preceding and current row)
{%- endmacro %}
{% macro default__count_in_preceding_days(partition_by, order_by, days) -%}
    {{ exceptions.raise_compiler_error("count_in_preceding_days is not implemented for " ~ adapter.type()) }}
{%- endmacro %}


{#
  Incremental strategy of the models that replace the rows a run touches by their unique_key
  (int_identities, int_email_send_firsts, the two serving history tables): DuckDB deletes and
  re-inserts them; Spark (Delta) would MERGE on the same key.
#}
{% macro upsert_strategy() -%}
    {{ return(adapter.dispatch('upsert_strategy', 'mailsift')()) }}
{%- endmacro %}
{% macro duckdb__upsert_strategy() -%} {{ return('delete+insert') }} {%- endmacro %}
{% macro spark__upsert_strategy() -%} {{ return('merge') }} {%- endmacro %}
{% macro default__upsert_strategy() -%}
    {{ exceptions.raise_compiler_error("upsert_strategy is not implemented for " ~ adapter.type()) }}
{%- endmacro %}
