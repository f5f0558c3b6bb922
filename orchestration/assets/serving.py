"""Publishing: the finished serving tables copied to Parquet for tools that cannot open the warehouse."""

import dagster as dg

from orchestration.assets.dbt import mailsift_dbt_serving
from orchestration.assets.ingestion import WAREHOUSE_POOL
from orchestration.resources import WarehouseResource
from orchestration.serving import publish_parquet

# Every dbt model under models/serving is published: a new serving model needs no change here.
SERVING_KEYS = sorted(mailsift_dbt_serving.keys, key=lambda k: k.path[-1])
SERVING_TABLES = tuple(k.path[-1] for k in SERVING_KEYS)


@dg.asset(group_name="serving", deps=SERVING_KEYS, pool=WAREHOUSE_POOL,
          description="Every serving table as <MAILSIFT_SERVING_DIR>/<table>.parquet (the scores history: one file "
                      "per as_of in <MAILSIFT_SERVING_DIR>/subscriber_scores_history/), each swapped in atomically, "
                      "and the serving.duckdb copy.")
def published_serving_files(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    settings = warehouse.settings()
    with warehouse.connection() as con:
        counts = publish_parquet(con, SERVING_TABLES, settings.serving_dir, context.run.run_id)
    missing = sorted(set(SERVING_TABLES) - set(counts))
    if missing:
        raise dg.Failure("serving tables missing from the warehouse: " + ", ".join(missing))
    context.log.info("Published " + ", ".join(f"{t} ({n:,} rows)" for t, n in counts.items())
                     + f" to {settings.serving_dir}")
    return dg.MaterializeResult(metadata={"folder": str(settings.serving_dir),
                                          **{f"rows_{t}": n for t, n in counts.items()}})
