{{ config(
    materialized='incremental',
    incremental_strategy=upsert_strategy(),
    unique_key=['subscriber_key', 'as_of'],
    on_schema_change='append_new_columns',
    full_refresh=false
) }}
-- Point-in-time scores: every run's subscriber_scores, kept per as_of (a rerun for the same as_of
-- replaces that day's rows), so "what was this subscriber's churn probability on 1 March" is one query:
-- the rows of the latest as_of on or before that day. Never rebuilt by --full-refresh.
select
    subscriber_key,
    as_of,
    churn_probability,
    p_alive,
    expected_orders_90d,
    predicted_clv_365d,
    purchase_probability_30d,
    open_probability_next_send,
    best_send_hour_local,
    fatigue_score,
    model_version,
    run_id
from {{ ref('subscriber_scores') }}
