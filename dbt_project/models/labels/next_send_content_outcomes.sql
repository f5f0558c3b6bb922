{{ config(enabled=(var('label_horizon_days', '') | string | trim) not in ('', 'None', 'none', 'null')) }}
-- TRAINING LABELS: the sends after as_of (next_sends) per subscriber x content topic x offer type, with
-- how many were clicked within 7 days. The content-affinity model's backtest: its click probability
-- for a send depends only on (subscriber, topic, offer type), so these counts score it exactly.
select
    subscriber_key,
    content_topic,
    offer_type,
    cast(count(*) as bigint) as sends,
    cast(sum(case when clicked then 1 else 0 end) as bigint) as clicks,
    cast(min(sent_at) as timestamp) as first_sent_at,
    cast(max(sent_at) as timestamp) as last_sent_at,
    cast(min(label_window_start) as timestamp) as label_window_start,
    cast(min(label_window_end) as timestamp) as label_window_end
from {{ ref('next_sends') }}
group by subscriber_key, content_topic, offer_type
