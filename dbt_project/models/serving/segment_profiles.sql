-- One row per macro and micro segment of the champion segmentation: traits, name, description,
-- recommendations, size and share in the current assignment. recommended_content is the topic and the
-- offer type with the best shrunk click rate in the segment's campaign history (segment_content_response),
-- else the model's profile-based guess. avg_clv and avg_churn_probability are the means of the
-- members' predicted_clv_365d and churn_probability (ml.subscriber_scores).
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
),

member_scores as (
    select assignments.macro_segment_id, assignments.micro_segment_id, scores.predicted_clv_365d,
           scores.churn_probability
    from {{ source('ml', 'segment_assignments') }} as assignments
    inner join {{ source('ml', 'subscriber_scores') }} as scores
        on assignments.subscriber_key = scores.subscriber_key
),

segment_scores as (
    select macro_segment_id as segment_id, avg(predicted_clv_365d) as avg_clv,
           avg(churn_probability) as avg_churn_probability
    from member_scores group by macro_segment_id
    union all
    select micro_segment_id, avg(predicted_clv_365d), avg(churn_probability)
    from member_scores group by micro_segment_id
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
    cast(segment_scores.avg_clv as double) as avg_clv,
    cast(segment_scores.avg_churn_probability as double) as avg_churn_probability,
    cast(catalog.model_version as {{ dbt.type_string() }}) as model_version,
    as_of.as_of,
    cast('{{ env_var("MAILSIFT_RUN_ID", "manual") }}' as {{ dbt.type_string() }}) as run_id
from {{ source('ml', 'segment_catalog') }} as catalog
left join best_content
    on catalog.segment_id = best_content.segment_id
left join segment_scores
    on catalog.segment_id = segment_scores.segment_id
cross join as_of
