{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail') }}
-- Raw web event rows that repeat an earlier row of the same event (same event_id, or, without one,
-- the same content); the first arrival is kept. Appended from int_web_event_keys as new files arrive.
{{ duplicates_from_keys(ref('int_web_event_keys')) }}
