-- Who ends up where, by gender and age band: macro-segment membership and exposure to premium offers
-- of the profiled subscribers (ml.segment_assignments), per group, with the disparate-impact ratio
-- (the group's rate / the most-favoured group's rate) flagged below var('disparate_impact_threshold').
-- Premium offer: a campaign whose offer_type is in var('premium_offer_types') (default discount and
-- winback: the offers that carry a price incentive). Exposure = at least one such e-mail received in
-- the var('send_history_days') days up to as_of (fct_email_sends). Age = year(as_of) - birth_year,
-- banded by var('fairness_age_bands'). Missing gender / birth year form the group 'unknown', which is
-- reported but never flagged nor taken as the reference; groups smaller than
-- var('fairness_min_group_size') are reported but neither flagged nor taken as the reference.
-- z_score (two-proportion test against the reference group) tells a real gap from chance: with many
-- segments, some ratios fall under the threshold by chance alone when |z| < 2.
{%- set bands = var('fairness_age_bands') %}
{%- set premium = var('premium_offer_types') %}
with as_of as (
    select as_of from {{ ref('int_as_of') }}
),

people as (
    select
        assignments.subscriber_key,
        assignments.macro_segment_id,
        coalesce(nullif(trim(dim.gender), ''), 'unknown') as gender,
        cast(extract(year from as_of.as_of) as integer) - dim.birth_year as age
    from {{ source('ml', 'segment_assignments') }} as assignments
    inner join {{ ref('dim_subscribers') }} as dim
        on assignments.subscriber_key = dim.subscriber_key
    cross join as_of
),

banded as (
    select
        subscriber_key,
        macro_segment_id,
        gender,
        case
            when age is null or age < 0 then 'unknown'
            when age < {{ bands[0] }} then 'under {{ bands[0] }}'
            {%- for i in range(bands | length - 1) %}
            when age < {{ bands[i + 1] }} then '{{ bands[i] }}-{{ bands[i + 1] - 1 }}'
            {%- endfor %}
            else '{{ bands[-1] }}+'
        end as age_band
    from people
),

premium_exposed as (
    select distinct subscriber_key
    from {{ ref('fct_email_sends') }}
    where offer_type in ({% for o in premium %}{{ sql_string_literal(o) }}{% if not loop.last %}, {% endif %}{% endfor %})
),

long as (
    select banded.subscriber_key, 'gender' as attribute, banded.gender as group_value, banded.macro_segment_id,
           case when premium_exposed.subscriber_key is not null then 1 else 0 end as premium
    from banded
    left join premium_exposed on banded.subscriber_key = premium_exposed.subscriber_key
    union all
    select banded.subscriber_key, 'age_band', banded.age_band, banded.macro_segment_id,
           case when premium_exposed.subscriber_key is not null then 1 else 0 end
    from banded
    left join premium_exposed on banded.subscriber_key = premium_exposed.subscriber_key
),

group_sizes as (
    select attribute, group_value, count(*) as group_size, sum(premium) as premium_members
    from long
    group by attribute, group_value
),

segments as (
    select distinct macro_segment_id from banded
),

segment_counts as (
    select attribute, group_value, macro_segment_id, count(*) as members
    from long
    group by attribute, group_value, macro_segment_id
),

outcomes as (
    select group_sizes.attribute, group_sizes.group_value, 'premium_offer_exposure' as outcome,
           cast(null as {{ dbt.type_string() }}) as segment_id, group_sizes.group_size,
           group_sizes.premium_members as positives
    from group_sizes
    union all
    select group_sizes.attribute, group_sizes.group_value, 'segment_membership', segments.macro_segment_id,
           group_sizes.group_size, coalesce(segment_counts.members, 0)
    from group_sizes
    cross join segments
    left join segment_counts
        on group_sizes.attribute = segment_counts.attribute
        and group_sizes.group_value = segment_counts.group_value
        and segments.macro_segment_id = segment_counts.macro_segment_id
),

rated as (
    select
        *,
        cast(positives as double) / group_size as rate,
        group_value <> 'unknown' and group_size >= {{ var('fairness_min_group_size') }} as is_comparable
    from outcomes
),

reference as (
    select
        attribute,
        outcome,
        coalesce(segment_id, '') as segment_key,
        max(rate) as reference_rate
    from rated
    where is_comparable
    group by attribute, outcome, coalesce(segment_id, '')
),

reference_groups as (
    select
        rated.attribute,
        rated.outcome,
        coalesce(rated.segment_id, '') as segment_key,
        min(rated.group_value) as reference_group
    from rated
    inner join reference
        on rated.attribute = reference.attribute
        and rated.outcome = reference.outcome
        and coalesce(rated.segment_id, '') = reference.segment_key
        and rated.rate = reference.reference_rate
    where rated.is_comparable
    group by rated.attribute, rated.outcome, coalesce(rated.segment_id, '')
),

final as (
    select
        rated.*,
        reference_groups.reference_group,
        reference.reference_rate,
        {{ safe_divide('rated.rate', 'reference.reference_rate') }} as disparate_impact_ratio,
        -- two-proportion z statistic of the group against the reference group (pooled variance)
        case
            when ref_row.group_size is null or rated.group_value = ref_row.group_value then null
            else {{ safe_divide(
                'rated.rate - ref_row.rate',
                'sqrt(((rated.positives + ref_row.positives) * 1.0 / (rated.group_size + ref_row.group_size))'
                ~ ' * (1 - (rated.positives + ref_row.positives) * 1.0 / (rated.group_size + ref_row.group_size))'
                ~ ' * (1.0 / rated.group_size + 1.0 / ref_row.group_size))') }}
        end as z_score
    from rated
    left join reference
        on rated.attribute = reference.attribute
        and rated.outcome = reference.outcome
        and coalesce(rated.segment_id, '') = reference.segment_key
    left join reference_groups
        on rated.attribute = reference_groups.attribute
        and rated.outcome = reference_groups.outcome
        and coalesce(rated.segment_id, '') = reference_groups.segment_key
    left join rated as ref_row
        on reference_groups.attribute = ref_row.attribute
        and reference_groups.outcome = ref_row.outcome
        and reference_groups.segment_key = coalesce(ref_row.segment_id, '')
        and reference_groups.reference_group = ref_row.group_value
)

select
    cast(final.attribute as {{ dbt.type_string() }}) as attribute,
    cast(final.group_value as {{ dbt.type_string() }}) as group_value,
    cast(final.outcome as {{ dbt.type_string() }}) as outcome,
    cast(final.segment_id as {{ dbt.type_string() }}) as segment_id,
    cast(final.group_size as bigint) as group_size,
    cast(final.positives as bigint) as positives,
    cast(final.rate as double) as rate,
    cast(final.reference_group as {{ dbt.type_string() }}) as reference_group,
    cast(final.reference_rate as double) as reference_rate,
    cast(final.disparate_impact_ratio as double) as disparate_impact_ratio,
    cast(final.z_score as double) as z_score,
    cast(coalesce(final.is_comparable and final.disparate_impact_ratio < {{ var('disparate_impact_threshold') }}, false)
        as boolean) as is_flagged,
    cast(final.is_comparable as boolean) as is_comparable,
    cast({{ sql_string_literal(premium | join(",")) }} as {{ dbt.type_string() }}) as premium_offer_types,
    as_of.as_of,
    cast('{{ env_var("MAILSIFT_RUN_ID", "manual") }}' as {{ dbt.type_string() }}) as run_id
from final
cross join as_of
