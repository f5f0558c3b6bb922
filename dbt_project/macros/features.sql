{#
  Small cross-database helpers for the feature models (built on dbt's cross-database macros).
#}

{# Empirical-Bayes shrinkage: (successes + k * prior_rate) / (trials + k), k = var rate_prior_strength. #}
{% macro smoothed_rate(successes, trials, prior_rate, k=none) -%}
    {%- set k = k if k is not none else var('rate_prior_strength') -%}
    ((cast({{ successes }} as double) + {{ k }} * cast({{ prior_rate }} as double))
        / (cast({{ trials }} as double) + {{ k }}))
{%- endmacro %}


{# Whole days elapsed from start_ts to end_ts (floor of the exact difference); NULL when start_ts is NULL. #}
{% macro days_between(start_ts, end_ts) -%}
    cast(floor({{ dbt.datediff(start_ts, end_ts, 'second') }} / 86400.0) as integer)
{%- endmacro %}


{# start of a trailing window of `days` days ending at as_of: the window is (as_of - days, as_of]. #}
{% macro window_start(as_of_expr, days) -%}
    {{ dbt.dateadd('day', -1 * days, as_of_expr) }}
{%- endmacro %}


{# NULL-safe ratio: NULL when the denominator is 0 or NULL. #}
{% macro safe_divide(numerator, denominator) -%}
    (cast({{ numerator }} as double) / nullif(cast({{ denominator }} as double), 0))
{%- endmacro %}


{# NULL-safe earlier / later of two values: the other one when either is NULL (least() and greatest()
   return NULL on a NULL argument on some engines). #}
{% macro earliest(a, b) -%}
    case when {{ a }} is null then {{ b }} when {{ b }} is null or {{ a }} <= {{ b }} then {{ a }} else {{ b }} end
{%- endmacro %}

{% macro latest(a, b) -%}
    case when {{ a }} is null then {{ b }} when {{ b }} is null or {{ a }} >= {{ b }} then {{ a }} else {{ b }} end
{%- endmacro %}
