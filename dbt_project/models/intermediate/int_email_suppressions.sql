-- Every event up to as_of that makes an address non-mailable from that moment: an unsubscribe, a
-- hard bounce or a spam complaint (a small table read by the consent rule).
select
    identity_id,
    occurred_at,
    case
        when event_type = 'unsubscribe' then 'unsubscribe'
        when event_type = 'spam_complaint' then 'spam_complaint'
        else 'hard_bounce'
    end as suppression_type,
    campaign_id
from {{ ref('int_email_events') }}
where event_type in ('unsubscribe', 'spam_complaint')
   or (event_type = 'bounce' and bounce_type = 'hard')
