-- When and on which device each address is active across channels, up to as_of: its real e-mail
-- engagements (from int_email_engagement_timing), its web sessions (one per session, at the session's
-- first event, on that event's device) and its orders (not cancelled; no device), by local hour and
-- local weekday (0 = Monday) in the subscriber's resolved time zone. An address that never opens still
-- shows its daily rhythm when it browses or buys; the segmentation reads these shares.
{%- set count_cols = ['events'] %}
{%- for h in range(24) %}{% do count_cols.append('hour_%02d' % h) %}{% endfor %}
{%- for d in range(7) %}{% do count_cols.append('dow_%d' % d) %}{% endfor %}
{%- do count_cols.extend(['mobile', 'desktop', 'tablet']) %}
with subscribers as (
    select identity_id, timezone from {{ ref('int_subscribers_resolved') }}
),

web_sessions as (
    select
        identity_id,
        min(occurred_at) as occurred_at,
        min(device) as device
    from {{ ref('int_web_events') }}
    where identity_id is not null
    -- an event without a session is a session of its own
    group by identity_id, coalesce(session_id, event_id)
),

orders as (
    select identity_id, ordered_at as occurred_at, cast(null as {{ dbt.type_string() }}) as device
    from {{ ref('int_orders') }}
    where identity_id is not null
      and coalesce(status, 'completed') != 'cancelled'
),

activities as (
    select identity_id, occurred_at, device from web_sessions
    union all
    select identity_id, occurred_at, device from orders
),

localised as (
    select
        activities.identity_id,
        activities.device,
        {{ to_local_time('activities.occurred_at',
            "coalesce(subscribers.timezone, '" ~ var('default_timezone') ~ "')") }} as occurred_at_local
    from activities
    left join subscribers
        on activities.identity_id = subscribers.identity_id
),

site_counts as (
    select
        identity_id,
        count(*) as events,
        {%- for h in range(24) %}
        count(case when extract(hour from occurred_at_local) = {{ h }} then 1 end) as hour_{{ '%02d' % h }},
        {%- endfor %}
        {%- for d in range(7) %}
        count(case when {{ day_of_week_monday0('occurred_at_local') }} = {{ d }} then 1 end) as dow_{{ d }},
        {%- endfor %}
        {%- for device in ['mobile', 'desktop', 'tablet'] %}
        count(case when device = '{{ device }}' then 1 end) as {{ device }}{{ ',' if not loop.last }}
        {%- endfor %}
    from localised
    group by identity_id
),

email_counts as (
    select
        identity_id,
        engagement_events as events,
        {%- for h in range(24) %}
        eng_hour_{{ '%02d' % h }}_events as hour_{{ '%02d' % h }},
        {%- endfor %}
        {%- for d in range(7) %}
        eng_dow_{{ d }}_events as dow_{{ d }},
        {%- endfor %}
        {%- for device in ['mobile', 'desktop', 'tablet'] %}
        {{ device }}_engagement_events as {{ device }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ ref('int_email_engagement_timing') }}
    where engagement_events > 0
),

counts as (
    select
        identity_id,
        sum(events) as events,
        {%- for h in range(24) %}
        sum(hour_{{ '%02d' % h }}) as hour_{{ '%02d' % h }},
        {%- endfor %}
        {%- for d in range(7) %}
        sum(dow_{{ d }}) as dow_{{ d }},
        {%- endfor %}
        {%- for device in ['mobile', 'desktop', 'tablet'] %}
        sum({{ device }}) as {{ device }},
        {%- endfor %}
        sum(mobile + desktop + tablet) as device_events
    from (
        select identity_id, {{ count_cols | join(', ') }} from email_counts
        union all
        select identity_id, {{ count_cols | join(', ') }} from site_counts
    ) as both_channels
    group by identity_id
)

select
    identity_id,
    cast(events as bigint) as activity_events_total,
    {%- for h in range(24) %}
    coalesce({{ safe_divide('hour_%02d' % h, 'events') }}, 0) as act_hour_{{ '%02d' % h }},
    {%- endfor %}
    {%- for d in range(7) %}
    coalesce({{ safe_divide('dow_%d' % d, 'events') }}, 0) as act_dow_{{ d }},
    {%- endfor %}
    {%- for device in ['mobile', 'desktop', 'tablet'] %}
    coalesce({{ safe_divide(device, 'device_events') }}, 0) as act_share_{{ device }}{{ ',' if not loop.last }}
    {%- endfor %}
from counts
