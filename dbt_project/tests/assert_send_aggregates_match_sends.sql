{{ config(meta={'dagster': {'ref': {'name': 'subscriber_send_cadence'}}}) }}
-- The scoring models' send aggregates lose no send: subscriber_send_cadence and the 'overall' rows of
-- subscriber_content_response add up to fct_email_sends (sends, opens, clicks), and no aggregate row
-- has more opens or clicks than sends. Returns one row per disagreement.
with sends as (
    select
        count(*) as sends,
        sum(case when opened then 1 else 0 end) as opens,
        sum(case when clicked then 1 else 0 end) as clicks
    from {{ ref('fct_email_sends') }}
),

cadence as (
    select coalesce(sum(sends), 0) as sends, coalesce(sum(opens), 0) as opens,
           sum(case when opens > sends then 1 else 0 end) as bad_rows
    from {{ ref('subscriber_send_cadence') }}
),

content as (
    select
        coalesce(sum(case when dimension = 'overall' then sends end), 0) as sends,
        coalesce(sum(case when dimension = 'overall' then clicks end), 0) as clicks,
        coalesce(sum(case when dimension = 'overall' then opens end), 0) as opens,
        sum(case when clicks > sends or opens > sends then 1 else 0 end) as bad_rows
    from {{ ref('subscriber_content_response') }}
)

select 'cadence sends' as check_name, sends.sends as expected, cadence.sends as actual
from sends cross join cadence where sends.sends <> cadence.sends
union all
select 'cadence opens', coalesce(sends.opens, 0), cadence.opens
from sends cross join cadence where coalesce(sends.opens, 0) <> cadence.opens
union all
select 'cadence rows with opens > sends', 0, cadence.bad_rows
from cadence where cadence.bad_rows > 0
union all
select 'content overall sends', sends.sends, content.sends
from sends cross join content where sends.sends <> content.sends
union all
select 'content overall clicks', coalesce(sends.clicks, 0), content.clicks
from sends cross join content where coalesce(sends.clicks, 0) <> content.clicks
union all
select 'content overall opens', coalesce(sends.opens, 0), content.opens
from sends cross join content where coalesce(sends.opens, 0) <> content.opens
union all
select 'content rows with clicks or opens > sends', 0, content.bad_rows
from content where content.bad_rows > 0
