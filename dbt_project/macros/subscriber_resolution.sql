{#
  is_carried: whether a stg_subscribers row speaks for an attribute, i.e. its landing file had the
  column. A column the file has counts even where the cell is blank (the attribute was cleared); one the
  file lacks does not (a partial update file leaves it as earlier records gave it).
#}
{% macro is_carried(column_name) -%}
    (_absent_columns is null or {{ dbt.position("'," ~ column_name ~ ",'", '_absent_columns') }} = 0)
{%- endmacro %}
