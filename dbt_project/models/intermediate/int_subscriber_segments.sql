-- The rule-based baselines of every subscriber at as_of, computed once (published by the marts
-- subscriber_lifecycle and subscriber_rfm, joined into subscriber_profiles).
--
-- Lifecycle stage, first matching rule wins ("engaged" = a real open, a click or an identified web
-- visit; purchases exclude refunded and cancelled orders):
--   new               tenure_days < 30
--   active            last purchase <= 90 days ago
--   at_risk           last purchase 91-180 days ago
--   lapsed            last purchase 181-365 days ago, or an older buyer who engaged in the last 90 days
--   engaged_non_buyer never purchased, engaged in the last 90 days
--   dormant           everything else
--
-- RFM: scores 1-5 are quintiles over buyers, score = 1 + floor(5 * percent_rank()) capped at 5,
-- ordered so that 5 is best (latest last purchase, most purchases, most revenue); ties share the lower
-- score. fm_score = round-half-up of (f_score + m_score) / 2. Segment from the R x FM grid:
--           FM=1            FM=2                FM=3                FM=4          FM=5
--   R=5     new_customer    potential_loyalist  potential_loyalist  champions     champions
--   R=4     promising       potential_loyalist  potential_loyalist  loyal         champions
--   R=3     about_to_sleep  about_to_sleep      need_attention      loyal         loyal
--   R=2     hibernating     hibernating         at_risk             at_risk       cannot_lose
--   R=1     lost            lost                at_risk             cannot_lose   cannot_lose
-- Non-buyers: NULL scores, segment non_buyer.
with recency as (
    select * from {{ ref('int_subscriber_recency') }}
),

buyers as (
    select
        identity_id,
        least(5, 1 + cast(floor(5 * percent_rank() over (order by last_order_at)) as integer)) as r_score,
        least(5, 1 + cast(floor(5 * percent_rank() over (order by orders_total)) as integer)) as f_score,
        least(5, 1 + cast(floor(5 * percent_rank() over (order by revenue_total)) as integer)) as m_score
    from recency
    where orders_total > 0
),

scored as (
    select
        recency.*,
        buyers.r_score,
        buyers.f_score,
        buyers.m_score,
        cast(floor((buyers.f_score + buyers.m_score + 1) / 2) as integer) as fm_score
    from recency
    left join buyers
        on recency.identity_id = buyers.identity_id
)

select
    identity_id,
    subscriber_key,
    as_of,
    case
        when tenure_days < 30 then 'new'
        when days_since_last_order <= 90 then 'active'
        when days_since_last_order <= 180 then 'at_risk'
        when days_since_last_order <= 365 then 'lapsed'
        when orders_total > 0 and days_since_last_engagement <= 90 then 'lapsed'
        when orders_total = 0 and days_since_last_engagement <= 90 then 'engaged_non_buyer'
        else 'dormant'
    end as lifecycle_stage,
    orders_total > 0 as is_buyer,
    tenure_days,
    orders_total,
    revenue_total,
    last_order_at,
    days_since_last_order,
    last_engagement_at,
    days_since_last_engagement,
    r_score,
    f_score,
    m_score,
    fm_score,
    case
        when r_score is null then 'non_buyer'
        when r_score = 5 and fm_score = 1 then 'new_customer'
        when r_score = 5 and fm_score in (2, 3) then 'potential_loyalist'
        when r_score = 5 then 'champions'
        when r_score = 4 and fm_score = 1 then 'promising'
        when r_score = 4 and fm_score in (2, 3) then 'potential_loyalist'
        when r_score = 4 and fm_score = 4 then 'loyal'
        when r_score = 4 then 'champions'
        when r_score = 3 and fm_score in (1, 2) then 'about_to_sleep'
        when r_score = 3 and fm_score = 3 then 'need_attention'
        when r_score = 3 then 'loyal'
        when r_score = 2 and fm_score in (1, 2) then 'hibernating'
        when r_score = 2 and fm_score in (3, 4) then 'at_risk'
        when r_score = 2 then 'cannot_lose'
        when fm_score in (1, 2) then 'lost'
        when fm_score = 3 then 'at_risk'
        else 'cannot_lose'
    end as rfm_segment
from scored
