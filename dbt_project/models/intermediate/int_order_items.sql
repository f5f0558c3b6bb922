-- Order lines: for each order, the lines of the latest file that carries lines for it (a re-exported
-- order replaces its lines), exact repeats of a line within that file collapsed. Not filtered by
-- as_of here: int_orders keeps orders placed up to as_of.
with latest_file as (
    select order_id, max(_file_seq) as _file_seq
    from {{ ref('stg_order_items') }}
    group by order_id
),

lines as (
    select items.*
    from {{ ref('stg_order_items') }} as items
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
    order_id,
    product_id,
    category,
    quantity,
    unit_price,
    quantity * unit_price as line_amount,
    product_name,
    _file_seq,
    _line_number
from ranked
where copy_number = 1
