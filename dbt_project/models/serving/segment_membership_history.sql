{{ config(
    materialized='incremental',
    incremental_strategy=upsert_strategy(),
    unique_key=['subscriber_key', 'valid_from'],
    on_schema_change='append_new_columns',
    full_refresh=false
) }}
-- Point-in-time segment membership: one row per subscriber per stretch of time in one micro segment,
-- valid from the as_of of the assignment that put them there until (excluding) the as_of of the one
-- that moved them; valid_to is NULL while it lasts. Each build compares today's assignment with each
-- subscriber's open row: a mover's open row is closed and a new one opened; everyone else is left
-- alone, so the table grows with the moves, not with the runs. Never rebuilt by --full-refresh.
-- A rebuild for the same as_of (a rerun, a retrain on the same data) replaces that day's new rows;
-- an as_of earlier than a subscriber's open row (a back-fill) leaves their history as it is.
with current_assignment as (
    select
        subscriber_key,
        macro_segment_id,
        micro_segment_id,
        model_version,
        as_of
    from {{ ref('subscriber_segments') }}
    where micro_segment_id is not null
),

today as (
    select max(as_of) as as_of from current_assignment
)

{% if is_incremental() %}
,

open_rows as (
    select * from {{ this }} where valid_to is null
),

moved_in as (
    select current_assignment.*
    from current_assignment
    left join open_rows
        on current_assignment.subscriber_key = open_rows.subscriber_key
    where open_rows.subscriber_key is null
       or (open_rows.micro_segment_id <> current_assignment.micro_segment_id
           and open_rows.valid_from <= current_assignment.as_of)
),

closed as (
    select
        open_rows.subscriber_key,
        open_rows.macro_segment_id,
        open_rows.micro_segment_id,
        open_rows.model_version,
        open_rows.valid_from,
        today.as_of as valid_to,
        open_rows.run_id
    from open_rows
    cross join today
    left join current_assignment
        on open_rows.subscriber_key = current_assignment.subscriber_key
    where open_rows.valid_from < today.as_of
      and (current_assignment.subscriber_key is null
           or current_assignment.micro_segment_id <> open_rows.micro_segment_id)
)

select
    cast(subscriber_key as {{ dbt.type_string() }}) as subscriber_key,
    cast(macro_segment_id as {{ dbt.type_string() }}) as macro_segment_id,
    cast(micro_segment_id as {{ dbt.type_string() }}) as micro_segment_id,
    cast(model_version as {{ dbt.type_string() }}) as model_version,
    cast(valid_from as timestamp) as valid_from,
    cast(valid_to as timestamp) as valid_to,
    cast(run_id as {{ dbt.type_string() }}) as run_id
from closed

union all
{% endif %}

select
    cast(subscriber_key as {{ dbt.type_string() }}) as subscriber_key,
    cast(macro_segment_id as {{ dbt.type_string() }}) as macro_segment_id,
    cast(micro_segment_id as {{ dbt.type_string() }}) as micro_segment_id,
    cast(model_version as {{ dbt.type_string() }}) as model_version,
    cast(as_of as timestamp) as valid_from,
    cast(null as timestamp) as valid_to,
    cast('{{ env_var("MAILSIFT_RUN_ID", "manual") }}' as {{ dbt.type_string() }}) as run_id
from {% if is_incremental() %}moved_in{% else %}current_assignment{% endif %}
