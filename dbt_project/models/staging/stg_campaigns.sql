-- One row per raw campaign record (a later file may restate a campaign).
with source as (
    select * from {{ source('raw', 'campaigns') }}
),

renamed as (
    select
        campaign_id,
        sent_at,
        name as campaign_name,
        subject,
        coalesce(lower(channel), 'email') as channel,
        lower(content_topic) as content_topic,
        lower(offer_type) as offer_type,
        discount_pct,
        is_automated,
        variant,
        _source_file,
        _file_seq,
        _line_number
    from source
)

select * from renamed
