{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail') }}
-- One row per raw web event row with its de-duplication hash and verdict, appended file by file
-- (see the event_keys macro).
{{ event_keys(
    ref('stg_web_events'),
    'event_id',
    ['email_as_given', 'anonymous_id', 'event_type', 'occurred_at', 'category', 'product_id', 'device', 'url',
     'session_id']
) }}
