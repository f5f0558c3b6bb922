{{ config(enabled=(var('label_horizon_days', '') | string | trim) not in ('', 'None', 'none', 'null')) }}
-- TRAINING LABELS: what each profiled subscriber did AFTER as_of, in the label window
-- (as_of, as_of + var('label_horizon_days') days]. Built only by the scoring models' training build
-- (var label_horizon_days set, schema suffix _train, as_of = the training cut-off), never by the main
-- build. It is the one model that reads past as_of on purpose, so it lives in its own `labels` schema,
-- outside the marts and their point-in-time test; its own tests check the opposite: every event it
-- counts lies inside the label window, none at or before as_of (where the features end).
{%- set horizon = var('label_horizon_days') | int %}
{%- set purchase_days = var('purchase_horizon_days') | int %}
{%- set open_days = var('next_send_open_days') | int %}
with window_bounds as (
    select
        {{ as_of_sql() }} as label_window_start,
        {{ dbt.dateadd('day', horizon, as_of_sql()) }} as label_window_end
),

events as (
    {{ distinct_email_events(after=as_of_sql(), until=dbt.dateadd('day', horizon, as_of_sql())) }}
),

orders_ranked as (
    select
        *,
        row_number() over (partition by order_id order by _file_seq desc, _line_number desc) as version_rank
    from {{ ref('stg_orders') }}
),

orders as (
    select
        orders_ranked.identity_id,
        orders_ranked.ordered_at,
        orders_ranked.total_amount,
        coalesce(orders_ranked.status, 'completed') as status
    from orders_ranked
    cross join window_bounds
    where orders_ranked.version_rank = 1
      and orders_ranked.ordered_at > window_bounds.label_window_start
      and orders_ranked.ordered_at <= window_bounds.label_window_end
),

subscribers as (
    select
        resolved.identity_id,
        identities.subscriber_key,
        coalesce(resolved.timezone, '{{ var("default_timezone") }}') as timezone
    from {{ ref('int_subscribers_resolved') }} as resolved
    inner join {{ ref('int_identities') }} as identities
        on resolved.identity_id = identities.identity_id
    inner join {{ ref('subscriber_profiles') }} as profiles
        on identities.subscriber_key = profiles.subscriber_key
),

real_engagements as (
    select
        events.identity_id,
        events.occurred_at,
        cast(extract(hour from {{ to_local_time('events.occurred_at', 'subscribers.timezone') }}) as integer) as local_hour
    from events
    inner join subscribers
        on events.identity_id = subscribers.identity_id
    where events.is_real_engagement
),

engagement_summary as (
    select
        identity_id,
        count(*) as real_engagements_next,
        min(occurred_at) as first_engagement_at,
        max(occurred_at) as last_engagement_at
    from real_engagements
    group by identity_id
),

hour_counts as (
    select
        identity_id,
        local_hour,
        row_number() over (partition by identity_id order by count(*) desc, local_hour) as hour_rank
    from real_engagements
    group by identity_id, local_hour
),

order_summary as (
    select
        orders.identity_id,
        count(case when orders.status <> 'cancelled' then 1 end) as orders_next,
        sum(case when orders.status = 'completed' then orders.total_amount else 0 end) as revenue_next,
        count(case when orders.status <> 'cancelled'
                    and orders.ordered_at <= {{ dbt.dateadd('day', purchase_days, 'window_bounds.label_window_start') }}
                   then 1 end) as orders_next_purchase_window,
        count(*) as any_orders_next,
        min(orders.ordered_at) as first_order_at,
        max(orders.ordered_at) as last_order_at
    from orders
    cross join window_bounds
    group by orders.identity_id
),

first_send as (
    select identity_id, campaign_id, occurred_at as sent_at
    from (
        select
            identity_id, campaign_id, occurred_at,
            row_number() over (partition by identity_id order by occurred_at, campaign_id) as send_rank
        from events
        where event_type = 'sent' and campaign_id is not null
    ) as ranked_sends
    where send_rank = 1
),

next_send as (
    select
        first_send.identity_id,
        first_send.sent_at,
        count(events.occurred_at) > 0 as opened_next_send
    from first_send
    left join events
        on first_send.identity_id = events.identity_id
        and first_send.campaign_id = events.campaign_id
        and events.is_real_engagement
        and events.occurred_at >= first_send.sent_at
        and events.occurred_at <= {{ dbt.dateadd('day', open_days, 'first_send.sent_at') }}
    group by first_send.identity_id, first_send.sent_at
)

select
    cast(subscribers.subscriber_key as {{ dbt.type_string() }}) as subscriber_key,
    cast(window_bounds.label_window_start as timestamp) as label_window_start,
    cast(window_bounds.label_window_end as timestamp) as label_window_end,
    cast({{ horizon }} as integer) as horizon_days,
    cast(coalesce(engagement_summary.real_engagements_next, 0) > 0
         or coalesce(order_summary.any_orders_next, 0) > 0 as boolean) as active_next,
    cast(coalesce(engagement_summary.real_engagements_next, 0) as bigint) as real_engagements_next,
    cast(coalesce(order_summary.orders_next, 0) as bigint) as orders_next,
    cast(coalesce(order_summary.revenue_next, 0) as double) as revenue_next,
    cast(coalesce(order_summary.orders_next_purchase_window, 0) > 0 as boolean) as purchased_next_purchase_window,
    cast({{ purchase_days }} as integer) as purchase_window_days,
    cast(next_send.opened_next_send as boolean) as opened_next_send,
    cast(next_send.sent_at as timestamp) as next_send_at,
    cast(hour_counts.local_hour as integer) as modal_engagement_hour_next,
    cast(least(engagement_summary.first_engagement_at, order_summary.first_order_at) as timestamp) as first_labelled_event_at,
    cast(greatest(engagement_summary.last_engagement_at, order_summary.last_order_at) as timestamp) as last_labelled_event_at
from subscribers
cross join window_bounds
left join engagement_summary
    on subscribers.identity_id = engagement_summary.identity_id
left join order_summary
    on subscribers.identity_id = order_summary.identity_id
left join next_send
    on subscribers.identity_id = next_send.identity_id
left join hour_counts
    on subscribers.identity_id = hour_counts.identity_id
    and hour_counts.hour_rank = 1
