{{ config(
    materialized='incremental',
    incremental_strategy=upsert_strategy(),
    unique_key=['identity_id', 'send_key'],
    on_schema_change='fail'
) }}
-- One row per address and send with the first time of each kind of event it had, over ALL events
-- loaded (no as_of): first sent, first real open, first click, first machine open, first unsubscribe.
-- A send is a campaign; opens and clicks without a campaign form a pseudo-send per address and UTC day.
-- Point in time by filtering: the first event up to any as_of is this row's first event when it is
-- <= as_of, and there is none otherwise, so readers (int_email_engagements, fct_email_sends,
-- segment_performance) keep a timestamp only when it is <= their as_of, exactly as if they had
-- aggregated the events up to as_of. Incremental: a run reads only the distinct events of files loaded
-- since the newest one in the table (`_file_seq`) and merges them into the rows they touch (each first
-- time is the earlier of the stored and the new one), so a day of new events costs a day of work.
-- Reading a file twice changes nothing (a minimum is idempotent).
with new_events as (
    select
        identity_id,
        campaign_id,
        case when campaign_id is null then cast({{ dbt.date_trunc('day', 'occurred_at') }} as date) end as send_day,
        event_type,
        occurred_at,
        is_machine_open,
        is_real_engagement,
        _file_seq
    from ({{ distinct_email_events() }}) as events
    where event_type in ('sent', 'open', 'click', 'unsubscribe')
    {% if is_incremental() -%}
      and _file_seq > {{ file_watermark() }}
    {%- endif %}
),

new_firsts as (
    select
        identity_id,
        campaign_id,
        send_day,
        min(case when event_type = 'sent' then occurred_at end) as first_sent_at,
        min(case when event_type = 'open' and is_real_engagement then occurred_at end) as first_real_open_at,
        min(case when event_type = 'click' then occurred_at end) as first_click_at,
        min(case when is_machine_open then occurred_at end) as first_machine_open_at,
        min(case when event_type = 'unsubscribe' then occurred_at end) as first_unsubscribe_at,
        max(_file_seq) as _file_seq
    from new_events
    group by identity_id, campaign_id, send_day
),

keyed as (
    select
        *,
        coalesce(
            {{ dbt.concat(["'c:'", 'campaign_id']) }},
            {{ dbt.concat(["'d:'", 'cast(send_day as ' ~ dbt.type_string() ~ ')']) }}
        ) as send_key
    from new_firsts
)

{% if is_incremental() -%}
select
    new.identity_id,
    new.campaign_id,
    new.send_day,
    new.send_key,
    {%- for col in ['first_sent_at', 'first_real_open_at', 'first_click_at', 'first_machine_open_at',
                    'first_unsubscribe_at'] %}
    {{ earliest('new.' ~ col, 'old.' ~ col) }} as {{ col }},
    {%- endfor %}
    {{ latest('new._file_seq', 'old._file_seq') }} as _file_seq
from keyed as new
left join {{ this }} as old
    on new.identity_id = old.identity_id
    and new.send_key = old.send_key
{%- else -%}
select
    identity_id,
    campaign_id,
    send_day,
    send_key,
    first_sent_at,
    first_real_open_at,
    first_click_at,
    first_machine_open_at,
    first_unsubscribe_at,
    _file_seq
from keyed
{%- endif %}
