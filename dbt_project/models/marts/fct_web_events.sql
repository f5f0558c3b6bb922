{{ config(materialized='view') }}
-- One row per distinct web event up to as_of; subscriber_key is NULL for anonymous visitors whose
-- anonymous_id could not be stitched to exactly one address. A view over the raw layer, like
-- fct_email_events: tens of millions of rows with long strings are not copied on every build.
with events as (
    select * from {{ ref('int_web_events') }}
),

identities as (
    select identity_id, subscriber_key from {{ ref('int_identities') }}
)

select
    cast(events.event_id as {{ dbt.type_string() }}) as event_id,
    cast(identities.subscriber_key as {{ dbt.type_string() }}) as subscriber_key,
    cast(events.is_stitched as boolean) as is_stitched,
    cast(events.anonymous_id as {{ dbt.type_string() }}) as anonymous_id,
    cast(events.session_id as {{ dbt.type_string() }}) as session_id,
    cast(events.event_type as {{ dbt.type_string() }}) as event_type,
    cast(events.occurred_at as timestamp) as occurred_at,
    cast(events.category as {{ dbt.type_string() }}) as category,
    cast(events.product_id as {{ dbt.type_string() }}) as product_id,
    cast(events.device as {{ dbt.type_string() }}) as device,
    cast(events.url as {{ dbt.type_string() }}) as url
from events
left join identities
    on events.identity_id = identities.identity_id
