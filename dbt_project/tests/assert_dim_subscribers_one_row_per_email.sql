-- dim_subscribers holds each address once, in its normalised form (trimmed, lower-cased), and maps
-- each address to exactly one subscriber_key and back.
with dim as (
    select email, subscriber_key from {{ ref('dim_subscribers') }}
)

select email, 'duplicate email' as problem
from dim
group by email
having count(*) > 1

union all

select email, 'email not normalised' as problem
from dim
where email <> lower(trim(email))

union all

select max(email), 'subscriber_key shared by several emails' as problem
from dim
group by subscriber_key
having count(distinct email) > 1
