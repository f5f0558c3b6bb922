{# The model has exactly `expected` rows. #}
{% test row_count_equals(model, expected) %}
    select count(*) as row_count
    from {{ model }}
    having count(*) != {{ expected }}
{% endtest %}


{# Every value of the column lies in [min_value, max_value] (NULLs pass; either bound may be omitted). #}
{% test value_between(model, column_name, min_value=none, max_value=none) %}
    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} is not null
      and (
        false
        {%- if min_value is not none %} or {{ column_name }} < {{ min_value }}{% endif %}
        {%- if max_value is not none %} or {{ column_name }} > {{ max_value }}{% endif %}
      )
{% endtest %}


{# The combination of columns is unique (NULLs compared as values). #}
{% test unique_combination(model, combination) %}
    select {{ combination | join(', ') }}, count(*) as n
    from {{ model }}
    group by {{ combination | join(', ') }}
    having count(*) > 1
{% endtest %}


{# The numbers in `columns` add up to `total` (within `tolerance`) on every row where `total` > 0. #}
{% test columns_sum_to(model, columns, total=1, tolerance=0.000001, where_positive=none) %}
    select *
    from {{ model }}
    where abs(({{ columns | join(' + ') }}) - {{ total }}) > {{ tolerance }}
    {%- if where_positive %} and {{ where_positive }} > 0{% endif %}
{% endtest %}


{#
  unique_recent: the column is unique among rows whose timestamp_column lies in the `days` days up to
  as_of. For facts too large to check whole in every build (fct_email_events): uniqueness there holds
  by construction, and a regression shows up in any recent window.
#}
{% test unique_recent(model, column_name, timestamp_column, days=7) %}
    select {{ column_name }}, count(*) as n
    from {{ model }}
    where {{ timestamp_column }} > {{ mailsift.window_start(mailsift.as_of_sql(), days) }}
    group by {{ column_name }}
    having count(*) > 1
{% endtest %}


{#
  Model-level checks over many columns in one query (one scan instead of one test per column).
  columns_not_null: none of the columns is NULL.
  columns_between: every non-NULL value of the columns lies in [min_value, max_value].
  Failing rows name the first offending column.
#}
{% test columns_not_null(model, columns, timestamp_column=none, recent_days=none) %}
    {#- timestamp_column + recent_days: check only the rows of the last days up to as_of (big views) #}
    select
        case
            {%- for column in columns %}
            when {{ column }} is null then '{{ column }}'
            {%- endfor %}
        end as failing_column
    from {{ model }}
    where ({% for column in columns %}{{ column }} is null{% if not loop.last %} or {% endif %}{% endfor %})
    {%- if timestamp_column and recent_days %}
      and {{ timestamp_column }} > {{ mailsift.window_start(mailsift.as_of_sql(), recent_days) }}
    {%- endif %}
{% endtest %}


{% test columns_between(model, columns, min_value=none, max_value=none) %}
    {%- set conditions = [] %}
    {%- for column in columns %}
        {%- if min_value is not none %}{% do conditions.append(column ~ ' < ' ~ min_value) %}{% endif %}
        {%- if max_value is not none %}{% do conditions.append(column ~ ' > ' ~ max_value) %}{% endif %}
    {%- endfor %}
    select
        case
            {%- for condition in conditions %}
            when {{ condition }} then '{{ condition }}'
            {%- endfor %}
        end as failing_condition
    from {{ model }}
    where {{ conditions | join(' or ') }}
{% endtest %}
