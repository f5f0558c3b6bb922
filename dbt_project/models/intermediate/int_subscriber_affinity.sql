-- Long-format affinity per subscriber: dimension x value with its evidence and a smoothed rate.
--
-- content_topic, offer_type, discount (is the campaign a discount campaign: 'discount' /
-- 'no_discount'): sends = the campaigns with that value sent to the subscriber (each once), clicks =
-- those sends that were clicked; click_rate_smoothed = (clicks + k * list rate for that value) / (sends + k);
-- lift = (clicks + 1) / (expected clicks + 1), expected clicks = sends * the subscriber's own overall
-- click rate (clicked sends / sends, all campaigns): observed vs expected with one pseudo-click, so a
-- value without evidence, or a subscriber who clicks everything alike, sits at 1.
-- category: interactions = clicks on links of that category plus purchased order lines of that
-- category; `sends` holds all the subscriber's categorised interactions and `clicks` those in this
-- category, so click_rate_smoothed is the category's smoothed share of the subscriber's interest
-- (shrunk toward the list's share of that category) and lift = that share / the list's share.
with subscribers as (
    select identity_id from {{ ref('int_subscribers_resolved') }}
),

campaigns as (
    select campaign_id, content_topic, offer_type, is_discount from {{ ref('int_campaigns') }}
),

{%- set topics = campaign_dimension_values('content_topic') %}
{%- set offers = campaign_dimension_values('offer_type') %}
{%- if topics is not none and offers is not none %}
{#- Fast path: one pass per fact grouped by subscriber only, one conditional count per value. #}
{%- set pivots = [] %}
{%- for v in topics %}{% do pivots.append(('content_topic', v, "campaigns.content_topic = " ~ sql_string_literal(v))) %}{% endfor %}
{%- for v in offers %}{% do pivots.append(('offer_type', v, "campaigns.offer_type = " ~ sql_string_literal(v))) %}{% endfor %}
{%- do pivots.append(('discount', 'discount', 'campaigns.is_discount')) %}
{%- do pivots.append(('discount', 'no_discount', 'not campaigns.is_discount')) %}

evidence_wide as (
    -- one pass over the sends (int_email_send_firsts: a campaign sent to the address counts once, its
    -- click once, both up to as_of)
    select
        firsts.identity_id
        {%- for dimension, value, condition in pivots %},
        count(case when firsts.sent and {{ condition }} then 1 end) as sends_{{ loop.index }},
        count(case when firsts.clicked and {{ condition }} then 1 end) as clicks_{{ loop.index }}
        {%- endfor %}
    from (
        select
            identity_id,
            campaign_id,
            coalesce(first_sent_at <= {{ as_of_sql() }}, false) as sent,
            coalesce(first_click_at <= {{ as_of_sql() }}, false) as clicked
        from {{ ref('int_email_send_firsts') }}
        where campaign_id is not null
    ) as firsts
    inner join campaigns
        on firsts.campaign_id = campaigns.campaign_id
    where firsts.sent or firsts.clicked
    group by firsts.identity_id
),

wide as (
    select
        subscribers.identity_id
        {%- for dimension, value, condition in pivots %},
        coalesce(evidence_wide.sends_{{ loop.index }}, 0) as sends_{{ loop.index }},
        coalesce(evidence_wide.clicks_{{ loop.index }}, 0) as clicks_{{ loop.index }}
        {%- endfor %}
    from subscribers
    left join evidence_wide
        on subscribers.identity_id = evidence_wide.identity_id
),

campaign_dimensions as (
    {%- for dimension, value, condition in pivots %}
    select identity_id, '{{ dimension }}' as dimension, {{ sql_string_literal(value) }} as value,
        sends_{{ loop.index }} as sends, clicks_{{ loop.index }} as clicks
    from wide
    where sends_{{ loop.index }} > 0 or clicks_{{ loop.index }} > 0
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),
{%- else %}
{#- Generic path (many distinct values, or compiled before int_campaigns exists): GROUP BY. #}

evidence as (
    -- one pass over the sends (int_email_send_firsts: a campaign sent to the address counts once, its
    -- click once, both up to as_of)
    select
        firsts.identity_id,
        campaigns.content_topic,
        campaigns.offer_type,
        campaigns.is_discount,
        count(case when firsts.first_sent_at <= {{ as_of_sql() }} then 1 end) as sends,
        count(case when firsts.first_click_at <= {{ as_of_sql() }} then 1 end) as clicks
    from {{ ref('int_email_send_firsts') }} as firsts
    inner join campaigns
        on firsts.campaign_id = campaigns.campaign_id
    where firsts.first_sent_at <= {{ as_of_sql() }} or firsts.first_click_at <= {{ as_of_sql() }}
    group by firsts.identity_id, campaigns.content_topic, campaigns.offer_type, campaigns.is_discount
),

by_campaign_kind as (
    select identity_id, content_topic, offer_type, is_discount, sum(sends) as sends, sum(clicks) as clicks
    from evidence
    where identity_id in (select identity_id from subscribers)
    group by identity_id, content_topic, offer_type, is_discount
),

campaign_dimensions as (
    select identity_id, 'content_topic' as dimension, content_topic as value, sum(sends) as sends, sum(clicks) as clicks
    from by_campaign_kind
    where content_topic is not null
    group by identity_id, content_topic
    union all
    select identity_id, 'offer_type', offer_type, sum(sends), sum(clicks)
    from by_campaign_kind
    where offer_type is not null
    group by identity_id, offer_type
    union all
    select identity_id, 'discount', case when is_discount then 'discount' else 'no_discount' end, sum(sends), sum(clicks)
    from by_campaign_kind
    group by identity_id, case when is_discount then 'discount' else 'no_discount' end
),
{%- endif %}

campaign_dimensions_capped as (
    select
        identity_id,
        dimension,
        value,
        cast(sends as bigint) as sends,
        cast(least(clicks, sends) as bigint) as clicks
    from campaign_dimensions
),

campaign_list_rates as (
    select
        dimension,
        value,
        coalesce({{ safe_divide('sum(clicks)', 'sum(sends)') }}, 0) as list_rate
    from campaign_dimensions_capped
    group by dimension, value
),

overall as (
    select
        identity_id,
        coalesce({{ safe_divide('least(clicks_total, sends_total)', 'sends_total') }}, 0) as own_click_rate
    from {{ ref('int_subscriber_email_features') }}
),

campaign_rows as (
    select
        d.identity_id,
        d.dimension,
        d.value,
        d.sends,
        d.clicks,
        {{ smoothed_rate('d.clicks', 'd.sends', 'r.list_rate') }} as click_rate_smoothed,
        r.list_rate,
        (d.clicks + 1.0) / (d.sends * coalesce(overall.own_click_rate, 0) + 1.0) as lift
    from campaign_dimensions_capped as d
    inner join campaign_list_rates as r
        on d.dimension = r.dimension
        and d.value = r.value
    left join overall
        on d.identity_id = overall.identity_id
),

category_interactions as (
    select identity_id, link_category as category, count(*) as interactions
    from {{ ref('int_email_engagement_events') }}
    where event_type = 'click' and link_category is not null and occurred_at <= {{ as_of_sql() }}
    group by identity_id, link_category
    union all
    select orders.identity_id, items.category, count(*)
    from {{ ref('int_order_items') }} as items
    inner join {{ ref('int_orders') }} as orders
        on items.order_id = orders.order_id
    where orders.is_purchase and items.category is not null
    group by orders.identity_id, items.category
),

category_per_subscriber as (
    select identity_id, category, cast(sum(interactions) as bigint) as interactions
    from category_interactions
    where identity_id in (select identity_id from subscribers)
    group by identity_id, category
),

category_totals as (
    select identity_id, cast(sum(interactions) as bigint) as total_interactions
    from category_per_subscriber
    group by identity_id
),

category_list_shares as (
    select
        category,
        cast(sum(interactions) as double) / (select sum(interactions) from category_per_subscriber) as list_rate
    from category_per_subscriber
    group by category
),

category_rows as (
    select
        c.identity_id,
        'category' as dimension,
        c.category as value,
        t.total_interactions as sends,
        c.interactions as clicks,
        {{ smoothed_rate('c.interactions', 't.total_interactions', 's.list_rate') }} as click_rate_smoothed,
        s.list_rate,
        {{ safe_divide(smoothed_rate('c.interactions', 't.total_interactions', 's.list_rate'), 's.list_rate') }} as lift
    from category_per_subscriber as c
    inner join category_totals as t
        on c.identity_id = t.identity_id
    inner join category_list_shares as s
        on c.category = s.category
)

select * from campaign_rows
union all
select * from category_rows
