{{ config(
    materialized='incremental',
    incremental_strategy=upsert_strategy(),
    unique_key='identity_id',
    on_schema_change='append_new_columns'
) }}
-- Every distinct normalised address found in any source, with its internal identity_id and its
-- published subscriber_key (SHA-256 computed here once per address, never per event). Incremental: a
-- run reads only the rows of files loaded since the newest one in the table (`_file_seq`), adds the
-- addresses seen for the first time and updates the sources of the ones it already had (a source flag
-- never goes back from true: raw rows are only ever added, or erased with the whole address by
-- `mailsift forget`). Reading a file twice changes nothing. A warehouse built before this table was
-- incremental has no `_file_seq` column: its first run reads every row, as a full build, and replaces
-- every address (the column is added then).
{%- set merge = merges_into('_file_seq') %}
{%- set new_rows = (" where _file_seq > " ~ file_watermark()) if merge else "" %}
with addresses as (
    select email, 1 as in_subscribers, 0 as in_email_events, 0 as in_orders,
        0 as in_web_events, 0 as in_preferences, max(_file_seq) as _file_seq
    from {{ ref('stg_subscribers') }}{{ new_rows }}
    group by email
    union all
    -- distinct addresses as written first (cheap on ~50M rows), normalised afterwards
    select {{ normalize_email('email_as_given') }}, 0, 1, 0, 0, 0, max(_file_seq)
    from (
        select email_as_given, max(_file_seq) as _file_seq
        from {{ ref('stg_email_events') }}{{ new_rows }}
        group by email_as_given
    ) as written
    group by {{ normalize_email('email_as_given') }}
    union all
    select email, 0, 0, 1, 0, 0, max(_file_seq)
    from {{ ref('stg_orders') }}{{ new_rows }}
    group by email
    union all
    select {{ normalize_email('email_as_given') }}, 0, 0, 0, 1, 0, max(_file_seq)
    from (
        select email_as_given, max(_file_seq) as _file_seq
        from {{ ref('stg_web_events') }}
        where email_as_given is not null{% if merge %} and _file_seq > {{ file_watermark() }}{% endif %}
        group by email_as_given
    ) as written
    group by {{ normalize_email('email_as_given') }}
    union all
    select email, 0, 0, 0, 0, 1, max(_file_seq)
    from {{ ref('stg_preferences') }}{{ new_rows }}
    group by email
),

per_address as (
    select
        email,
        max(in_subscribers) = 1 as in_subscribers,
        max(in_email_events) = 1 as in_email_events,
        max(in_orders) = 1 as in_orders,
        max(in_web_events) = 1 as in_web_events,
        max(in_preferences) = 1 as in_preferences,
        max(_file_seq) as _file_seq
    from addresses
    group by email
),

identified as (
    select {{ identity_id('email') }} as identity_id, * from per_address
)

select
    new.identity_id,
    new.email,
    {%- if merge %}
    coalesce(old.subscriber_key, {{ subscriber_key('new.email') }}) as subscriber_key,
    {%- for flag in ['in_subscribers', 'in_email_events', 'in_orders', 'in_web_events', 'in_preferences'] %}
    (new.{{ flag }} or coalesce(old.{{ flag }}, false)) as {{ flag }},
    {%- endfor %}
    {{ latest('new._file_seq', 'old._file_seq') }} as _file_seq
from identified as new
left join {{ this }} as old
    on new.identity_id = old.identity_id
    {%- else %}
    {{ subscriber_key('new.email') }} as subscriber_key,
    new.in_subscribers,
    new.in_email_events,
    new.in_orders,
    new.in_web_events,
    new.in_preferences,
    new._file_seq
from identified as new
    {%- endif %}
