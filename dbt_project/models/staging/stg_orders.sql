-- One row per raw order record (a later file may restate an order, e.g. after a refund).
with source as (
    select * from {{ source('raw', 'orders') }}
),

renamed as (
    select
        order_id,
        {{ identity_id('email') }} as identity_id,
        {{ normalize_email('email') }} as email,
        ordered_at,
        total_amount,
        upper(currency) as currency,
        discount_amount,
        lower(channel) as channel,
        status,
        campaign_id,
        _source_file,
        _file_seq,
        _line_number
    from source
)

select * from renamed
