-- Backtest of every scoring model: each metric of the new version, of the champion it was compared with,
-- and of the model's baseline, on the same held-out subscribers after the training cut-off.
select
    cast(backtests.model as {{ dbt.type_string() }}) as model,
    cast(backtests.model_version as {{ dbt.type_string() }}) as model_version,
    cast(backtests.role as {{ dbt.type_string() }}) as role,
    cast(backtests.promoted as boolean) as promoted,
    cast(backtests.metric as {{ dbt.type_string() }}) as metric,
    cast(backtests.is_primary as boolean) as is_primary,
    cast(backtests.value as double) as value,
    cast(backtests.baseline_value as double) as baseline_value,
    cast(backtests.holdout_rows as bigint) as holdout_rows,
    cast(backtests.training_cutoff as timestamp) as training_cutoff,
    cast(backtests.horizon_days as integer) as horizon_days,
    cast(backtests.evaluated_at as timestamp) as evaluated_at,
    as_of.as_of,
    cast('{{ env_var("MAILSIFT_RUN_ID", "manual") }}' as {{ dbt.type_string() }}) as run_id
from {{ source('ml', 'model_backtests') }} as backtests
cross join (select as_of from {{ ref('int_as_of') }}) as as_of
