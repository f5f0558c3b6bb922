-- One row per raw web-analytics event row (duplicates included; see int_web_event_duplicates).
with source as (
    select * from {{ source('raw', 'web_events') }}
),

renamed as (
    select
        case when email is not null then {{ identity_id('email') }} end as identity_id,
        {{ normalize_email('email') }} as email,
        email as email_as_given,
        anonymous_id,
        event_id,
        event_type,
        occurred_at,
        lower(category) as category,
        product_id,
        case
            when device is null then null
            when lower(device) in ('desktop', 'mobile', 'tablet') then lower(device)
            else 'unknown'
        end as device,
        url,
        session_id,
        _file_seq,
        _line_number
    from source
)

select * from renamed
