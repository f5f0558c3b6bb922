-- One row per subscriber x dimension x value over fct_email_sends: sends of campaigns with that content
-- topic / offer type and how many were clicked (and really opened) within 7 days, plus one 'overall' / 'all' row per
-- subscriber with every send (campaigns without a topic or offer type included). The content-affinity
-- model's data (ml/scoring/affinity.py): it only ever uses these counts; the campaign click ranker
-- (ml/scoring/campaign_ranker.py) reads the opens per topic too.
with sends as (
    select subscriber_key, opened, clicked, content_topic, offer_type
    from {{ ref('fct_email_sends') }}
),

long_sends as (
    select subscriber_key, 'overall' as dimension, 'all' as dimension_value, opened, clicked
    from sends
    union all
    select subscriber_key, 'content_topic' as dimension, content_topic as dimension_value, opened, clicked
    from sends
    where content_topic is not null
    union all
    select subscriber_key, 'offer_type' as dimension, offer_type as dimension_value, opened, clicked
    from sends
    where offer_type is not null
)

select
    cast(subscriber_key as {{ dbt.type_string() }}) as subscriber_key,
    cast(dimension as {{ dbt.type_string() }}) as dimension,
    cast(dimension_value as {{ dbt.type_string() }}) as value,
    cast(count(*) as bigint) as sends,
    cast(sum(case when clicked then 1 else 0 end) as bigint) as clicks,
    cast(sum(case when opened then 1 else 0 end) as bigint) as opens
from long_sends
group by subscriber_key, dimension, dimension_value
