-- Raw web event rows that repeat an earlier row of the same event (same event_id, or, without one,
-- the same content); the first arrival is kept.
{{ duplicate_rows(
    ref('stg_web_events'),
    'event_id',
    ['email_as_given', 'anonymous_id', 'event_type', 'occurred_at', 'category', 'product_id', 'device', 'url',
     'session_id']
) }}
