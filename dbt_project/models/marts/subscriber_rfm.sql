-- Classic RFM scores and segment of every subscriber at as_of (rules in int_subscriber_segments and
-- the YAML).
select
    cast(subscriber_key as {{ dbt.type_string() }}) as subscriber_key,
    cast(as_of as timestamp) as as_of,
    cast(is_buyer as boolean) as is_buyer,
    cast(days_since_last_order as integer) as recency_days,
    cast(orders_total as bigint) as frequency,
    cast(revenue_total as double) as monetary,
    cast(last_order_at as timestamp) as last_order_at,
    cast(r_score as integer) as r_score,
    cast(f_score as integer) as f_score,
    cast(m_score as integer) as m_score,
    cast(fm_score as integer) as fm_score,
    cast(rfm_segment as {{ dbt.type_string() }}) as rfm_segment
from {{ ref('int_subscriber_segments') }}
