{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail') }}
-- Raw e-mail event rows that repeat an earlier row of the same event (same event_id, or, without
-- one, the same content: address as written, type, time, campaign, device, machine flag, url, link
-- category, bounce type). Readers drop them with an anti-join; the first arrival is kept. Appended
-- from int_email_event_keys as new files arrive.
{{ duplicates_from_keys(ref('int_email_event_keys')) }}
