-- One row per order line of the orders in fct_orders.
with items as (
    select * from {{ ref('int_order_items') }}
),

orders as (
    select order_id, identity_id, ordered_at, is_purchase from {{ ref('int_orders') }}
),

identities as (
    select identity_id, subscriber_key from {{ ref('int_identities') }}
)

select
    cast(items.order_id as {{ dbt.type_string() }}) as order_id,
    cast(items.product_id as {{ dbt.type_string() }}) as product_id,
    cast(identities.subscriber_key as {{ dbt.type_string() }}) as subscriber_key,
    cast(orders.ordered_at as timestamp) as ordered_at,
    cast(items.category as {{ dbt.type_string() }}) as category,
    cast(items.quantity as integer) as quantity,
    cast(items.unit_price as double) as unit_price,
    cast(items.line_amount as double) as line_amount,
    cast(items.product_name as {{ dbt.type_string() }}) as product_name,
    cast(orders.is_purchase as boolean) as is_purchase
from items
inner join orders
    on items.order_id = orders.order_id
inner join identities
    on orders.identity_id = identities.identity_id
