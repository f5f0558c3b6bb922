-- Sends and bounces per address (subscriber or not) up to as_of, in one pass over the 'sent' and
-- 'bounce' events only (opens and clicks are counted in int_email_engagement_timing and
-- int_email_engagements; 'delivered' events only in campaign_performance): send counts per trailing
-- window (as_of - N days, as_of], first and last send, bounces.
{%- set as_of = as_of_sql() %}
with events as (
    select
        identity_id,
        event_type,
        occurred_at,
        bounce_type
    from {{ ref('int_email_events') }}
    where event_type in ('sent', 'bounce')
)

select
    identity_id,
    count(case when event_type = 'sent' then 1 end) as sends_total,
    {%- for days in [30, 90, 180] %}
    count(case when event_type = 'sent' and occurred_at > {{ window_start(as_of, days) }} then 1 end)
        as sends_{{ days }}d,
    {%- endfor %}
    count(case when event_type = 'bounce' then 1 end) as bounces_total,
    count(case when event_type = 'bounce' and bounce_type = 'soft'
        and occurred_at > {{ window_start(as_of, 90) }} then 1 end) as soft_bounces_90d,
    min(case when event_type = 'sent' then occurred_at end) as first_send_at,
    max(case when event_type = 'sent' then occurred_at end) as last_send_at
from events
group by identity_id
