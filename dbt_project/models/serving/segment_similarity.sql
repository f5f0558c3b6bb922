-- Which segments respond alike: for every segment and dimension (content topic, offer type), the most
-- similar segments of the same level by the cosine of their log-lift profiles (1 = same preferences).
select
    similarity.segment_id,
    similarity.level,
    similarity.dimension,
    similarity.similar_segment_id,
    cast(similarity.rank as integer) as rank,
    cast(similarity.similarity as double) as similarity,
    as_of.as_of,
    cast('{{ env_var("MAILSIFT_RUN_ID", "manual") }}' as {{ dbt.type_string() }}) as run_id
from {{ source('ml', 'segment_similarity') }} as similarity
cross join {{ ref('int_as_of') }} as as_of
