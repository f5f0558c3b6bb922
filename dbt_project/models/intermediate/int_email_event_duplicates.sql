-- Raw e-mail event rows that repeat an earlier row of the same event (same event_id, or, without
-- one, the same content: address as written, type, time, campaign, device, machine flag, url, link
-- category, bounce type). Readers drop them with an anti-join; the first arrival is kept.
{{ duplicate_rows(
    ref('stg_email_events'),
    'event_id',
    ['email_as_given', 'event_type', 'occurred_at', 'campaign_id', 'device', 'is_machine_open', 'url',
     'link_category', 'bounce_type']
) }}
