{#
  as_of_sql(): the as-of moment for use inside a model's SQL.

  int_as_of is the one model that decides as_of. At execution time (when int_as_of has been built
  earlier in the same DAG run) this returns its value as a timestamp literal, so that every filter on
  as_of is a constant: DuckDB prunes row groups by zone maps and estimates joins correctly (a scalar
  subquery here made it build hash tables on the 50M-row side). While parsing, or before int_as_of
  exists, it returns a scalar subquery on int_as_of, which is equivalent. Calling it records the
  dependency on int_as_of.
#}
{% macro as_of_sql() -%}
    {%- set as_of_relation = ref('int_as_of') -%}
    {%- if execute -%}
        {%- set existing = load_relation(as_of_relation) -%}
        {%- if existing is not none -%}
            {%- set result = run_query('select cast(as_of as ' ~ dbt.type_string() ~ ') as as_of from ' ~ existing) -%}
            {%- if result is not none and (result.rows | length) == 1 and result.rows[0][0] is not none -%}
                {{- return("cast('" ~ result.rows[0][0] ~ "' as timestamp)") -}}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
    {{- return("(select as_of from " ~ as_of_relation ~ ")") -}}
{%- endmacro %}
