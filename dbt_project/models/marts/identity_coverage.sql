-- Where the data's addresses are, per source, at as_of: how many addresses and records belong to
-- subscribers (dim_subscribers) and how many do not. Addresses that appear only in e-mail events,
-- orders, web events or preferences are not subscribers and stay out of dim_subscribers and the
-- profiles; this mart is where they are counted. Their events and orders stay in the facts and in
-- campaign_performance (with is_subscriber = false).
with dim as (
    select identity_id from {{ ref('int_subscribers_resolved') }}
),

subscriber_records as (
    select identity_id, count(*) as record_count
    from {{ ref('stg_subscribers') }}
    group by identity_id
),

per_source as (
    select 'subscribers' as source, 'subscriber records (all exports)' as record_kind, identity_id,
        record_count
    from subscriber_records
    union all
    select 'email_events', '''sent'' events up to as_of', identity_id, sends_total
    from {{ ref('int_email_activity') }}
    union all
    select 'orders', 'orders up to as_of', identity_id, count(*)
    from {{ ref('int_orders') }}
    group by identity_id
    union all
    select 'web_events', 'identified or stitched web events up to as_of', identity_id, web_events_total
    from {{ ref('int_subscriber_web_features') }}
    union all
    select 'preferences', 'preference updates up to as_of', identity_id, count(*)
    from {{ ref('stg_preferences') }}
    where updated_at <= {{ as_of_sql() }}
    group by identity_id
),

identified as (
    select
        per_source.source,
        min(per_source.record_kind) as record_kind,
        count(*) as addresses_total,
        count(dim.identity_id) as addresses_in_dim,
        count(*) - count(dim.identity_id) as addresses_not_in_dim,
        sum(per_source.record_count) as records_total,
        sum(case when dim.identity_id is null then per_source.record_count else 0 end) as records_not_in_dim
    from per_source
    left join dim
        on per_source.identity_id = dim.identity_id
    group by per_source.source
),

anonymous_web as (
    select
        'web_events_anonymous' as source,
        'web events without an address (after stitching) up to as_of' as record_kind,
        0 as addresses_total,
        0 as addresses_in_dim,
        0 as addresses_not_in_dim,
        count(*) as records_total,
        count(*) as records_not_in_dim
    from {{ ref('int_web_events') }}
    where identity_id is null
),

rejected as (
    select entity as source, count(*) as rows_rejected
    from {{ source('raw', 'rejected_rows') }}
    group by entity
),

combined as (
    select * from identified
    union all
    select * from anonymous_web
)

select
    cast(combined.source as {{ dbt.type_string() }}) as source,
    cast(combined.record_kind as {{ dbt.type_string() }}) as record_kind,
    cast(combined.addresses_total as bigint) as addresses_total,
    cast(combined.addresses_in_dim as bigint) as addresses_in_dim,
    cast(combined.addresses_not_in_dim as bigint) as addresses_not_in_dim,
    cast(combined.records_total as bigint) as records_total,
    cast(combined.records_not_in_dim as bigint) as records_not_in_dim,
    cast(coalesce(rejected.rows_rejected, 0) as bigint) as raw_rows_rejected,
    cast({{ as_of_sql() }} as timestamp) as as_of
from combined
left join rejected
    on combined.source = rejected.source
