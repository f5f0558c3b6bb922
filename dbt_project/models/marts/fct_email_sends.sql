-- One row per e-mail sent to a subscriber in the var('send_history_days') days up to as_of: how many
-- e-mails they had received in the 7 days before it, whether it was really opened or clicked within
-- 7 days (engagement seen up to as_of), and the campaign's topic and offer type. The send-level data
-- of the fatigue and content-affinity models. Sends and their first open / click come from one row of
-- the incremental int_email_send_firsts (times after as_of dropped), so no pass over the raw events.
with sends_all as (
    select
        identity_id,
        campaign_id,
        first_sent_at as sent_at,
        case when first_real_open_at <= {{ as_of_sql() }} then first_real_open_at end as first_real_open_at,
        case when first_click_at <= {{ as_of_sql() }} then first_click_at end as first_click_at
    from {{ ref('int_email_send_firsts') }}
    where campaign_id is not null
      and first_sent_at <= {{ as_of_sql() }}
      -- 7 days more than the history, so the first kept sends still see a full week before them
      and first_sent_at > {{ window_start(as_of_sql(), var('send_history_days') + 7) }}
),

counted as (
    select
        *,
        count(*) over (
            partition by identity_id order by sent_at
            range between interval 7 days preceding and current row
        ) - 1 as sends_prev_7d
    from sends_all
),

sends as (
    select * from counted
    where sent_at > {{ window_start(as_of_sql(), var('send_history_days')) }}
),

subscribers as (
    select identity_id from {{ ref('int_subscribers_resolved') }}
),

identities as (
    select identity_id, subscriber_key from {{ ref('int_identities') }}
),

campaigns as (
    select campaign_id, content_topic, offer_type from {{ ref('int_campaigns') }}
)

select
    cast(identities.subscriber_key as {{ dbt.type_string() }}) as subscriber_key,
    cast(sends.campaign_id as {{ dbt.type_string() }}) as campaign_id,
    cast(sends.sent_at as timestamp) as sent_at,
    cast(sends.sends_prev_7d as bigint) as sends_prev_7d,
    cast(coalesce({{ earliest('sends.first_real_open_at', 'sends.first_click_at') }}
        <= {{ dbt.dateadd('day', 7, 'sends.sent_at') }}, false) as boolean) as opened,
    cast(coalesce(sends.first_click_at <= {{ dbt.dateadd('day', 7, 'sends.sent_at') }}, false) as boolean)
        as clicked,
    cast(campaigns.content_topic as {{ dbt.type_string() }}) as content_topic,
    cast(campaigns.offer_type as {{ dbt.type_string() }}) as offer_type
from sends
inner join subscribers
    on sends.identity_id = subscribers.identity_id
inner join identities
    on sends.identity_id = identities.identity_id
left join campaigns
    on sends.campaign_id = campaigns.campaign_id
