{#
  distinct_email_events(after=none, until=none): a SELECT of the distinct e-mail events -- the raw
  rows (stg_email_events) minus the duplicates int_email_event_duplicates found -- with occurred_at in
  (after, until]. Each bound is a SQL timestamp expression, or none for no bound. Machine opens are
  flagged (is_machine_open) and a click or a non-machine open is a real engagement
  (is_real_engagement). The one definition of an e-mail event for the features (int_email_events: up
  to as_of) and the training labels (labels.subscriber_outcomes, labels.next_sends: after as_of), so
  the two sides cannot drift apart.
#}
{% macro distinct_email_events(after=none, until=none) -%}
select
    events.identity_id,
    events.email,
    events.event_id,
    events.event_type,
    events.occurred_at,
    events.campaign_id,
    events.device,
    (events.event_type = 'open' and coalesce(events.is_machine_open, false)) as is_machine_open,
    (events.event_type = 'click'
        or (events.event_type = 'open' and not coalesce(events.is_machine_open, false))) as is_real_engagement,
    events.url,
    events.link_category,
    events.bounce_type,
    events._file_seq,
    events._line_number
from {{ ref('stg_email_events') }} as events
left join {{ ref('int_email_event_duplicates') }} as duplicates
    on events._file_seq = duplicates._file_seq
    and events._line_number = duplicates._line_number
where duplicates._file_seq is null
{%- if after is not none %}
  and events.occurred_at > {{ after }}
{%- endif %}
{%- if until is not none %}
  and events.occurred_at <= {{ until }}
{%- endif %}
{%- endmacro %}
