{{ config(materialized='view') }}
-- Distinct e-mail events up to as_of: raw rows minus the duplicates found by
-- int_email_event_duplicates, machine opens flagged. A view: every reader aggregates straight from
-- the raw columns it needs (one pass each), nothing 50M rows wide is written twice.
with events as (
    select * from {{ ref('stg_email_events') }}
),

duplicates as (
    select * from {{ ref('int_email_event_duplicates') }}
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
    identity_id,
    email,
    event_id,
    event_type,
    occurred_at,
    campaign_id,
    device,
    (event_type = 'open' and coalesce(is_machine_open, false)) as is_machine_open,
    (event_type = 'click' or (event_type = 'open' and not coalesce(is_machine_open, false))) as is_real_engagement,
    url,
    link_category,
    bounce_type,
    _file_seq,
    _line_number
from distinct_events
