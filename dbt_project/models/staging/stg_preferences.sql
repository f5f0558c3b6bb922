-- One row per raw preference-centre update.
with source as (
    select * from {{ source('raw', 'preferences') }}
),

renamed as (
    select
        {{ identity_id('email') }} as identity_id,
        {{ normalize_email('email') }} as email,
        updated_at,
        lower(topics) as topics,
        frequency,
        paused_until,
        _source_file,
        _file_seq,
        _line_number
    from source
)

select * from renamed
