{{ config(materialized='view') }}
-- The few per-subscriber facts the rule-based segments need (subscriber_lifecycle, subscriber_rfm):
-- tenure, purchases and the latest real engagement of any kind (real open, click or identified web
-- visit). A view over small per-subscriber tables.
with subscribers as (
    select identity_id, created_at from {{ ref('int_subscribers_resolved') }}
),

identities as (
    select identity_id, subscriber_key from {{ ref('int_identities') }}
),

orders as (
    select identity_id, orders_total, revenue_total, last_order_at, days_since_last_order
    from {{ ref('int_subscriber_order_features') }}
),

email as (
    select identity_id, last_open_at, last_click_at from {{ ref('int_subscriber_email_features') }}
),

web as (
    select identity_id, last_visit_at from {{ ref('int_subscriber_web_features') }}
),

joined as (
    select
        identities.subscriber_key,
        subscribers.identity_id,
        {{ as_of_sql() }} as as_of,
        subscribers.created_at,
        coalesce(orders.orders_total, 0) as orders_total,
        cast(coalesce(orders.revenue_total, 0) as double) as revenue_total,
        orders.last_order_at,
        orders.days_since_last_order,
        email.last_open_at,
        email.last_click_at,
        web.last_visit_at,
        -- greatest() of the non-NULL ones (NULL when none)
        case
            when coalesce(email.last_open_at, email.last_click_at, web.last_visit_at) is null then null
            else greatest(
                coalesce(email.last_open_at, email.last_click_at, web.last_visit_at),
                coalesce(email.last_click_at, email.last_open_at, web.last_visit_at),
                coalesce(web.last_visit_at, email.last_open_at, email.last_click_at)
            )
        end as last_engagement_at
    from subscribers
    inner join identities
        on subscribers.identity_id = identities.identity_id
    left join orders
        on subscribers.identity_id = orders.identity_id
    left join email
        on subscribers.identity_id = email.identity_id
    left join web
        on subscribers.identity_id = web.identity_id
)

select
    *,
    {{ days_between('created_at', 'as_of') }} as tenure_days,
    {{ days_between('last_engagement_at', 'as_of') }} as days_since_last_engagement
from joined
