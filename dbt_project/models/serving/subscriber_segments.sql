-- One row per subscriber: the champion segmentation's macro and micro segment, beside the rule-based
-- lifecycle and RFM baselines, as of the profiles' as_of. Every profiled subscriber appears; a
-- subscriber without an assignment would show NULL ids and fail the not_null tests.
select
    profiles.subscriber_key,
    assignments.macro_segment_id,
    assignments.macro_segment_name,
    assignments.micro_segment_id,
    assignments.micro_segment_name,
    cast(assignments.segment_confidence as double) as segment_confidence,
    assignments.segment_reason,
    profiles.lifecycle_stage,
    profiles.rfm_segment,
    cast(assignments.assigned_at as timestamp) as assigned_at,
    cast(assignments.model_version as {{ dbt.type_string() }}) as model_version,
    profiles.as_of,
    cast('{{ env_var("MAILSIFT_RUN_ID", "manual") }}' as {{ dbt.type_string() }}) as run_id
from {{ ref('subscriber_profiles') }} as profiles
left join {{ source('ml', 'segment_assignments') }} as assignments
    on profiles.subscriber_key = assignments.subscriber_key
