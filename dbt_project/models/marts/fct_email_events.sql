{{ config(materialized='view') }}
-- One row per distinct e-mail event up to as_of (duplicate rows and overlaps between files removed),
-- for every address (subscriber or not), with the subscriber's local time.
-- Materialised as a view on purpose: at ~50M events a table copy with the 64-character
-- subscriber_key and event_id strings costs more than the whole feature build; the features read
-- the same de-duplicated events (int_email_events) straight from the raw columns.
with events as (
    select * from {{ ref('int_email_events') }}
),

identities as (
    select identity_id, subscriber_key from {{ ref('int_identities') }}
),

subscribers as (
    select identity_id, timezone from {{ ref('int_subscribers_resolved') }}
),

localised as (
    select
        events.*,
        identities.subscriber_key,
        subscribers.identity_id is not null as is_subscriber,
        {{ to_local_time('events.occurred_at', "coalesce(subscribers.timezone, '" ~ var('default_timezone') ~ "')") }}
            as occurred_at_local
    from events
    inner join identities
        on events.identity_id = identities.identity_id
    left join subscribers
        on events.identity_id = subscribers.identity_id
)

select
    -- the ESP's event id, or a deterministic one from the event's content (salted key, no address)
    cast(coalesce(
        event_id,
        'gen-' || {{ dbt.hash(dbt.concat([
            "subscriber_key", "'|'", "event_type", "'|'", "cast(occurred_at as " ~ dbt.type_string() ~ ")", "'|'",
            "coalesce(campaign_id, '')", "'|'", "coalesce(url, '')", "'|'", "coalesce(bounce_type, '')", "'|'",
            "coalesce(device, '')", "'|'", "coalesce(link_category, '')", "'|'",
            "cast(is_machine_open as " ~ dbt.type_string() ~ ")"])) }}
    ) as {{ dbt.type_string() }}) as event_id,
    cast(subscriber_key as {{ dbt.type_string() }}) as subscriber_key,
    cast(is_subscriber as boolean) as is_subscriber,
    cast(campaign_id as {{ dbt.type_string() }}) as campaign_id,
    cast(event_type as {{ dbt.type_string() }}) as event_type,
    cast(occurred_at as timestamp) as occurred_at,
    cast(occurred_at_local as timestamp) as occurred_at_local,
    cast(extract(hour from occurred_at_local) as integer) as local_hour,
    cast({{ day_of_week_monday0('occurred_at_local') }} as integer) as local_dow,
    cast(device as {{ dbt.type_string() }}) as device,
    cast(is_machine_open as boolean) as is_machine_open,
    cast(is_real_engagement as boolean) as is_real_engagement,
    cast(url as {{ dbt.type_string() }}) as url,
    cast(link_category as {{ dbt.type_string() }}) as link_category,
    cast(bounce_type as {{ dbt.type_string() }}) as bounce_type
from localised
