{#
  campaign_dimension_values(column_name): the distinct non-NULL values of a column of int_campaigns,
  read when the calling model runs (int_campaigns is built earlier in the DAG), so a model can
  pivot on them and aggregate per subscriber in one pass with one conditional count per value.
  Returns none while parsing, when int_campaigns does not exist yet, or when there are more than
  var affinity_pivot_max_values values: callers then fall back to a plain GROUP BY.
#}
{% macro campaign_dimension_values(column_name) -%}
    {%- set campaigns = ref('int_campaigns') -%}
    {%- if not execute -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set existing = load_relation(campaigns) -%}
    {%- if existing is none -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set result = run_query(
        'select distinct ' ~ column_name ~ ' as value from ' ~ existing
        ~ ' where ' ~ column_name ~ ' is not null order by 1') -%}
    {%- set values = result.columns[0].values() | list -%}
    {%- if values | length > var('affinity_pivot_max_values', 50) -%}
        {{- return(none) -}}
    {%- endif -%}
    {{- return(values) -}}
{%- endmacro %}


{# A SQL string literal for a value read at compile time. #}
{% macro sql_string_literal(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}
