-- One row per raw subscriber record (several per address across exports); address normalised.
with source as (
    select * from {{ source('raw', 'subscribers') }}
),

renamed as (
    select
        {{ identity_id('email') }} as identity_id,
        {{ normalize_email('email') }} as email,
        created_at,
        subscriber_id,
        first_name,
        last_name,
        lower(signup_source) as signup_source,
        upper(country) as country,
        region,
        city,
        postal_code,
        timezone,
        birth_year,
        lower(gender) as gender,
        consent_status,
        consent_updated_at,
        updated_at,
        _source_file,
        _file_seq,
        _line_number
    from source
)

select * from renamed
