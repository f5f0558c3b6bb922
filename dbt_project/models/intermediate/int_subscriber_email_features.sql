-- E-mail features per subscriber at as_of. Opens and clicks count once per send (campaign): a send
-- is "opened" when it had at least one real (non-machine) open, "clicked" when it had a click; the
-- windowed counts date a send's open / click by its first real open / first click. Rates are
-- empirical-Bayes smoothed toward the list's rate (see macro smoothed_rate, var rate_prior_strength).
with subscribers as (
    select identity_id from {{ ref('int_subscribers_resolved') }}
),

activity as (
    select * from {{ ref('int_email_activity') }}
),

timing as (
    select * from {{ ref('int_email_engagement_timing') }}
),

as_of as (
    select {{ as_of_sql() }} as as_of
),

engagement as (
    select
        engagements.identity_id,
        count(case when engagements.first_real_open_at is not null then 1 end) as opened_sends,
        {%- for days in [30, 90, 180] %}
        count(case when engagements.first_real_open_at > {{ window_start('as_of.as_of', days) }} then 1 end)
            as opened_sends_{{ days }}d,
        count(case when engagements.first_click_at > {{ window_start('as_of.as_of', days) }} then 1 end)
            as clicked_sends_{{ days }}d,
        {%- endfor %}
        count(case when engagements.first_click_at is not null then 1 end) as clicked_sends,
        count(case when engagements.first_machine_open_at is not null then 1 end) as machine_opened_sends,
        count(case when engagements.first_engaged_at is not null then 1 end) as engaged_sends,
        count(case when engagements.first_engaged_at > {{ window_start('as_of.as_of', 30) }} then 1 end)
            as engaged_sends_30d,
        count(case when engagements.first_engaged_at > {{ window_start('as_of.as_of', 180) }} then 1 end)
            as engaged_sends_180d
    from {{ ref('int_email_engagements') }} as engagements
    cross join as_of
    group by engagements.identity_id
),

joined as (
    select
        subscribers.identity_id,
        coalesce(activity.sends_total, 0) as sends_total,
        coalesce(activity.sends_30d, 0) as sends_30d,
        coalesce(activity.sends_90d, 0) as sends_90d,
        coalesce(activity.sends_180d, 0) as sends_180d,
        coalesce(activity.soft_bounces_90d, 0) as soft_bounces_90d,
        -- a send cannot be opened more than once; guards against opens whose 'sent' event is missing
        least(coalesce(engagement.opened_sends, 0), coalesce(activity.sends_total, 0)) as opened_sends_capped,
        least(coalesce(engagement.clicked_sends, 0), coalesce(activity.sends_total, 0)) as clicked_sends_capped,
        least(coalesce(engagement.engaged_sends, 0), coalesce(activity.sends_total, 0)) as engaged_sends_capped,
        least(coalesce(engagement.engaged_sends_30d, 0), coalesce(activity.sends_30d, 0)) as engaged_sends_30d_capped,
        least(
            coalesce(engagement.engaged_sends_180d, 0) - coalesce(engagement.engaged_sends_30d, 0),
            coalesce(activity.sends_180d, 0) - coalesce(activity.sends_30d, 0)
        ) as engaged_sends_prior_150d_capped,
        coalesce(engagement.opened_sends, 0) as real_opens_total,
        coalesce(engagement.machine_opened_sends, 0) as machine_opens_total,
        coalesce(engagement.clicked_sends, 0) as clicks_total,
        {%- for days in [30, 90, 180] %}
        coalesce(engagement.opened_sends_{{ days }}d, 0) as opens_{{ days }}d,
        {%- endfor %}
        {%- for days in [30, 90, 180] %}
        coalesce(engagement.clicked_sends_{{ days }}d, 0) as clicks_{{ days }}d,
        {%- endfor %}
        timing.last_real_open_at as last_open_at,
        timing.last_click_at,
        coalesce(timing.engagement_events, 0) as engagement_events_total,
        coalesce(timing.real_open_events, 0) as real_open_events,
        coalesce(timing.click_events, 0) as click_events,
        coalesce(timing.machine_open_events, 0) as machine_open_events,
        {%- for h in range(24) %}
        coalesce(timing.eng_hour_{{ '%02d' % h }}_events, 0) as eng_hour_{{ '%02d' % h }}_events,
        {%- endfor %}
        {%- for d in range(7) %}
        coalesce(timing.eng_dow_{{ d }}_events, 0) as eng_dow_{{ d }}_events,
        {%- endfor %}
        coalesce(timing.mobile_engagement_events, 0) as mobile_engagement_events,
        coalesce(timing.desktop_engagement_events, 0) as desktop_engagement_events,
        coalesce(timing.tablet_engagement_events, 0) as tablet_engagement_events,
        activity.first_send_at,
        activity.last_send_at
    from subscribers
    left join activity
        on subscribers.identity_id = activity.identity_id
    left join engagement
        on subscribers.identity_id = engagement.identity_id
    left join timing
        on subscribers.identity_id = timing.identity_id
),

list_rates as (
    select
        coalesce({{ safe_divide('sum(opened_sends_capped)', 'sum(sends_total)') }}, 0) as list_open_rate,
        coalesce({{ safe_divide('sum(clicked_sends_capped)', 'sum(sends_total)') }}, 0) as list_click_rate,
        coalesce({{ safe_divide('sum(engaged_sends_capped)', 'sum(sends_total)') }}, 0) as list_engagement_rate
    from joined
),

rated as (
    select
        joined.*,
        {{ smoothed_rate('joined.opened_sends_capped', 'joined.sends_total', 'list_rates.list_open_rate') }}
            as open_rate_smoothed,
        {{ smoothed_rate('joined.clicked_sends_capped', 'joined.sends_total', 'list_rates.list_click_rate') }}
            as click_rate_smoothed,
        {{ smoothed_rate('joined.engaged_sends_capped', 'joined.sends_total', 'list_rates.list_engagement_rate') }}
            as engagement_rate_smoothed,
        list_rates.list_open_rate,
        list_rates.list_click_rate,
        list_rates.list_engagement_rate
    from joined
    cross join list_rates
),

{%- set hour_cols = [] %}
{%- for h in range(24) %}{% do hour_cols.append('eng_hour_%02d_events' % h) %}{% endfor %}
{%- set dow_cols = [] %}
{%- for d in range(7) %}{% do dow_cols.append('eng_dow_%d_events' % d) %}{% endfor %}

trended as (
    select
        rated.*,
        -- each window's engaged-send rate, shrunk toward the subscriber's own smoothed rate
        {{ smoothed_rate('engaged_sends_30d_capped', 'sends_30d', 'engagement_rate_smoothed') }}
            - {{ smoothed_rate('engaged_sends_prior_150d_capped', '(sends_180d - sends_30d)', 'engagement_rate_smoothed') }}
            as engagement_trend,
        greatest({{ hour_cols | join(', ') }}) as peak_hour_events,
        greatest({{ dow_cols | join(', ') }}) as peak_dow_events,
        mobile_engagement_events + desktop_engagement_events + tablet_engagement_events as device_engagement_events
    from rated
)

select
    trended.identity_id,
    sends_total,
    sends_30d,
    sends_90d,
    sends_180d,
    real_opens_total,
    machine_opens_total,
    clicks_total,
    opens_30d,
    opens_90d,
    opens_180d,
    clicks_30d,
    clicks_90d,
    clicks_180d,
    open_rate_smoothed,
    click_rate_smoothed,
    engagement_rate_smoothed,
    {{ days_between('last_open_at', 'as_of.as_of') }} as days_since_last_open,
    {{ days_between('last_click_at', 'as_of.as_of') }} as days_since_last_click,
    last_open_at,
    last_click_at,
    engagement_trend,
    sends_90d / (90 / 7.0) as sends_per_week_90d,
    {%- for h in range(24) %}
    coalesce({{ safe_divide('eng_hour_%02d_events' % h, 'engagement_events_total') }}, 0) as eng_hour_{{ '%02d' % h }},
    {%- endfor %}
    {%- for d in range(7) %}
    coalesce({{ safe_divide('eng_dow_%d_events' % d, 'engagement_events_total') }}, 0) as eng_dow_{{ d }},
    {%- endfor %}
    case
        when engagement_events_total = 0 then null
        {%- for h in range(24) %}
        when eng_hour_{{ '%02d' % h }}_events = peak_hour_events then {{ h }}
        {%- endfor %}
    end as peak_hour_local,
    case
        when engagement_events_total = 0 then null
        {%- for d in range(7) %}
        when eng_dow_{{ d }}_events = peak_dow_events then {{ d }}
        {%- endfor %}
    end as peak_dow,
    engagement_events_total,
    real_open_events,
    click_events,
    machine_open_events,
    coalesce({{ safe_divide('mobile_engagement_events', 'device_engagement_events') }}, 0) as share_mobile,
    coalesce({{ safe_divide('desktop_engagement_events', 'device_engagement_events') }}, 0) as share_desktop,
    coalesce({{ safe_divide('tablet_engagement_events', 'device_engagement_events') }}, 0) as share_tablet,
    soft_bounces_90d,
    first_send_at,
    last_send_at,
    list_open_rate,
    list_click_rate,
    list_engagement_rate
from trended
cross join as_of
