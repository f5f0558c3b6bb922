-- How each segment responds to content: campaign sends and clicked sends of its members per content
-- topic and offer type, with the click rate shrunk towards the value's list-wide rate (beta-binomial,
-- prior strength fitted by the method of moments in ml/segmentation/similarity.py).
select
    response.segment_id,
    response.level,
    response.dimension,
    response.value,
    cast(response.sends as bigint) as sends,
    cast(response.clicks as bigint) as clicks,
    cast(response.click_rate as double) as click_rate,
    cast(response.click_rate_shrunk as double) as click_rate_shrunk,
    cast(response.lift as double) as lift,
    cast(response.prior_strength as double) as prior_strength,
    as_of.as_of,
    cast('{{ env_var("MAILSIFT_RUN_ID", "manual") }}' as {{ dbt.type_string() }}) as run_id
from {{ source('ml', 'segment_content_response') }} as response
cross join {{ ref('int_as_of') }} as as_of
