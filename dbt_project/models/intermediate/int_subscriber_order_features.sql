-- Recency / frequency / monetary per address from purchases (orders neither refunded nor cancelled)
-- placed up to as_of; refunded orders are counted apart.
with orders as (
    select * from {{ ref('int_orders') }}
),

as_of as (
    select {{ as_of_sql() }} as as_of
),

per_address as (
    select
        orders.identity_id,
        count(case when orders.is_purchase then 1 end) as orders_total,
        {%- for days in [30, 90, 180] %}
        count(case when orders.is_purchase and orders.ordered_at > {{ window_start('as_of.as_of', days) }} then 1 end) as orders_{{ days }}d,
        {%- endfor %}
        sum(case when orders.is_purchase then orders.total_amount else 0 end) as revenue_total,
        sum(case when orders.is_purchase and orders.ordered_at > {{ window_start('as_of.as_of', 90) }}
            then orders.total_amount else 0 end) as revenue_90d,
        min(case when orders.is_purchase then orders.ordered_at end) as first_order_at,
        max(case when orders.is_purchase then orders.ordered_at end) as last_order_at,
        count(case when orders.is_purchase and orders.has_discount then 1 end) as discount_orders,
        avg(case when orders.is_purchase then orders.discount_share end) as avg_discount_share,
        count(case when orders.status = 'refunded' then 1 end) as refunded_orders,
        count(case when orders.status = 'cancelled' then 1 end) as cancelled_orders,
        max(orders.ordered_at) as last_any_order_at
    from orders
    cross join as_of
    group by orders.identity_id
)

select
    per_address.identity_id,
    per_address.orders_total,
    per_address.orders_30d,
    per_address.orders_90d,
    per_address.orders_180d,
    per_address.revenue_total,
    per_address.revenue_90d,
    {{ safe_divide('per_address.revenue_total', 'per_address.orders_total') }} as avg_order_value,
    per_address.first_order_at,
    per_address.last_order_at,
    {{ days_between('per_address.last_order_at', 'as_of.as_of') }} as days_since_last_order,
    case
        when per_address.orders_total >= 2 then
            {{ dbt.datediff('per_address.first_order_at', 'per_address.last_order_at', 'second') }}
            / 86400.0 / (per_address.orders_total - 1)
    end as avg_days_between_orders,
    {{ safe_divide('per_address.discount_orders', 'per_address.orders_total') }} as discount_order_share,
    per_address.avg_discount_share,
    per_address.refunded_orders,
    per_address.cancelled_orders,
    per_address.last_any_order_at
from per_address
cross join as_of
