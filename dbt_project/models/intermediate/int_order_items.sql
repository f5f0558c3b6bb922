{{ config(
    materialized='incremental',
    incremental_strategy=upsert_strategy(),
    unique_key='order_id',
    on_schema_change='append_new_columns'
) }}
-- Order lines: for each order, the lines of the latest file that carries lines for it (a re-exported
-- order replaces its lines), exact repeats of a line within that file collapsed, with the address
-- (identity_id) of the order's latest record so `mailsift forget` finds them. Not filtered by as_of:
-- int_orders keeps orders placed up to as_of. Incremental: a run recomputes only the orders named in
-- order or order-line files loaded since the newest one the table has seen (`_seen_file_seq`), from
-- every row of those orders, and replaces their lines; reading a file twice changes nothing. A
-- warehouse built when this was a plain table (no `_seen_file_seq`) rebuilds it once.
{%- set merge = merges_into('_seen_file_seq') %}
with
{%- if merge %}
touched as (
    {{ touched_orders() }}
),
{%- endif %}

items as (
    select * from {{ ref('stg_order_items') }}
    {%- if merge %}
    where order_id in (select order_id from touched)
    {%- endif %}
),

order_records as (
    select
        order_id,
        identity_id,
        _file_seq,
        row_number() over (partition by order_id order by _file_seq desc, _line_number desc) as version_rank
    from {{ ref('stg_orders') }}
    {%- if merge %}
    where order_id in (select order_id from touched)
    {%- endif %}
),

latest_file as (
    select order_id, max(_file_seq) as _file_seq
    from items
    group by order_id
),

lines as (
    select items.*
    from items
    inner join latest_file
        on items.order_id = latest_file.order_id
        and items._file_seq = latest_file._file_seq
),

ranked as (
    select
        *,
        row_number() over (
            partition by order_id, product_id, category, quantity, unit_price, product_name
            order by _line_number
        ) as copy_number
    from lines
)

select
    ranked.order_id,
    ranked.product_id,
    ranked.category,
    ranked.quantity,
    ranked.unit_price,
    ranked.quantity * ranked.unit_price as line_amount,
    ranked.product_name,
    ranked._file_seq,
    ranked._line_number,
    order_records.identity_id,
    {{ latest('ranked._file_seq', 'order_records._file_seq') }} as _seen_file_seq
from ranked
left join order_records
    on ranked.order_id = order_records.order_id
    and order_records.version_rank = 1
where ranked.copy_number = 1
