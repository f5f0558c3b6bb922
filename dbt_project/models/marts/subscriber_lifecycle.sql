-- Rule-based lifecycle stage of every subscriber at as_of (rules in int_subscriber_segments and the
-- YAML): new, active, at_risk, lapsed, engaged_non_buyer, dormant.
select
    cast(subscriber_key as {{ dbt.type_string() }}) as subscriber_key,
    cast(as_of as timestamp) as as_of,
    cast(lifecycle_stage as {{ dbt.type_string() }}) as lifecycle_stage,
    cast(is_buyer as boolean) as is_buyer,
    cast(tenure_days as integer) as tenure_days,
    cast(days_since_last_order as integer) as days_since_last_order,
    cast(days_since_last_engagement as integer) as days_since_last_engagement,
    cast(last_engagement_at as timestamp) as last_engagement_at
from {{ ref('int_subscriber_segments') }}
