{#
  file_watermark(column='_file_seq'): the highest landing file (`_file_seq`) an incremental model already
  holds, -1 when it holds none -- the one definition of "files loaded since the last run" for every
  file-by-file model (a run reads the rows whose `_file_seq` is above it). `column` names the model's
  column holding it when that is not `_file_seq` (the order models keep `_file_seq` for the line's own
  file and the newest file seen for the order in `_seen_file_seq`).
#}
{% macro file_watermark(column='_file_seq') -%}
    (select coalesce(max({{ column }}), -1) from {{ this }})
{%- endmacro %}


{#
  merges_into(column): true when this run merges into an existing incremental table that has `column`
  (its watermark). A table built before the model was incremental lacks it: such a run reads every row,
  as a full build, and `on_schema_change='append_new_columns'` adds the column.
#}
{% macro merges_into(column) -%}
    {{ return(is_incremental() and execute
              and column in (adapter.get_columns_in_relation(this) | map(attribute='name') | list)) }}
{%- endmacro %}


{#
  touched_orders(): the order ids named in order or order-line files loaded since the newest file the
  order model already holds (`_seen_file_seq`): the orders an incremental run recomputes.
#}
{% macro touched_orders() -%}
    select order_id from {{ ref('stg_order_items') }} where _file_seq > {{ mailsift.file_watermark('_seen_file_seq') }}
    union
    select order_id from {{ ref('stg_orders') }} where _file_seq > {{ mailsift.file_watermark('_seen_file_seq') }}
{%- endmacro %}


{#
  event_keys(relation, id_column, content_columns)

  The body of an incremental model holding one row per raw event row -- (identity_id, _file_seq,
  _line_number, dedupe_hash, is_duplicate) -- appended file by file: a run reads only the raw rows of
  files loaded since the last run (`_file_seq` above the table's highest), so a day of new events costs
  a day of work, however long the history. A row is a duplicate when an earlier row (any file, earlier
  `_file_seq` then `_line_number`) is the same event: same `id_column` value or, without one, the same
  values in every `content_columns` column (NULLs equal). The first arrival is kept. A first build
  (or --full-refresh) reads every row; tests/test_incremental.py checks that loading files one run at a
  time finds exactly the duplicates a single build over all of them finds.

  How: a 64-bit hash per row; new rows whose hash was seen before (in the table, or twice in the batch)
  are the only candidates, and the exact key of every candidate and of the earlier rows sharing its
  hash decides, so a hash collision can never drop a distinct event. Old rows never change: a later
  file cannot make an earlier row a duplicate.

  identity_id is kept so `mailsift forget` finds the row of an erased person (the hash covers the
  address as written).
#}
{% macro event_keys(relation, id_column, content_columns) -%}
    {%- set content_list = content_columns | join(', ') -%}
    with new_rows as (
        select
            identity_id,
            _file_seq,
            _line_number,
            case
                when {{ id_column }} is not null then {{ mailsift.fast_hash64(id_column) }}
                else {{ mailsift.fast_hash64(content_list) }}
            end as dedupe_hash
        from {{ relation }}
        {% if is_incremental() -%}
        where _file_seq > {{ mailsift.file_watermark() }}
        {%- endif %}
    ),

    {% if is_incremental() -%}
    -- hashes seen before: a semi-join of the (small) batch against the table
    seen_before as (
        select distinct old.dedupe_hash
        from {{ this }} as old
        inner join new_rows on old.dedupe_hash = new_rows.dedupe_hash
    ),
    {%- endif %}

    -- hashes repeated inside the batch: one sort (cheap next to a hash aggregate on a full build)
    neighbours as (
        select
            dedupe_hash,
            lag(dedupe_hash) over (order by dedupe_hash) as previous_hash,
            lead(dedupe_hash) over (order by dedupe_hash) as next_hash
        from new_rows
    ),

    candidate_hashes as (
        select distinct dedupe_hash from neighbours
        where dedupe_hash = previous_hash or dedupe_hash = next_hash
        {% if is_incremental() -%}
        union
        select dedupe_hash from seen_before
        {%- endif %}
    ),

    -- every row, old or new, sharing a candidate hash, with its exact key from the raw rows
    sharing as (
        select new_rows._file_seq, new_rows._line_number
        from new_rows inner join candidate_hashes on new_rows.dedupe_hash = candidate_hashes.dedupe_hash
        {% if is_incremental() -%}
        union all
        select old._file_seq, old._line_number
        from {{ this }} as old inner join candidate_hashes on old.dedupe_hash = candidate_hashes.dedupe_hash
        {%- endif %}
    ),

    ranked as (
        select
            src._file_seq,
            src._line_number,
            row_number() over (
                partition by
                    src.{{ id_column }}
                    {%- for col in content_columns %},
                    case when src.{{ id_column }} is null then src.{{ col }} end
                    {%- endfor %}
                order by src._file_seq, src._line_number
            ) as copy_number
        from {{ relation }} as src
        inner join sharing
            on src._file_seq = sharing._file_seq
            and src._line_number = sharing._line_number
    )

    select
        new_rows.identity_id,
        new_rows._file_seq,
        new_rows._line_number,
        new_rows.dedupe_hash,
        coalesce(ranked.copy_number > 1, false) as is_duplicate
    from new_rows
    left join ranked
        on new_rows._file_seq = ranked._file_seq
        and new_rows._line_number = ranked._line_number
{%- endmacro %}


{#
  duplicates_from_keys(keys_relation): the body of an incremental model listing the duplicate rows
  (_file_seq, _line_number) of an event_keys() table -- small, so readers anti-join it cheaply. Each run
  appends the duplicates of files newer than the newest duplicate already listed; no older file can
  gain one, so nothing is missed or listed twice.
#}
{% macro duplicates_from_keys(keys_relation) -%}
    select _file_seq, _line_number
    from {{ keys_relation }}
    where is_duplicate
    {% if is_incremental() -%}
      and _file_seq > {{ mailsift.file_watermark() }}
    {%- endif %}
{%- endmacro %}
