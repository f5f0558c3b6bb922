-- One row per subscriber: the champion scoring models' predictions as of the profiles' as_of
-- (orchestration/assets/scores.py writes ml.subscriber_scores; this adds the contract's run columns).
select
    profiles.subscriber_key,
    cast(scores.churn_probability as double) as churn_probability,
    cast(scores.p_alive as double) as p_alive,
    cast(scores.expected_orders_90d as double) as expected_orders_90d,
    cast(scores.predicted_clv_365d as double) as predicted_clv_365d,
    cast(scores.purchase_probability_30d as double) as purchase_probability_30d,
    cast(scores.open_probability_next_send as double) as open_probability_next_send,
    cast(scores.best_send_hour_local as integer) as best_send_hour_local,
    cast(scores.best_send_dow as integer) as best_send_dow,
    cast(scores.fatigue_score as double) as fatigue_score,
    cast(scores.recommended_max_emails_per_week as integer) as recommended_max_emails_per_week,
    cast(scores.top_content_affinity as {{ dbt.type_string() }}) as top_content_affinity,
    cast(scores.model_version as {{ dbt.type_string() }}) as model_version,
    profiles.as_of,
    cast('{{ env_var("MAILSIFT_RUN_ID", "manual") }}' as {{ dbt.type_string() }}) as run_id
from {{ ref('subscriber_profiles') }} as profiles
left join {{ source('ml', 'subscriber_scores') }} as scores
    on profiles.subscriber_key = scores.subscriber_key
