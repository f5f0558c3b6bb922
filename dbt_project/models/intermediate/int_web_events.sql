{{ config(materialized='view') }}
-- Distinct web events up to as_of, with the address stitched from the anonymous_id where the event
-- itself carries none (int_web_identity_stitch).
with events as (
    select * from {{ ref('stg_web_events') }}
),

duplicates as (
    select * from {{ ref('int_web_event_duplicates') }}
),

stitch as (
    select * from {{ ref('int_web_identity_stitch') }}
),

distinct_events as (
    select events.*
    from events
    left join duplicates
        on events._file_seq = duplicates._file_seq
        and events._line_number = duplicates._line_number
    where duplicates._file_seq is null
      and events.occurred_at <= {{ as_of_sql() }}
)

select
    coalesce(distinct_events.identity_id, stitch.identity_id) as identity_id,
    distinct_events.identity_id is null and stitch.identity_id is not null as is_stitched,
    distinct_events.anonymous_id,
    distinct_events.event_id,
    distinct_events.event_type,
    distinct_events.occurred_at,
    distinct_events.category,
    distinct_events.product_id,
    distinct_events.device,
    distinct_events.url,
    distinct_events.session_id,
    distinct_events._file_seq,
    distinct_events._line_number
from distinct_events
left join stitch
    on distinct_events.identity_id is null
    and distinct_events.anonymous_id = stitch.anonymous_id
