-- Serving table (data contract): one row per subscriber move between segments, read from
-- segment_membership_history -- every stretch that followed another stretch of the same subscriber.
-- Segment ids are micro segment ids (a micro id names its macro segment: M03-02 is inside M03); the
-- macro ids are given too, so a move inside one macro segment is told from a move between two.
-- A subscriber's first assignment is not a move.
with stretches as (
    select
        subscriber_key,
        macro_segment_id,
        micro_segment_id,
        model_version,
        valid_from,
        lag(micro_segment_id) over (partition by subscriber_key order by valid_from) as from_segment_id,
        lag(macro_segment_id) over (partition by subscriber_key order by valid_from) as from_macro_segment_id
    from {{ ref('segment_membership_history') }}
)

select
    cast(stretches.subscriber_key as {{ dbt.type_string() }}) as subscriber_key,
    cast(stretches.from_segment_id as {{ dbt.type_string() }}) as from_segment_id,
    cast(stretches.micro_segment_id as {{ dbt.type_string() }}) as to_segment_id,
    cast(stretches.valid_from as timestamp) as moved_at,
    cast(stretches.from_macro_segment_id as {{ dbt.type_string() }}) as from_macro_segment_id,
    cast(stretches.macro_segment_id as {{ dbt.type_string() }}) as to_macro_segment_id,
    cast(stretches.model_version as {{ dbt.type_string() }}) as model_version,
    as_of.as_of,
    cast('{{ env_var("MAILSIFT_RUN_ID", "manual") }}' as {{ dbt.type_string() }}) as run_id
from stretches
cross join (select as_of from {{ ref('int_as_of') }}) as as_of
where stretches.from_segment_id is not null
