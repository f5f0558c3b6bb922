{#
  labels_inside_window: the point-in-time test of a label model, the mirror image of
  assert_marts_not_after_as_of. Every event a label counts must lie in (label_window_start,
  label_window_end]: nothing at or before as_of (where the features end) may become a label.
  Returns the offending rows.
#}
{% test labels_inside_window(model, time_columns) %}
    select *
    from {{ model }}
    where label_window_end <= label_window_start
    {%- for column in time_columns %}
       or {{ column }} <= label_window_start
       or {{ column }} > label_window_end
    {%- endfor %}
{% endtest %}
