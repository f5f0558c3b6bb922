-- One row per order placed up to as_of, in its latest restatement (file arrival, then line: a later
-- export may carry a refund), with its lines rolled up. An order counts as a purchase
-- (is_purchase) unless it is refunded or cancelled; its status is the latest known (a refund
-- exported after as_of cannot be dated and is taken as known).
with ranked as (
    select
        *,
        row_number() over (partition by order_id order by _file_seq desc, _line_number desc) as version_rank
    from {{ ref('stg_orders') }}
),

as_of as (
    select {{ as_of_sql() }} as as_of
),

orders as (
    select ranked.*
    from ranked
    where version_rank = 1
      and ordered_at <= {{ as_of_sql() }}
),

items as (
    select
        order_id,
        cast(sum(quantity) as bigint) as item_count,
        sum(quantity * unit_price) as items_amount,
        count(*) as line_count
    from {{ ref('int_order_items') }}
    group by order_id
),

item_categories as (
    select
        order_id,
        {{ dbt.listagg('category', "';'", 'order by category') }} as categories
    from (select distinct order_id, category from {{ ref('int_order_items') }} where category is not null) as c
    group by order_id
)

select
    orders.order_id,
    orders.identity_id,
    orders.ordered_at,
    orders.total_amount,
    coalesce(orders.discount_amount, 0) as discount_amount,
    coalesce(orders.discount_amount, 0) > 0 as has_discount,
    -- discount as a share of the pre-discount value (total_amount is what was paid)
    case
        when coalesce(orders.discount_amount, 0) > 0
            then orders.discount_amount / (orders.total_amount + orders.discount_amount)
        else 0
    end as discount_share,
    orders.currency,
    orders.status,
    orders.channel,
    orders.campaign_id,
    coalesce(orders.status, 'completed') = 'completed' as is_purchase,
    coalesce(items.item_count, 0) as item_count,
    coalesce(items.line_count, 0) as line_count,
    item_categories.categories
from orders
left join items
    on orders.order_id = items.order_id
left join item_categories
    on orders.order_id = item_categories.order_id
