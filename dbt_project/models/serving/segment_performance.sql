-- Segment x campaign results: every campaign sent up to as_of, broken down by the CURRENT macro and
-- micro segment of its recipients (ml.segment_assignments of this run, not the segment they were in
-- when the campaign went out), one row per level. Sends, real opens and clicks are unique per
-- recipient and campaign; unsubscribes are recipients who unsubscribed from the campaign. An order
-- (completed, up to as_of) is attributed to a campaign when the same subscriber clicked that campaign
-- in the var('attribution_window_days') days before the order; with several such clicks, the last
-- one wins, so no order is counted twice. All four rates divide by sends.
with as_of as (
    select as_of from {{ ref('int_as_of') }}
),

identities as (
    select identity_id, subscriber_key from {{ ref('int_identities') }}
),

members as (
    select subscriber_key, macro_segment_id, micro_segment_id from {{ source('ml', 'segment_assignments') }}
),

campaigns as (
    select campaign_id from {{ ref('int_campaigns') }}
    where sent_at <= {{ as_of_sql() }}
),

sends as (
    -- who was sent each campaign, and whether they unsubscribed from it and really opened or clicked
    -- it (up to as_of): one row of int_email_send_firsts per recipient, no pass over the events
    select
        firsts.identity_id,
        firsts.campaign_id,
        case when firsts.first_unsubscribe_at <= {{ as_of_sql() }} then 1 else 0 end as unsubscribed,
        case when firsts.first_real_open_at <= {{ as_of_sql() }} then 1 else 0 end as opened,
        case when firsts.first_click_at <= {{ as_of_sql() }} then 1 else 0 end as clicked
    from {{ ref('int_email_send_firsts') }} as firsts
    inner join campaigns
        on firsts.campaign_id = campaigns.campaign_id
    where firsts.first_sent_at <= {{ as_of_sql() }}
),

clicks as (
    select distinct identity_id, campaign_id, occurred_at as clicked_at
    from {{ ref('int_email_engagement_events') }}
    where event_type = 'click' and campaign_id is not null and occurred_at <= {{ as_of_sql() }}
),

orders as (
    select order_id, identity_id, ordered_at, total_amount
    from {{ ref('int_orders') }}
    where is_purchase
),

order_clicks as (
    select
        orders.order_id,
        orders.identity_id,
        orders.total_amount,
        clicks.campaign_id,
        row_number() over (
            partition by orders.order_id order by clicks.clicked_at desc, clicks.campaign_id
        ) as click_rank
    from orders
    inner join clicks
        on orders.identity_id = clicks.identity_id
        and clicks.clicked_at <= orders.ordered_at
        and orders.ordered_at <= {{ dbt.dateadd('day', var('attribution_window_days'), 'clicks.clicked_at') }}
),

attributed as (
    select identity_id, campaign_id, count(*) as orders, sum(total_amount) as revenue
    from order_clicks
    where click_rank = 1
    group by identity_id, campaign_id
),

per_send as (
    select
        members.macro_segment_id,
        members.micro_segment_id,
        sends.campaign_id,
        sends.opened,
        sends.clicked,
        sends.unsubscribed,
        coalesce(attributed.orders, 0) as orders,
        coalesce(attributed.revenue, 0) as revenue
    from sends
    inner join identities
        on sends.identity_id = identities.identity_id
    inner join members
        on identities.subscriber_key = members.subscriber_key
    left join attributed
        on sends.identity_id = attributed.identity_id
        and sends.campaign_id = attributed.campaign_id
),

by_micro as (
    -- one pass over the sends, per micro segment; a micro segment lies inside one macro segment, so
    -- the macro rows are sums of its micro rows (no second pass over the sends)
    select macro_segment_id, micro_segment_id, campaign_id, count(*) as sends,
           sum(opened) as unique_opens, sum(clicked) as unique_clicks, sum(orders) as orders,
           sum(revenue) as revenue, sum(unsubscribed) as unsubscribes
    from per_send
    group by macro_segment_id, micro_segment_id, campaign_id
),

by_segment as (
    select 'macro' as level, macro_segment_id as segment_id, campaign_id, sum(sends) as sends,
           sum(unique_opens) as unique_opens, sum(unique_clicks) as unique_clicks, sum(orders) as orders,
           sum(revenue) as revenue, sum(unsubscribes) as unsubscribes
    from by_micro
    group by macro_segment_id, campaign_id
    union all
    select 'micro', micro_segment_id, campaign_id, sends, unique_opens, unique_clicks, orders, revenue,
           unsubscribes
    from by_micro
)

select
    cast(by_segment.segment_id as {{ dbt.type_string() }}) as segment_id,
    cast(by_segment.level as {{ dbt.type_string() }}) as level,
    cast(by_segment.campaign_id as {{ dbt.type_string() }}) as campaign_id,
    cast(by_segment.sends as bigint) as sends,
    cast(by_segment.unique_opens as bigint) as unique_opens,
    cast(by_segment.unique_clicks as bigint) as unique_clicks,
    cast(by_segment.orders as bigint) as orders,
    cast(by_segment.revenue as double) as revenue,
    cast(by_segment.unsubscribes as bigint) as unsubscribes,
    cast({{ safe_divide('by_segment.unique_opens', 'by_segment.sends') }} as double) as open_rate,
    cast({{ safe_divide('by_segment.unique_clicks', 'by_segment.sends') }} as double) as click_rate,
    cast({{ safe_divide('by_segment.orders', 'by_segment.sends') }} as double) as conversion_rate,
    cast({{ safe_divide('by_segment.unsubscribes', 'by_segment.sends') }} as double) as unsubscribe_rate,
    cast({{ var('attribution_window_days') }} as integer) as attribution_window_days,
    as_of.as_of,
    cast('{{ env_var("MAILSIFT_RUN_ID", "manual") }}' as {{ dbt.type_string() }}) as run_id
from by_segment
cross join as_of
