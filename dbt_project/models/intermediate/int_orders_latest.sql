{{ config(
    materialized='incremental',
    incremental_strategy=upsert_strategy(),
    unique_key='order_id',
    on_schema_change='fail'
) }}
-- One row per order ever loaded, in its latest restatement (file arrival, then line: a later export may
-- carry a refund), with its lines (int_order_items) rolled up. No as_of: int_orders keeps the orders
-- placed up to as_of (a status exported after as_of cannot be dated and is taken as known).
-- Incremental: a run recomputes only the orders named in order or order-line files loaded since the
-- newest one the table has seen (`_seen_file_seq`), from every record of those orders, and replaces
-- their rows; reading a file twice changes nothing.
-- depends_on: {{ ref('stg_order_items') }}
with
{%- if is_incremental() %}
touched as (
    {{ touched_orders() }}
),
{%- endif %}

ranked as (
    select
        *,
        row_number() over (partition by order_id order by _file_seq desc, _line_number desc) as version_rank
    from {{ ref('stg_orders') }}
    {%- if is_incremental() %}
    where order_id in (select order_id from touched)
    {%- endif %}
),

orders as (
    select * from ranked where version_rank = 1
),

order_lines as (
    select * from {{ ref('int_order_items') }}
    {%- if is_incremental() %}
    where order_id in (select order_id from touched)
    {%- endif %}
),

items as (
    select
        order_id,
        cast(sum(quantity) as bigint) as item_count,
        count(*) as line_count,
        max(_file_seq) as _file_seq
    from order_lines
    group by order_id
),

item_categories as (
    select
        order_id,
        {{ dbt.listagg('category', "';'", 'order by category') }} as categories
    from (select distinct order_id, category from order_lines where category is not null) as c
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
    item_categories.categories,
    {{ latest('orders._file_seq', 'items._file_seq') }} as _seen_file_seq
from orders
left join items
    on orders.order_id = items.order_id
left join item_categories
    on orders.order_id = item_categories.order_id
