{#
  duplicate_rows(relation, id_column, content_columns)

  SQL returning (_file_seq, _line_number) of every raw row that repeats an earlier row of the same
  event, so readers drop them with one cheap anti-join instead of materialising a de-duplicated copy of
  a 50M-row table. Two rows are the same event when they carry the same `id_column` value or, when
  it is missing, the same values in every `content_columns` column (NULLs equal). The copy that
  arrived first (`_file_seq`, then `_line_number`) is kept.

  How: a 64-bit hash of each row's key, one sort to find hashes that occur more than once (cheap next
  to a 50M-group hash aggregate), and an exact comparison of the real key among those few candidates,
  so a hash collision can never drop a distinct event.
#}
{% macro duplicate_rows(relation, id_column, content_columns) -%}
    {%- set content_list = content_columns | join(', ') -%}
    with keyed as (
        select
            _file_seq,
            _line_number,
            case
                when {{ id_column }} is not null then {{ mailsift.fast_hash64(id_column) }}
                else {{ mailsift.fast_hash64(content_list) }}
            end as dedupe_hash
        from {{ relation }}
    ),

    neighbours as (
        select
            _file_seq,
            _line_number,
            dedupe_hash,
            lag(dedupe_hash) over (order by dedupe_hash) as previous_hash,
            lead(dedupe_hash) over (order by dedupe_hash) as next_hash
        from keyed
    ),

    candidates as (
        select _file_seq, _line_number
        from neighbours
        where dedupe_hash = previous_hash or dedupe_hash = next_hash
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
        inner join candidates
            on src._file_seq = candidates._file_seq
            and src._line_number = candidates._line_number
    )

    select _file_seq, _line_number
    from ranked
    where copy_number > 1
{%- endmacro %}
