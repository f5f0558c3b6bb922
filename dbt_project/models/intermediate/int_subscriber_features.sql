{{ config(materialized='view') }}
-- Every per-subscriber feature at as_of except the rule-based segments, one row per subscriber,
-- assembled from the per-source feature tables: the body of subscriber_profiles (a view, read once).
with subscribers as (
    select * from {{ ref('int_subscribers_resolved') }}
),

identities as (
    select identity_id, subscriber_key from {{ ref('int_identities') }}
),

as_of as (
    select {{ as_of_sql() }} as as_of
),

consent as (
    select * from {{ ref('int_subscriber_consent') }}
),

preferences as (
    select * from {{ ref('int_preferences_latest') }}
),

email as (
    select * from {{ ref('int_subscriber_email_features') }}
),

orders as (
    select * from {{ ref('int_subscriber_order_features') }}
),

web as (
    select * from {{ ref('int_subscriber_web_features') }}
),

activity as (
    select * from {{ ref('int_subscriber_activity_timing') }}
),

affinity as (
    select * from {{ ref('int_subscriber_affinity') }}
),

top_values as (
    select
        identity_id,
        dimension,
        value,
        click_rate_smoothed,
        {{ safe_divide('clicks', 'sends') }} as share,
        row_number() over (
            partition by identity_id, dimension
            order by
                case when dimension = 'category' then clicks end desc nulls last,
                click_rate_smoothed desc,
                value
        ) as value_rank
    from affinity
    where dimension in ('content_topic', 'offer_type', 'category')
      and clicks > 0
),

discount_rates as (
    select
        identity_id,
        max(case when value = 'discount' then click_rate_smoothed end) as discount_rate,
        max(case when value = 'no_discount' then click_rate_smoothed end) as no_discount_rate
    from affinity
    where dimension = 'discount'
    group by identity_id
),

discount_list_rates as (
    select
        max(case when value = 'discount' then list_rate end) as discount_list_rate,
        max(case when value = 'no_discount' then list_rate end) as no_discount_list_rate
    from affinity
    where dimension = 'discount'
)

select
    identities.subscriber_key,
    subscribers.identity_id,
    as_of.as_of,
    subscribers.created_at,
    {{ days_between('subscribers.created_at', 'as_of.as_of') }} as tenure_days,
    subscribers.country,
    subscribers.timezone,
    subscribers.signup_source,
    consent.is_mailable,
    consent.non_mailable_reason,

    -- recency / frequency / monetary
    coalesce(orders.orders_total, 0) as orders_total,
    coalesce(orders.orders_30d, 0) as orders_30d,
    coalesce(orders.orders_90d, 0) as orders_90d,
    coalesce(orders.orders_180d, 0) as orders_180d,
    cast(coalesce(orders.revenue_total, 0) as double) as revenue_total,
    cast(coalesce(orders.revenue_90d, 0) as double) as revenue_90d,
    orders.avg_order_value,
    orders.first_order_at,
    orders.last_order_at,
    orders.days_since_last_order,
    orders.avg_days_between_orders,
    orders.discount_order_share,
    orders.avg_discount_share,
    coalesce(orders.refunded_orders, 0) as refunded_orders,

    -- e-mail
    email.sends_total,
    email.sends_30d,
    email.sends_90d,
    email.sends_180d,
    email.real_opens_total,
    email.machine_opens_total,
    email.clicks_total,
    email.opens_30d,
    email.opens_90d,
    email.opens_180d,
    email.clicks_30d,
    email.clicks_90d,
    email.clicks_180d,
    email.open_rate_smoothed,
    email.click_rate_smoothed,
    email.days_since_last_open,
    email.days_since_last_click,
    email.last_open_at,
    email.last_click_at,
    email.engagement_trend,
    email.sends_per_week_90d,

    -- timing
    {%- for h in range(24) %}
    email.eng_hour_{{ '%02d' % h }},
    {%- endfor %}
    {%- for d in range(7) %}
    email.eng_dow_{{ d }},
    {%- endfor %}
    email.peak_hour_local,
    email.peak_dow,
    email.engagement_events_total,

    -- devices
    email.share_mobile,
    email.share_desktop,
    email.share_tablet,

    -- rhythm and devices across e-mail, web sessions and orders
    coalesce(activity.activity_events_total, 0) as activity_events_total,
    {%- for h in range(24) %}
    coalesce(activity.act_hour_{{ '%02d' % h }}, 0) as act_hour_{{ '%02d' % h }},
    {%- endfor %}
    {%- for d in range(7) %}
    coalesce(activity.act_dow_{{ d }}, 0) as act_dow_{{ d }},
    {%- endfor %}
    {%- for device in ['mobile', 'desktop', 'tablet'] %}
    coalesce(activity.act_share_{{ device }}, 0) as act_share_{{ device }},
    {%- endfor %}

    -- affinity
    top_topic.value as top_content_topic,
    top_topic.click_rate_smoothed as top_content_topic_click_rate,
    top_offer.value as top_offer_type,
    top_offer.click_rate_smoothed as top_offer_type_click_rate,
    top_category.value as top_category,
    top_category.share as top_category_share,
    case
        when email.sends_total > 0 then
            coalesce(discount_rates.discount_rate, discount_list_rates.discount_list_rate)
            - coalesce(discount_rates.no_discount_rate, discount_list_rates.no_discount_list_rate)
    end as discount_click_lift,

    -- web intent
    web.last_visit_at,
    web.days_since_last_visit,
    coalesce(web.page_views_90d, 0) as page_views_90d,
    coalesce(web.product_views_90d, 0) as product_views_90d,
    coalesce(web.cart_adds_90d, 0) as cart_adds_90d,
    coalesce(web.checkouts_started_90d, 0) as checkouts_started_90d,
    coalesce(web.abandoned_carts_90d, 0) as abandoned_carts_90d,

    -- state
    consent.is_unsubscribed,
    consent.is_hard_bounced,
    consent.has_complained,
    email.soft_bounces_90d,
    coalesce(preferences.paused_until > as_of.as_of, false) as is_paused,

    -- extras
    email.engagement_rate_smoothed,
    email.real_open_events,
    email.click_events,
    email.machine_open_events,
    email.first_send_at,
    email.last_send_at,
    coalesce(orders.cancelled_orders, 0) as cancelled_orders,
    coalesce(web.searches_90d, 0) as searches_90d,
    subscribers.is_timezone_fallback,
    preferences.preferred_frequency,
    preferences.preferred_topics,
    preferences.paused_until
from subscribers
cross join as_of
inner join identities
    on subscribers.identity_id = identities.identity_id
inner join consent
    on subscribers.identity_id = consent.identity_id
inner join email
    on subscribers.identity_id = email.identity_id
left join orders
    on subscribers.identity_id = orders.identity_id
left join web
    on subscribers.identity_id = web.identity_id
left join activity
    on subscribers.identity_id = activity.identity_id
left join preferences
    on subscribers.identity_id = preferences.identity_id
left join top_values as top_topic
    on subscribers.identity_id = top_topic.identity_id
    and top_topic.dimension = 'content_topic'
    and top_topic.value_rank = 1
left join top_values as top_offer
    on subscribers.identity_id = top_offer.identity_id
    and top_offer.dimension = 'offer_type'
    and top_offer.value_rank = 1
left join top_values as top_category
    on subscribers.identity_id = top_category.identity_id
    and top_category.dimension = 'category'
    and top_category.value_rank = 1
left join discount_rates
    on subscribers.identity_id = discount_rates.identity_id
cross join discount_list_rates
