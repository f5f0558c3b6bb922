-- One row per subscriber x product category with the evidence of interest in it up to as_of: web events
-- on pages of that category (product views, carts, category pages; stitched visitors only), purchased
-- order lines, and clicks on e-mail links of that category. The campaign click ranker
-- (ml/scoring/campaign_ranker.py) turns these counts into each person's share of interest per category
-- against the list's share; the web is the richest of the three (most people browse more than they buy
-- or click).
with evidence as (
    select subscriber_key, category, 1 as web_events, 0 as order_lines, 0 as link_clicks
    from {{ ref('fct_web_events') }}
    where subscriber_key is not null and category is not null
    union all
    select subscriber_key, category, 0 as web_events, 1 as order_lines, 0 as link_clicks
    from {{ ref('fct_order_items') }}
    where is_purchase and category is not null
    union all
    select subscriber_key, link_category as category, 0 as web_events, 0 as order_lines, 1 as link_clicks
    from {{ ref('fct_email_events') }}
    where event_type = 'click' and link_category is not null and subscriber_key is not null
),

profiled as (
    select subscriber_key from {{ ref('subscriber_profiles') }}
)

select
    cast(evidence.subscriber_key as {{ dbt.type_string() }}) as subscriber_key,
    cast(evidence.category as {{ dbt.type_string() }}) as category,
    cast(sum(evidence.web_events) as bigint) as web_events,
    cast(sum(evidence.order_lines) as bigint) as order_lines,
    cast(sum(evidence.link_clicks) as bigint) as link_clicks
from evidence
inner join profiled
    on evidence.subscriber_key = profiled.subscriber_key
group by evidence.subscriber_key, evidence.category
