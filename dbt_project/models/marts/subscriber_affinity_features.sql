{{ config(materialized='view') }}
-- Long-format affinities: one row per subscriber x dimension x value with evidence
-- (content_topic, offer_type: campaign sends and clicked sends; category: clicks on links of the
-- category plus purchased order lines). Rules in int_subscriber_affinity and the YAML. A view over
-- int_subscriber_affinity (about a dozen rows per subscriber): the table is written once, there.
with affinity as (
    select * from {{ ref('int_subscriber_affinity') }}
    where dimension in ('content_topic', 'offer_type', 'category')
),

identities as (
    select identity_id, subscriber_key from {{ ref('int_identities') }}
)

select
    cast(identities.subscriber_key as {{ dbt.type_string() }}) as subscriber_key,
    cast(affinity.dimension as {{ dbt.type_string() }}) as dimension,
    cast(affinity.value as {{ dbt.type_string() }}) as value,
    cast(affinity.sends as bigint) as sends,
    cast(affinity.clicks as bigint) as clicks,
    cast(affinity.click_rate_smoothed as double) as click_rate_smoothed,
    cast(affinity.list_rate as double) as list_rate,
    cast(affinity.lift as double) as lift,
    cast({{ as_of_sql() }} as timestamp) as as_of
from affinity
inner join identities
    on affinity.identity_id = identities.identity_id
