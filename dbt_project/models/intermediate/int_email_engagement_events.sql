{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail') }}
-- The distinct opens and clicks (about a quarter of the e-mail event rows), every one loaded, no as_of:
-- readers keep those with occurred_at <= their as_of. Appended file by file (the rows of files loaded
-- since the newest one in the table; a distinct event never changes once loaded), so the models that
-- only look at opens and clicks (int_email_engagement_timing, the click evidence of
-- int_subscriber_affinity, subscriber_category_interest and segment_performance) no longer read the
-- sends and deliveries too.
select
    identity_id,
    campaign_id,
    event_type,
    occurred_at,
    device,
    is_machine_open,
    is_real_engagement,
    link_category,
    _file_seq
from ({{ distinct_email_events() }}) as events
where event_type in ('open', 'click')
{% if is_incremental() -%}
  and _file_seq > {{ file_watermark() }}
{%- endif %}
