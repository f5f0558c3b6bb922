{{ config(meta={'dagster': {'ref': {'name': 'subscriber_profiles'}}}) }}
-- Point in time: no timestamp describing the past in any mart lies after as_of (nothing after as_of
-- may leak into a mart). Returns one row per offending column.
with as_of as (
    select as_of from {{ ref('int_as_of') }}
),

checks as (
    {%- set checks = [
        ('subscriber_profiles', ['created_at', 'first_order_at', 'last_order_at', 'last_open_at', 'last_click_at',
                                 'last_visit_at', 'first_send_at', 'last_send_at', 'last_engagement_at']),
        ('dim_subscribers', ['created_at', 'consent_updated_at', 'non_mailable_since']),
        ('subscriber_lifecycle', ['last_engagement_at']),
        ('subscriber_rfm', ['last_order_at']),
        ('fct_orders', ['ordered_at']),
        ('fct_order_items', ['ordered_at']),
        ('fct_web_events', ['occurred_at']),
        ('campaign_performance', ['sent_at']),
        ('int_email_activity', ['last_send_at']),
        ('int_email_engagement_timing', ['last_real_open_at', 'last_click_at']),
        ('int_email_engagements', ['first_real_open_at', 'first_click_at', 'first_engaged_at']),
    ] %}
    {%- for model, columns in checks %}
    {%- set outer_loop = loop %}
    {%- for column in columns %}
    select '{{ model }}.{{ column }}' as checked_column, max({{ column }}) as latest_value
    from {{ ref(model) }}
    {%- if not (outer_loop.last and loop.last) %}
    union all
    {%- endif %}
    {%- endfor %}
    {%- endfor %}
)

select checks.checked_column, checks.latest_value, as_of.as_of
from checks
cross join as_of
where checks.latest_value > as_of.as_of
