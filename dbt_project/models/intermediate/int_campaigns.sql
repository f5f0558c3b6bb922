-- One row per campaign: the latest restatement (file arrival, then line) wins. Not filtered by as_of
-- (campaign metadata); readers keep sends up to as_of.
with ranked as (
    select
        *,
        row_number() over (partition by campaign_id order by _file_seq desc, _line_number desc) as version_rank
    from {{ ref('stg_campaigns') }}
)

select
    campaign_id,
    sent_at,
    campaign_name,
    subject,
    channel,
    content_topic,
    offer_type,
    discount_pct,
    coalesce(is_automated, false) as is_automated,
    variant,
    (offer_type = 'discount' or coalesce(discount_pct, 0) > 0) as is_discount
from ranked
where version_rank = 1
