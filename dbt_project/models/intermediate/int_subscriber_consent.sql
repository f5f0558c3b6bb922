-- Consent state of every subscriber at as_of, by the contract's rule.
--
-- An unsubscribe, hard bounce or spam complaint event makes the address non-mailable from that moment,
-- whatever a later import says, until a newer explicit `subscribed` consent (consent_updated_at later
-- than the event) arrives. Otherwise the resolved consent_status decides: subscribed (or missing: an
-- address on the subscriber list without a status counts as subscribed) is mailable; unsubscribed,
-- cleaned and pending are not.
with subscribers as (
    select * from {{ ref('int_subscribers_resolved') }}
),

suppressions as (
    select * from {{ ref('int_email_suppressions') }}
),

-- suppression events not lifted by a newer explicit subscribed consent
active_suppressions as (
    select
        suppressions.identity_id,
        suppressions.occurred_at,
        suppressions.suppression_type,
        row_number() over (
            partition by suppressions.identity_id
            order by
                suppressions.occurred_at,
                case suppressions.suppression_type
                    when 'spam_complaint' then 1 when 'unsubscribe' then 2 else 3 end
        ) as spell_order
    from suppressions
    inner join subscribers
        on suppressions.identity_id = subscribers.identity_id
    where subscribers.latest_subscribed_consent_at is null
       or suppressions.occurred_at > subscribers.latest_subscribed_consent_at
),

per_subscriber as (
    select
        identity_id,
        min(occurred_at) as suppressed_since,
        max(case when spell_order = 1 then suppression_type end) as suppression_reason,
        max(case when suppression_type = 'unsubscribe' then 1 else 0 end) = 1 as has_active_unsubscribe,
        max(case when suppression_type = 'hard_bounce' then 1 else 0 end) = 1 as has_active_hard_bounce
    from active_suppressions
    group by identity_id
),

complaints as (
    select identity_id, min(occurred_at) as first_complaint_at
    from suppressions
    where suppression_type = 'spam_complaint'
    group by identity_id
),

final as (
    select
        subscribers.identity_id,
        subscribers.consent_status,
        subscribers.consent_updated_at,
        subscribers.latest_subscribed_consent_at,
        per_subscriber.suppressed_since is null
            and coalesce(subscribers.consent_status, 'subscribed') = 'subscribed' as is_mailable,
        case
            when per_subscriber.suppressed_since is not null then per_subscriber.suppression_reason
            when subscribers.consent_status in ('unsubscribed', 'cleaned', 'pending')
                then 'consent_' || subscribers.consent_status
        end as non_mailable_reason,
        case
            when per_subscriber.suppressed_since is not null then per_subscriber.suppressed_since
            when subscribers.consent_status in ('unsubscribed', 'cleaned', 'pending')
                then subscribers.consent_updated_at
        end as non_mailable_since,
        coalesce(per_subscriber.has_active_unsubscribe, false)
            or coalesce(subscribers.consent_status = 'unsubscribed', false) as is_unsubscribed,
        coalesce(per_subscriber.has_active_hard_bounce, false)
            or coalesce(subscribers.consent_status = 'cleaned', false) as is_hard_bounced,
        complaints.first_complaint_at is not null as has_complained
    from subscribers
    left join per_subscriber
        on subscribers.identity_id = per_subscriber.identity_id
    left join complaints
        on subscribers.identity_id = complaints.identity_id
)

select * from final
