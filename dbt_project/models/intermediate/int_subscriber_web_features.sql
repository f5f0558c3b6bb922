-- Web intent per address from identified (or stitched) web events up to as_of.
-- abandoned_carts_90d: add_to_cart events in the last 90 days whose whole follow-up window
-- (var abandoned_cart_hours, 24 h) has passed by as_of and inside which the address placed no order
-- (any order that was not cancelled).
with events as (
    select identity_id, event_type, occurred_at
    from {{ ref('int_web_events') }}
    where identity_id is not null
),

as_of as (
    select {{ as_of_sql() }} as as_of
),

per_address as (
    select
        events.identity_id,
        max(events.occurred_at) as last_visit_at,
        {%- for name, event_type in [('page_views', 'page_view'), ('product_views', 'product_view'),
                                     ('cart_adds', 'add_to_cart'), ('checkouts_started', 'checkout_started'),
                                     ('searches', 'search')] %}
        count(case when events.event_type = '{{ event_type }}'
            and events.occurred_at > {{ window_start('as_of.as_of', 90) }} then 1 end) as {{ name }}_90d,
        {%- endfor %}
        count(*) as web_events_total
    from events
    cross join as_of
    group by events.identity_id
),

cart_adds as (
    select events.identity_id, events.occurred_at
    from events
    cross join as_of
    where events.event_type = 'add_to_cart'
      and events.occurred_at > {{ window_start('as_of.as_of', 90) }}
      and {{ dbt.dateadd('hour', var('abandoned_cart_hours'), 'events.occurred_at') }} <= as_of.as_of
),

orders as (
    select identity_id, ordered_at
    from {{ ref('int_orders') }}
    where coalesce(status, 'completed') != 'cancelled'
),

converted_cart_adds as (
    select distinct cart_adds.identity_id, cart_adds.occurred_at
    from cart_adds
    inner join orders
        on cart_adds.identity_id = orders.identity_id
        and orders.ordered_at >= cart_adds.occurred_at
        and orders.ordered_at <= {{ dbt.dateadd('hour', var('abandoned_cart_hours'), 'cart_adds.occurred_at') }}
),

abandoned as (
    select cart_adds.identity_id, count(*) as abandoned_carts_90d
    from cart_adds
    left join converted_cart_adds
        on cart_adds.identity_id = converted_cart_adds.identity_id
        and cart_adds.occurred_at = converted_cart_adds.occurred_at
    where converted_cart_adds.identity_id is null
    group by cart_adds.identity_id
)

select
    per_address.identity_id,
    per_address.last_visit_at,
    {{ days_between('per_address.last_visit_at', 'as_of.as_of') }} as days_since_last_visit,
    per_address.page_views_90d,
    per_address.product_views_90d,
    per_address.cart_adds_90d,
    per_address.checkouts_started_90d,
    per_address.searches_90d,
    coalesce(abandoned.abandoned_carts_90d, 0) as abandoned_carts_90d,
    per_address.web_events_total
from per_address
cross join as_of
left join abandoned
    on per_address.identity_id = abandoned.identity_id
