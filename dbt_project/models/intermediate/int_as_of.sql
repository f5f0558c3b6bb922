-- The one as-of moment every point-in-time model uses (one row).
-- var('as_of') when given; else the latest event time in the data: max over e-mail events, orders,
-- web events and campaign sends; with no events at all, the latest subscriber record time; with no
-- data at all (an empty raw layer), the build time (every mart is then empty).
-- depends_on: {{ ref('stg_email_events') }}
-- depends_on: {{ ref('stg_orders') }}
-- depends_on: {{ ref('stg_web_events') }}
-- depends_on: {{ ref('stg_campaigns') }}
-- depends_on: {{ ref('stg_subscribers') }}
{%- set as_of_var = var('as_of', '') %}
{%- if as_of_var is not none and (as_of_var | string | trim) not in ('', 'None', 'none', 'null') %}

select
    {{ as_of_literal(as_of_var) }} as as_of,
    cast('var' as {{ dbt.type_string() }}) as as_of_source

{%- else %}

with latest_event_times as (
    select max(occurred_at) as latest_at from {{ ref('stg_email_events') }}
    union all
    select max(ordered_at) from {{ ref('stg_orders') }}
    union all
    select max(occurred_at) from {{ ref('stg_web_events') }}
    union all
    select max(sent_at) from {{ ref('stg_campaigns') }}
),

latest_subscriber_times as (
    select max(greatest(
        created_at,
        coalesce(updated_at, created_at),
        coalesce(consent_updated_at, created_at)
    )) as latest_at
    from {{ ref('stg_subscribers') }}
)

select
    cast(coalesce(
        (select max(latest_at) from latest_event_times),
        (select latest_at from latest_subscriber_times),
        {{ utc_now() }}
    ) as timestamp) as as_of,
    cast(
        case
            when (select max(latest_at) from latest_event_times) is not null then 'latest_event'
            when (select latest_at from latest_subscriber_times) is not null then 'latest_subscriber_record'
            else 'build_time'
        end
        as {{ dbt.type_string() }}
    ) as as_of_source

{%- endif %}
