{{ config(materialized='view') }}
-- Distinct e-mail events up to as_of: raw rows minus the duplicates found by
-- int_email_event_duplicates, machine opens flagged (macro distinct_email_events, shared with the
-- training labels). A view: every reader aggregates straight from the raw columns it needs (one pass
-- each), nothing 50M rows wide is written twice.
{{ distinct_email_events(until=as_of_sql()) }}
