-- Each address's preferences as saved last up to as_of (updated_at, then file arrival, then line).
with ranked as (
    select
        *,
        row_number() over (
            partition by identity_id
            order by updated_at desc, _file_seq desc, _line_number desc
        ) as version_rank
    from {{ ref('stg_preferences') }}
    where updated_at <= {{ as_of_sql() }}
)

select
    identity_id,
    updated_at as preferences_updated_at,
    frequency as preferred_frequency,
    topics as preferred_topics,
    paused_until
from ranked
where version_rank = 1
