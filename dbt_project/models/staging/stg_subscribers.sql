-- One row per raw subscriber record (several per address across exports); address normalised, and
-- the contract columns its file lacked listed, so that resolution can tell "not in this file" from blank.
with source as (
    select * from {{ source('raw', 'subscribers') }}
),

absent as (
    select
        file_hash,
        {{ dbt.concat(["','", dbt.listagg('column_name', "','"), "','"]) }} as absent_columns
    from {{ source('raw', 'absent_columns') }}
    where entity = 'subscribers'
    group by file_hash
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
        absent.absent_columns as _absent_columns,
        _source_file,
        _file_seq,
        _line_number
    from source
    left join absent
        on source._file_hash = absent.file_hash
)

select * from renamed
