{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail') }}
-- One row per raw e-mail event row with its de-duplication hash and verdict, appended file by file
-- (see the event_keys macro): the incremental heart of the event models.
{{ event_keys(
    ref('stg_email_events'),
    'event_id',
    ['email_as_given', 'event_type', 'occurred_at', 'campaign_id', 'device', 'is_machine_open', 'url',
     'link_category', 'bounce_type']
) }}
