{#
  Custom schema names are used as they are (`staging`, `intermediate`, `marts`), without dbt's default
  `<target_schema>_` prefix: other code reads `marts.subscriber_profiles` by that exact name.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
