-- Subscriber x dimension x value: the champion content-affinity model's click probability for a campaign
-- of that content topic or offer type, and the sends of that kind it is based on.
select
    affinities.subscriber_key,
    cast(affinities.dimension as {{ dbt.type_string() }}) as dimension,
    cast(affinities.value as {{ dbt.type_string() }}) as value,
    cast(affinities.affinity as double) as affinity,
    cast(affinities.evidence_sends as bigint) as evidence_sends,
    profiles.as_of,
    cast('{{ env_var("MAILSIFT_RUN_ID", "manual") }}' as {{ dbt.type_string() }}) as run_id
from {{ source('ml', 'subscriber_affinities') }} as affinities
inner join {{ ref('subscriber_profiles') }} as profiles
    on affinities.subscriber_key = profiles.subscriber_key
