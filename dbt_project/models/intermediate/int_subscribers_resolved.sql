-- One row per address that is a subscriber at as_of (its earliest created_at <= as_of), with its
-- attributes resolved by the contract's rule and its time zone checked.
--
-- Resolution (the contract's rule): among the address's records known at as_of (record time = the
-- latest of created_at, updated_at, consent_updated_at, <= as_of), the one changed last: by updated_at,
-- or consent_updated_at where a record has no updated_at (missing both ranks lowest), then
-- consent_updated_at, then file arrival (_file_seq), then _line_number; per attribute, among the
-- records whose file had that column. When every record of an address was written after as_of although
-- it was created before, its earliest record supplies the descriptive attributes and its consent fields
-- are ignored (they describe a later moment).
with records as (
    select
        *,
        greatest(
            created_at,
            coalesce(updated_at, created_at),
            coalesce(consent_updated_at, created_at)
        ) as recorded_at
    from {{ ref('stg_subscribers') }}
),

as_of as (
    select {{ as_of_sql() }} as as_of
),

flagged as (
    select
        records.*,
        records.recorded_at <= as_of.as_of as is_known_at_as_of,
        as_of.as_of
    from records
    cross join as_of
),

per_address as (
    select
        identity_id,
        min(created_at) as created_at,
        count(*) as source_records,
        max(case when is_known_at_as_of then 1 else 0 end) = 1 as has_record_known_at_as_of,
        -- the newest explicit re-subscription known at as_of: lifts event-based suppressions before it
        max(case when consent_status = 'subscribed' and consent_updated_at <= as_of then consent_updated_at end)
            as latest_subscribed_consent_at,
        max(case when _absent_columns is not null then 1 else 0 end) = 1 as has_partial_record
    from flagged
    group by identity_id
),

-- Every attribute resolves on its own: it comes from the first-ranked record whose file had the column
-- (macro is_carried), so a partial update file changes only what it carries. Addresses whose records
-- all came from complete files (the usual case) take the first-ranked record whole, without the windows.
{% set attributes = ['subscriber_id', 'first_name', 'last_name', 'signup_source', 'country', 'region', 'city',
                     'postal_code', 'timezone', 'birth_year', 'gender', 'consent_status', 'consent_updated_at'] %}

ranked as (
    select
        flagged.*,
        row_number() over (
            partition by identity_id
            order by
                coalesce(updated_at, consent_updated_at) desc nulls last,
                consent_updated_at desc nulls last,
                _file_seq desc,
                _line_number desc
        ) as pick_rank,
        true as resolved_at_as_of
    from flagged
    where is_known_at_as_of

    union all

    select
        flagged.*,
        row_number() over (
            partition by identity_id
            order by recorded_at, _file_seq, _line_number
        ) as pick_rank,
        false as resolved_at_as_of
    from flagged
    where not is_known_at_as_of
),

candidates as (
    select
        ranked.*,
        per_address.has_partial_record
    from ranked
    inner join per_address
        on ranked.identity_id = per_address.identity_id
    -- the earliest later record stands in only for an address without any record known at as_of
    where ranked.resolved_at_as_of or not per_address.has_record_known_at_as_of
),

partial_resolved as (
    select
        identity_id,
        email,
        as_of,
        resolved_at_as_of,
        pick_rank,
        _source_file,
        {%- for attribute in attributes %}
        first_value({{ attribute }}) over (
            partition by identity_id
            order by case when {{ is_carried(attribute) }} then 0 else 1 end, pick_rank
            rows between unbounded preceding and unbounded following
        ) as {{ attribute }}{{ "," if not loop.last }}
        {%- endfor %}
    from candidates
    where has_partial_record
),

chosen as (
    select
        identity_id, email, as_of, resolved_at_as_of, _source_file,
        {{ attributes | join(', ') }}
    from candidates
    where pick_rank = 1 and not has_partial_record

    union all

    select
        identity_id, email, as_of, resolved_at_as_of, _source_file,
        {{ attributes | join(', ') }}
    from partial_resolved
    where pick_rank = 1
),

timezones as (
    select lower(name) as name_lower, min(name) as name
    from ({{ timezone_names_query() }}) as known_zones
    group by lower(name)
),

final as (
    select
        chosen.identity_id,
        chosen.email,
        chosen.subscriber_id,
        chosen.first_name,
        chosen.last_name,
        chosen.signup_source,
        chosen.country,
        chosen.region,
        chosen.city,
        chosen.postal_code,
        coalesce(timezones.name, '{{ var("default_timezone") }}') as timezone,
        timezones.name is null as is_timezone_fallback,
        chosen.timezone as timezone_as_given,
        case
            when chosen.birth_year between 1900 and extract(year from chosen.as_of) then chosen.birth_year
        end as birth_year,
        chosen.gender,
        per_address.created_at,
        case when chosen.resolved_at_as_of then chosen.consent_status end as consent_status,
        case when chosen.resolved_at_as_of then chosen.consent_updated_at end as consent_updated_at,
        per_address.latest_subscribed_consent_at,
        chosen.resolved_at_as_of,
        per_address.source_records,
        chosen._source_file as resolved_from_file
    from chosen
    inner join per_address
        on chosen.identity_id = per_address.identity_id
    left join timezones
        on timezones.name_lower = lower(chosen.timezone)
    where per_address.created_at <= chosen.as_of
)

select * from final
