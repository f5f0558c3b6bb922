-- One row per order placed up to as_of (latest restatement), for every buyer address.
with orders as (
    select * from {{ ref('int_orders') }}
),

identities as (
    select identity_id, subscriber_key, in_subscribers from {{ ref('int_identities') }}
),

subscribers as (
    select identity_id from {{ ref('int_subscribers_resolved') }}
)

select
    cast(orders.order_id as {{ dbt.type_string() }}) as order_id,
    cast(identities.subscriber_key as {{ dbt.type_string() }}) as subscriber_key,
    cast(subscribers.identity_id is not null as boolean) as is_subscriber,
    cast(orders.ordered_at as timestamp) as ordered_at,
    cast(orders.total_amount as double) as total_amount,
    cast(orders.discount_amount as double) as discount_amount,
    cast(orders.has_discount as boolean) as has_discount,
    cast(orders.discount_share as double) as discount_share,
    cast(orders.currency as {{ dbt.type_string() }}) as currency,
    cast(coalesce(orders.status, 'completed') as {{ dbt.type_string() }}) as status,
    cast(orders.is_purchase as boolean) as is_purchase,
    cast(orders.channel as {{ dbt.type_string() }}) as channel,
    cast(orders.campaign_id as {{ dbt.type_string() }}) as campaign_id,
    cast(orders.item_count as bigint) as item_count,
    cast(orders.line_count as bigint) as line_count,
    cast(orders.categories as {{ dbt.type_string() }}) as categories
from orders
inner join identities
    on orders.identity_id = identities.identity_id
left join subscribers
    on orders.identity_id = subscribers.identity_id
