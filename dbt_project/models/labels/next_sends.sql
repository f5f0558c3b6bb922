{{ config(materialized='table',
          enabled=(var('label_horizon_days', '') | string | trim) not in ('', 'None', 'none', 'null')) }}
-- TRAINING LABELS (send level): every campaign sent to a profiled subscriber AFTER as_of whose
-- 7-day outcome lies inside the label window, i.e. sent in (as_of, as_of + label_horizon_days -
-- next_send_open_days], with the same columns as fct_email_sends: sends_prev_7d (sends before as_of
-- count too: they are exposure, not outcome), whether it was really opened / clicked within 7 days.
-- Read only by the two aggregates next_send_cadence_outcomes and next_send_content_outcomes, which
-- backtest the fatigue and content-affinity models. Built only by the training build, like
-- subscriber_outcomes, from the de-duplicated raw events.
{%- set horizon = var('label_horizon_days') | int %}
{%- set open_days = var('next_send_open_days') | int %}
with window_bounds as (
    select
        {{ as_of_sql() }} as label_window_start,
        {{ dbt.dateadd('day', horizon, as_of_sql()) }} as label_window_end,
        {{ dbt.dateadd('day', horizon - open_days, as_of_sql()) }} as last_send_at
),

events as (
    -- 7 days before the window as well: those sends count towards the first sends' sends_prev_7d
    select *
    from ({{ distinct_email_events(after=dbt.dateadd('day', -7, as_of_sql()),
                                   until=dbt.dateadd('day', horizon, as_of_sql())) }}) as distinct_events
    where campaign_id is not null
),

sends_all as (
    select identity_id, campaign_id, min(occurred_at) as sent_at
    from events
    where event_type = 'sent'
    group by identity_id, campaign_id
),

counted as (
    select
        *,
        {{ count_in_preceding_days('identity_id', 'sent_at', 7) }} - 1 as sends_prev_7d
    from sends_all
),

sends as (
    select counted.*
    from counted
    cross join window_bounds
    where counted.sent_at > window_bounds.label_window_start
      and counted.sent_at <= window_bounds.last_send_at
),

engagements as (
    select
        identity_id,
        campaign_id,
        min(case when is_real_engagement then occurred_at end) as first_engaged_at,
        min(case when event_type = 'click' then occurred_at end) as first_click_at
    from events
    where event_type in ('open', 'click')
    group by identity_id, campaign_id
),

subscribers as (
    select resolved.identity_id, identities.subscriber_key
    from {{ ref('int_subscribers_resolved') }} as resolved
    inner join {{ ref('int_identities') }} as identities
        on resolved.identity_id = identities.identity_id
    inner join {{ ref('subscriber_profiles') }} as profiles
        on identities.subscriber_key = profiles.subscriber_key
),

campaigns as (
    select campaign_id, content_topic, offer_type from {{ ref('int_campaigns') }}
)

select
    cast(subscribers.subscriber_key as {{ dbt.type_string() }}) as subscriber_key,
    cast(sends.campaign_id as {{ dbt.type_string() }}) as campaign_id,
    cast(sends.sent_at as timestamp) as sent_at,
    cast(sends.sends_prev_7d as bigint) as sends_prev_7d,
    cast(coalesce(engagements.first_engaged_at <= {{ dbt.dateadd('day', open_days, 'sends.sent_at') }}, false)
         as boolean) as opened,
    cast(coalesce(engagements.first_click_at <= {{ dbt.dateadd('day', open_days, 'sends.sent_at') }}, false)
         as boolean) as clicked,
    cast(campaigns.content_topic as {{ dbt.type_string() }}) as content_topic,
    cast(campaigns.offer_type as {{ dbt.type_string() }}) as offer_type,
    cast(window_bounds.label_window_start as timestamp) as label_window_start,
    cast(window_bounds.label_window_end as timestamp) as label_window_end
from sends
cross join window_bounds
inner join subscribers
    on sends.identity_id = subscribers.identity_id
left join engagements
    on sends.identity_id = engagements.identity_id
    and sends.campaign_id = engagements.campaign_id
left join campaigns
    on sends.campaign_id = campaigns.campaign_id
