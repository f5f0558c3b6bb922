-- One row per campaign sent up to as_of, with its e-mail results (events up to as_of, every
-- recipient address) and the orders the shop attributes to it. Opens and clicks are unique per
-- recipient; machine opens are counted apart and never as opens. Rates divide by delivered e-mails
-- ('delivered' events, or sends minus bounces when the ESP exports no 'delivered' events).
with campaigns as (
    select * from {{ ref('int_campaigns') }}
    where sent_at <= {{ as_of_sql() }}
),

event_counts as (
    select
        campaign_id,
        count(case when event_type = 'sent' then 1 end) as sends,
        count(case when event_type = 'delivered' then 1 end) as deliveries,
        count(case when event_type = 'bounce' then 1 end) as bounces,
        count(case when event_type = 'bounce' and bounce_type = 'hard' then 1 end) as hard_bounces,
        count(case when event_type = 'bounce' and bounce_type = 'soft' then 1 end) as soft_bounces,
        count(case when event_type = 'unsubscribe' then 1 end) as unsubscribes,
        count(case when event_type = 'spam_complaint' then 1 end) as complaints
    from {{ ref('int_email_events') }}
    where campaign_id is not null
    group by campaign_id
),

engagement_counts as (
    select
        campaign_id,
        count(first_real_open_at) as unique_real_opens,
        count(first_click_at) as unique_clicks,
        count(first_machine_open_at) as machine_opens,
        count(case when first_machine_open_at is not null and first_real_open_at is null then 1 end)
            as machine_only_opens
    from {{ ref('int_email_engagements') }}
    where campaign_id is not null
    group by campaign_id
),

attributed as (
    select
        campaign_id,
        count(*) as attributed_orders,
        sum(total_amount) as attributed_revenue
    from {{ ref('int_orders') }}
    where campaign_id is not null and is_purchase
    group by campaign_id
),

joined as (
    select
        campaigns.*,
        coalesce(event_counts.sends, 0) as sends,
        coalesce(event_counts.deliveries, 0) as deliveries,
        coalesce(event_counts.bounces, 0) as bounces,
        coalesce(event_counts.hard_bounces, 0) as hard_bounces,
        coalesce(event_counts.soft_bounces, 0) as soft_bounces,
        coalesce(event_counts.unsubscribes, 0) as unsubscribes,
        coalesce(event_counts.complaints, 0) as complaints,
        coalesce(engagement_counts.unique_real_opens, 0) as unique_real_opens,
        coalesce(engagement_counts.unique_clicks, 0) as unique_clicks,
        coalesce(engagement_counts.machine_opens, 0) as machine_opens,
        coalesce(engagement_counts.machine_only_opens, 0) as machine_only_opens,
        coalesce(attributed.attributed_orders, 0) as attributed_orders,
        coalesce(attributed.attributed_revenue, 0) as attributed_revenue,
        case
            when coalesce(event_counts.deliveries, 0) > 0 then event_counts.deliveries
            else greatest(coalesce(event_counts.sends, 0) - coalesce(event_counts.bounces, 0), 0)
        end as delivered_base
    from campaigns
    left join event_counts
        on campaigns.campaign_id = event_counts.campaign_id
    left join engagement_counts
        on campaigns.campaign_id = engagement_counts.campaign_id
    left join attributed
        on campaigns.campaign_id = attributed.campaign_id
)

select
    cast(campaign_id as {{ dbt.type_string() }}) as campaign_id,
    cast(sent_at as timestamp) as sent_at,
    cast(campaign_name as {{ dbt.type_string() }}) as name,
    cast(subject as {{ dbt.type_string() }}) as subject,
    cast(channel as {{ dbt.type_string() }}) as channel,
    cast(content_topic as {{ dbt.type_string() }}) as content_topic,
    cast(offer_type as {{ dbt.type_string() }}) as offer_type,
    cast(discount_pct as double) as discount_pct,
    cast(is_discount as boolean) as is_discount,
    cast(is_automated as boolean) as is_automated,
    cast(variant as {{ dbt.type_string() }}) as variant,
    cast(sends as bigint) as sends,
    cast(deliveries as bigint) as deliveries,
    cast(bounces as bigint) as bounces,
    cast(hard_bounces as bigint) as hard_bounces,
    cast(soft_bounces as bigint) as soft_bounces,
    cast(unique_real_opens as bigint) as unique_real_opens,
    cast(unique_clicks as bigint) as unique_clicks,
    cast(machine_opens as bigint) as machine_opens,
    cast(machine_only_opens as bigint) as machine_only_opens,
    cast(unsubscribes as bigint) as unsubscribes,
    cast(complaints as bigint) as complaints,
    cast(attributed_orders as bigint) as attributed_orders,
    cast(attributed_revenue as double) as attributed_revenue,
    cast({{ safe_divide('unique_real_opens', 'delivered_base') }} as double) as open_rate,
    cast({{ safe_divide('unique_clicks', 'delivered_base') }} as double) as click_rate,
    cast({{ safe_divide('unique_clicks', 'unique_real_opens') }} as double) as click_to_open_rate,
    cast({{ safe_divide('unsubscribes', 'delivered_base') }} as double) as unsubscribe_rate,
    cast({{ safe_divide('complaints', 'delivered_base') }} as double) as complaint_rate,
    cast({{ safe_divide('bounces', 'sends') }} as double) as bounce_rate,
    cast({{ safe_divide('attributed_orders', 'delivered_base') }} as double) as conversion_rate,
    cast({{ as_of_sql() }} as timestamp) as as_of
from joined
