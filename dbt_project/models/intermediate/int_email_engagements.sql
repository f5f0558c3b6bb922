-- One row per address and send (campaign) with any open or click up to as_of: when it was first
-- really opened, first clicked, first machine-opened. The base of every once-per-send open / click
-- figure. Opens and clicks without a campaign_id form a pseudo-send per address and UTC day.
with engagement_events as (
    select
        identity_id,
        campaign_id,
        case when campaign_id is null then cast({{ dbt.date_trunc('day', 'occurred_at') }} as date) end as send_day,
        event_type,
        occurred_at,
        is_machine_open,
        is_real_engagement
    from {{ ref('int_email_events') }}
    where event_type in ('open', 'click')
),

per_send as (
    select
        identity_id,
        campaign_id,
        send_day,
        min(case when event_type = 'open' and is_real_engagement then occurred_at end) as first_real_open_at,
        min(case when event_type = 'click' then occurred_at end) as first_click_at,
        min(case when is_machine_open then occurred_at end) as first_machine_open_at
    from engagement_events
    group by identity_id, campaign_id, send_day
)

select
    *,
    -- first real open or click (least() of the non-NULL ones)
    coalesce(
        case when first_click_at < first_real_open_at then first_click_at else first_real_open_at end,
        first_click_at
    ) as first_engaged_at
from per_send
