"""The scoring models' point-in-time training data: the profile models rebuilt as of an earlier cut-off.

Features for training must describe subscribers as they were *before* the outcomes they are trained
to predict. So this asset runs a second ``dbt build`` of the same models that build today's profiles,
with ``as_of`` = today's as_of minus the horizon (90 days) and ``schema_suffix: _train`` (they land in
``staging_train``, ``intermediate_train``, ``marts_train``, never touching what serving reads), plus
``label_horizon_days: 90``, which enables ``labels.subscriber_outcomes``: what each subscriber did in
``(cut-off, cut-off + 90 days]``, and ``labels.next_send_cadence_outcomes`` / ``next_send_content_outcomes``:
the sends in that window with their 7-day outcome, aggregated -- events that the cut-off features,
filtered to ``<= as_of`` by the models themselves and checked by the point-in-time tests, cannot see. The training cut-off plus the
horizon is today's as_of, so no label comes from after the data the scores describe either.
"""


import json
import os
import time

import dagster as dg
from dagster_dbt import DbtCliResource, get_asset_key_for_model

from orchestration.assets.dbt import end_invocation, mailsift_dbt_models
from orchestration.assets.ingestion import WAREHOUSE_POOL
from orchestration.project import dbt_project
from orchestration.resources import WarehouseResource
from orchestration.scoring_data import HORIZON_DAYS, TRAIN_SUFFIX, current_as_of, training_cutoff

PROFILES = get_asset_key_for_model([mailsift_dbt_models], "subscriber_profiles")
SEND_AGGREGATES = [get_asset_key_for_model([mailsift_dbt_models], name)
                   for name in ("subscriber_send_cadence", "subscriber_content_response",
                                "subscriber_category_interest")]
# what the training build selects: the models behind profiles, purchases and the send aggregates, and
# the labels (subscriber outcomes and the sends after the cut-off, aggregated); tests run only when all
# their parents are in the selection (the cross-mart point-in-time test is the main build's)
TRAIN_SELECTION = ["+subscriber_profiles", "+fct_orders", "+subscriber_send_cadence", "+subscriber_content_response",
                   "+subscriber_category_interest", "+subscriber_outcomes", "+next_send_cadence_outcomes",
                   "+next_send_content_outcomes"]


@dg.asset(group_name="scoring", deps=[PROFILES, *SEND_AGGREGATES], pool=WAREHOUSE_POOL,
          description="dbt build of the profile models as of as_of - 90 days (schemas *_train) with the "
                      "labels of the 90 days after it (labels_train.subscriber_outcomes).")
def scoring_training_data(context: dg.AssetExecutionContext, dbt: DbtCliResource,
                          warehouse: WarehouseResource) -> dg.MaterializeResult:
    settings = warehouse.settings()
    as_of = current_as_of(settings.warehouse)
    cutoff = training_cutoff(as_of)
    os.environ.update(settings.dbt_env())
    os.environ["MAILSIFT_RUN_ID"] = context.run.run_id
    dbt_vars = {"as_of": cutoff.isoformat(sep=" "), "schema_suffix": TRAIN_SUFFIX,
                "label_horizon_days": HORIZON_DAYS}
    args = ["build", "--select", " ".join(TRAIN_SELECTION), "--indirect-selection", "cautious",
            "--vars", json.dumps(dbt_vars)]
    context.log.info(f"Training build as of {cutoff} (labels up to {as_of}): dbt {' '.join(args)}")
    t0 = time.perf_counter()
    invocation = dbt.cli(args, manifest=dbt_project.manifest_path)
    try:
        invocation.wait()
    except Exception as exc:
        raise dg.Failure(f"The training build as of {cutoff} failed: {exc}. See the dbt log above "
                         f"({invocation.target_path}).") from exc
    finally:
        end_invocation(invocation, context.log)
    from orchestration.warehouse import connect

    with connect(settings.warehouse, read_only=True) as con:
        rows, active = con.execute(f"SELECT count(*), avg(CAST(active_next AS DOUBLE)) "
                                   f"FROM labels{TRAIN_SUFFIX}.subscriber_outcomes").fetchone()
    return dg.MaterializeResult(metadata={
        "training_cutoff": str(cutoff), "labels_until": str(as_of), "horizon_days": HORIZON_DAYS,
        "labelled_subscribers": int(rows), "active_share": float(active or 0.0),
        "build_seconds": round(time.perf_counter() - t0, 1)})
