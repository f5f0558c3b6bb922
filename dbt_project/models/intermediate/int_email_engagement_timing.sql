-- Opens and clicks per address up to as_of, in one pass over those events: event counts, latest real
-- open and click, and the real engagement events (real opens and clicks; machine opens excluded)
-- by local hour, local weekday (0 = Monday) and device. Local time uses the subscriber's resolved
-- time zone (var default_timezone for addresses that are not subscribers).
with engagement_events as (
    select identity_id, event_type, occurred_at, device, is_machine_open, is_real_engagement
    from {{ ref('int_email_engagement_events') }}
    where occurred_at <= {{ as_of_sql() }}
),

subscribers as (
    select identity_id, timezone from {{ ref('int_subscribers_resolved') }}
),

localised as (
    select
        engagement_events.*,
        case
            when engagement_events.is_real_engagement then {{ to_local_time('engagement_events.occurred_at',
                "coalesce(subscribers.timezone, '" ~ var('default_timezone') ~ "')") }}
        end as occurred_at_local
    from engagement_events
    left join subscribers
        on engagement_events.identity_id = subscribers.identity_id
),

enriched as (
    select
        *,
        extract(hour from occurred_at_local) as local_hour,
        {{ day_of_week_monday0('occurred_at_local') }} as local_dow
    from localised
)

select
    identity_id,
    count(case when is_real_engagement then 1 end) as engagement_events,
    count(case when event_type = 'open' and is_real_engagement then 1 end) as real_open_events,
    count(case when event_type = 'click' then 1 end) as click_events,
    count(case when is_machine_open then 1 end) as machine_open_events,
    max(case when event_type = 'open' and is_real_engagement then occurred_at end) as last_real_open_at,
    max(case when event_type = 'click' then occurred_at end) as last_click_at,
    {%- for h in range(24) %}
    count(case when local_hour = {{ h }} then 1 end) as eng_hour_{{ '%02d' % h }}_events,
    {%- endfor %}
    {%- for d in range(7) %}
    count(case when local_dow = {{ d }} then 1 end) as eng_dow_{{ d }}_events,
    {%- endfor %}
    {%- for device in ['mobile', 'desktop', 'tablet'] %}
    count(case when is_real_engagement and device = '{{ device }}' then 1 end) as {{ device }}_engagement_events{{ ',' if not loop.last }}
    {%- endfor %}
from enriched
group by identity_id
