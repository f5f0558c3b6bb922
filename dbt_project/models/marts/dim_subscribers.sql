-- One row per subscriber at as_of: every address with a subscriber record created up to as_of.
-- The only mart that maps subscriber_key to the e-mail address. Addresses found only in events,
-- orders, web events or preferences are not subscribers: they stay out (counted in identity_coverage).
with subscribers as (
    select * from {{ ref('int_subscribers_resolved') }}
),

identities as (
    select identity_id, subscriber_key from {{ ref('int_identities') }}
),

consent as (
    select * from {{ ref('int_subscriber_consent') }}
),

preferences as (
    select * from {{ ref('int_preferences_latest') }}
),

as_of as (
    select {{ as_of_sql() }} as as_of
)

select
    cast(identities.subscriber_key as {{ dbt.type_string() }}) as subscriber_key,
    cast(subscribers.email as {{ dbt.type_string() }}) as email,
    cast(subscribers.subscriber_id as {{ dbt.type_string() }}) as subscriber_id,
    cast(subscribers.first_name as {{ dbt.type_string() }}) as first_name,
    cast(subscribers.last_name as {{ dbt.type_string() }}) as last_name,
    cast(subscribers.signup_source as {{ dbt.type_string() }}) as signup_source,
    cast(subscribers.country as {{ dbt.type_string() }}) as country,
    cast(subscribers.region as {{ dbt.type_string() }}) as region,
    cast(subscribers.city as {{ dbt.type_string() }}) as city,
    cast(subscribers.postal_code as {{ dbt.type_string() }}) as postal_code,
    cast(subscribers.timezone as {{ dbt.type_string() }}) as timezone,
    cast(subscribers.is_timezone_fallback as boolean) as is_timezone_fallback,
    cast(subscribers.timezone_as_given as {{ dbt.type_string() }}) as timezone_as_given,
    cast(subscribers.birth_year as integer) as birth_year,
    cast(subscribers.gender as {{ dbt.type_string() }}) as gender,
    cast(subscribers.created_at as timestamp) as created_at,
    cast(consent.consent_status as {{ dbt.type_string() }}) as consent_status,
    cast(consent.consent_updated_at as timestamp) as consent_updated_at,
    cast(consent.is_mailable as boolean) as is_mailable,
    cast(consent.non_mailable_reason as {{ dbt.type_string() }}) as non_mailable_reason,
    cast(consent.non_mailable_since as timestamp) as non_mailable_since,
    cast(consent.is_unsubscribed as boolean) as is_unsubscribed,
    cast(consent.is_hard_bounced as boolean) as is_hard_bounced,
    cast(consent.has_complained as boolean) as has_complained,
    cast(preferences.preferred_frequency as {{ dbt.type_string() }}) as preferred_frequency,
    cast(preferences.preferred_topics as {{ dbt.type_string() }}) as preferred_topics,
    cast(preferences.paused_until as timestamp) as paused_until,
    cast(coalesce(preferences.paused_until > as_of.as_of, false) as boolean) as is_paused,
    cast(subscribers.source_records as bigint) as source_records,
    cast(as_of.as_of as timestamp) as as_of
from subscribers
cross join as_of
inner join identities
    on subscribers.identity_id = identities.identity_id
inner join consent
    on subscribers.identity_id = consent.identity_id
left join preferences
    on subscribers.identity_id = preferences.identity_id
