"""Publishing: the finished serving tables copied to Parquet for tools that cannot open the warehouse."""

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from orchestration.assets.dbt import mailsift_dbt_serving
from orchestration.assets.ingestion import WAREHOUSE_POOL
from orchestration.resources import WarehouseResource
from orchestration.serving import publish_parquet

SERVING_TABLES = ("subscriber_segments", "segment_profiles", "segment_content_response", "segment_similarity",
                  "subscriber_scores", "subscriber_affinities", "model_backtests", "segment_performance",
                  "fairness_report", "audience_exports")
SERVING_KEYS = [get_asset_key_for_model([mailsift_dbt_serving], t) for t in SERVING_TABLES]


@dg.asset(group_name="serving", deps=SERVING_KEYS, pool=WAREHOUSE_POOL,
          description="Every serving table as <MAILSIFT_SERVING_DIR>/<table>.parquet, each swapped in atomically.")
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
