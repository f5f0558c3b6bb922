-- One row per subscriber x product category with the evidence of interest in it up to as_of: web events
-- on pages of that category (product views, carts, category pages, searches; stitched visitors too),
-- purchased order lines, and clicks on e-mail links of that category. The campaign click rankers
-- (ml/scoring/campaign_ranker.py) turn these counts into each person's share of interest per category
-- against the list's share; the web is the richest of the three (most people browse more than they buy
-- or click). Counted per identity first and named by subscriber_key once per row of the result: tens of
-- millions of web events are never joined to a string key.
with evidence as (
    select identity_id, category, 1 as web_events, 0 as order_lines, 0 as link_clicks
    from {{ ref('int_web_events') }}
    where identity_id is not null and category is not null
    union all
    select orders.identity_id, items.category, 0 as web_events, 1 as order_lines, 0 as link_clicks
    from {{ ref('int_order_items') }} as items
    inner join {{ ref('int_orders') }} as orders
        on items.order_id = orders.order_id
    where orders.is_purchase and items.category is not null
    union all
    select identity_id, link_category as category, 0 as web_events, 0 as order_lines, 1 as link_clicks
    from {{ ref('int_email_engagement_events') }}
    where event_type = 'click' and link_category is not null and occurred_at <= {{ as_of_sql() }}
),

per_identity as (
    select
        identity_id,
        category,
        sum(web_events) as web_events,
        sum(order_lines) as order_lines,
        sum(link_clicks) as link_clicks
    from evidence
    group by identity_id, category
),

profiled as (
    select identities.identity_id, identities.subscriber_key
    from {{ ref('int_identities') }} as identities
    inner join {{ ref('subscriber_profiles') }} as profiles
        on identities.subscriber_key = profiles.subscriber_key
)

select
    cast(profiled.subscriber_key as {{ dbt.type_string() }}) as subscriber_key,
    cast(per_identity.category as {{ dbt.type_string() }}) as category,
    cast(per_identity.web_events as bigint) as web_events,
    cast(per_identity.order_lines as bigint) as order_lines,
    cast(per_identity.link_clicks as bigint) as link_clicks
from per_identity
inner join profiled
    on per_identity.identity_id = profiled.identity_id
