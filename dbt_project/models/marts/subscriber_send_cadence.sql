-- One row per subscriber x weekly cadence at send time (sends_prev_7d: e-mails received in the 7 days
-- before a send) over fct_email_sends: how many sends went out at that cadence and how many were really
-- opened within 7 days. The fatigue model's data: its likelihood depends on a send only through
-- (subscriber, sends_prev_7d, opened), so these counts fit it exactly without loading every send.
select
    cast(subscriber_key as {{ dbt.type_string() }}) as subscriber_key,
    cast(sends_prev_7d as bigint) as sends_prev_7d,
    cast(count(*) as bigint) as sends,
    cast(sum(case when opened then 1 else 0 end) as bigint) as opens
from {{ ref('fct_email_sends') }}
group by subscriber_key, sends_prev_7d
