{{ config(enabled=(var('label_horizon_days', '') | string | trim) not in ('', 'None', 'none', 'null')) }}
-- TRAINING LABELS: the sends after as_of (next_sends) per subscriber x cadence at send time
-- (sends_prev_7d), with how many were really opened within 7 days. The fatigue model's backtest: its
-- prediction for a send depends only on (subscriber, sends_prev_7d), so these counts score it exactly.
select
    subscriber_key,
    sends_prev_7d,
    cast(count(*) as bigint) as sends,
    cast(sum(case when opened then 1 else 0 end) as bigint) as opens,
    cast(min(sent_at) as timestamp) as first_sent_at,
    cast(max(sent_at) as timestamp) as last_sent_at,
    cast(min(label_window_start) as timestamp) as label_window_start,
    cast(min(label_window_end) as timestamp) as label_window_end
from {{ ref('next_sends') }}
group by subscriber_key, sends_prev_7d
