-- One row per raw e-mail event row (duplicates included; see int_email_event_duplicates).
-- Kept a plain projection: every column is computed only when a reader selects it.
with source as (
    select * from {{ source('raw', 'email_events') }}
),

renamed as (
    select
        {{ identity_id('email') }} as identity_id,
        {{ normalize_email('email') }} as email,
        email as email_as_given,
        event_type,
        occurred_at,
        event_id,
        campaign_id,
        case
            when device is null then null
            when lower(device) in ('desktop', 'mobile', 'tablet') then lower(device)
            else 'unknown'
        end as device,
        is_machine_open,
        url,
        lower(link_category) as link_category,
        lower(bounce_type) as bounce_type,
        _file_seq,
        _line_number
    from source
)

select * from renamed
