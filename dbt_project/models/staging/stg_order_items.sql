-- One row per raw order line.
with source as (
    select * from {{ source('raw', 'order_items') }}
),

renamed as (
    select
        order_id,
        product_id,
        lower(category) as category,
        quantity,
        unit_price,
        product_name,
        _source_file,
        _file_seq,
        _line_number
    from source
)

select * from renamed
