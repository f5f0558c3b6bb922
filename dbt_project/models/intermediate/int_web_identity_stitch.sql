-- anonymous_id -> address, for anonymous ids seen with exactly one identified address up to as_of
-- (a visitor who logged in once: their anonymous events before and after count for that address).
with identified as (
    select anonymous_id, identity_id
    from {{ ref('stg_web_events') }}
    where anonymous_id is not null
      and identity_id is not null
      and occurred_at <= {{ as_of_sql() }}
    group by anonymous_id, identity_id
)

select
    anonymous_id,
    min(identity_id) as identity_id
from identified
group by anonymous_id
having count(*) = 1
