{#
  Custom schema names are used as they are (`staging`, `intermediate`, `marts`), without dbt's default
  `<target_schema>_` prefix: other code reads `marts.subscriber_profiles` by that exact name.

  var('schema_suffix') (default empty) is appended to every custom schema: the scoring models' training
  build runs the same models as of an earlier cut-off with `schema_suffix: _train`, so it lands in
  `staging_train`, `intermediate_train`, `marts_train`, `labels_train` and never touches the tables the
  serving side reads. Sources (the raw layer, `ml`) keep their own schemas.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set suffix = var('schema_suffix', '') | string | trim -%}
    {%- if suffix and not (suffix | replace('_', '') | lower).isalnum() -%}
        {{ exceptions.raise_compiler_error("schema_suffix must be letters, digits and underscores: " ~ suffix) }}
    {%- endif -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}{{ suffix }}
    {%- else -%}
        {{ custom_schema_name | trim }}{{ suffix }}
    {%- endif -%}
{%- endmacro %}
