-- One row per order placed up to as_of, in its latest restatement, with its lines rolled up: the rows
-- of the incremental int_orders_latest placed up to as_of. An order counts as a purchase (is_purchase)
-- unless it is refunded or cancelled; its status is the latest known (a refund exported after as_of
-- cannot be dated and is taken as known).
select
    order_id,
    identity_id,
    ordered_at,
    total_amount,
    discount_amount,
    has_discount,
    discount_share,
    currency,
    status,
    channel,
    campaign_id,
    is_purchase,
    item_count,
    line_count,
    categories
from {{ ref('int_orders_latest') }}
where ordered_at <= {{ as_of_sql() }}
