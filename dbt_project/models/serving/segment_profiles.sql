-- One row per macro and micro segment of the champion segmentation: traits, name, description,
-- recommendations, size and share in the current assignment. recommended_content is the topic and the
-- offer type with the best shrunk click rate in the segment's campaign history (segment_content_response),
-- else the model's profile-based guess. avg_clv and avg_churn_probability stay NULL until subscriber
-- scores exist (the predictive-scores issue).
with as_of as (
    select as_of from {{ ref('int_as_of') }}
),

ranked_response as (
    select
        segment_id,
        dimension,
        value,
        row_number() over (
            partition by segment_id, dimension order by click_rate_shrunk desc, value
        ) as best
    from {{ source('ml', 'segment_content_response') }}
),

best_content as (
    select
        segment_id,
        max(case when dimension = 'content_topic' then value end) as best_topic,
        max(case when dimension = 'offer_type' then value end) as best_offer
    from ranked_response
    where best = 1
    group by segment_id
)

select
    catalog.segment_id,
    catalog.level,
    catalog.parent_segment_id,
    catalog.name,
    catalog.description,
    cast(catalog.size as bigint) as size,
    cast(catalog.share as double) as share,
    catalog.key_traits,
    cast(catalog.recommended_send_hour as integer) as recommended_send_hour,
    case
        when best_content.best_topic is not null and best_content.best_offer is not null
            then 'topic: ' || best_content.best_topic || '; offer: ' || best_content.best_offer
        else catalog.recommended_content
    end as recommended_content,
    cast(catalog.recommended_cadence as double) as recommended_cadence,
    cast(null as double) as avg_clv,
    cast(null as double) as avg_churn_probability,
    cast(catalog.model_version as {{ dbt.type_string() }}) as model_version,
    as_of.as_of,
    cast('{{ env_var("MAILSIFT_RUN_ID", "manual") }}' as {{ dbt.type_string() }}) as run_id
from {{ source('ml', 'segment_catalog') }} as catalog
left join best_content
    on catalog.segment_id = best_content.segment_id
cross join as_of
