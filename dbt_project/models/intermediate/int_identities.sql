-- Every distinct normalised address found in any source, with its internal identity_id and its
-- published subscriber_key (SHA-256 computed here once per address, never per event).
with addresses as (
    select distinct email, 1 as in_subscribers, 0 as in_email_events, 0 as in_orders,
        0 as in_web_events, 0 as in_preferences
    from {{ ref('stg_subscribers') }}
    union all
    -- distinct addresses as written first (cheap on ~50M rows), normalised afterwards
    select distinct {{ normalize_email('email_as_given') }}, 0, 1, 0, 0, 0
    from (select distinct email_as_given from {{ ref('stg_email_events') }}) as written
    union all
    select distinct email, 0, 0, 1, 0, 0 from {{ ref('stg_orders') }}
    union all
    select distinct {{ normalize_email('email_as_given') }}, 0, 0, 0, 1, 0
    from (select distinct email_as_given from {{ ref('stg_web_events') }} where email_as_given is not null) as written
    union all
    select distinct email, 0, 0, 0, 0, 1 from {{ ref('stg_preferences') }}
),

per_address as (
    select
        email,
        max(in_subscribers) = 1 as in_subscribers,
        max(in_email_events) = 1 as in_email_events,
        max(in_orders) = 1 as in_orders,
        max(in_web_events) = 1 as in_web_events,
        max(in_preferences) = 1 as in_preferences
    from addresses
    group by email
)

select
    {{ identity_id('email') }} as identity_id,
    email,
    {{ subscriber_key('email') }} as subscriber_key,
    in_subscribers,
    in_email_events,
    in_orders,
    in_web_events,
    in_preferences
from per_address
