"""The dbt project as assets: one asset per model, dbt tests as asset checks, groups by layer."""


import json
import os
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from orchestration.assets.ingestion import WAREHOUSE_POOL
from orchestration.dbt_targets import tidy_after
from orchestration.project import dbt_project
from orchestration.resources import WarehouseResource

LAYERS = ("staging", "intermediate", "marts", "serving")


class MailsiftTranslator(DagsterDbtTranslator):
    """Models are grouped by their folder (staging / intermediate / marts / serving)."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        for layer in LAYERS:
            if layer in fqn[1:-1]:
                return layer
        return super().get_group_name(dbt_resource_props)


translator = MailsiftTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


SERVING_SELECTION = "path:models/serving"


class DbtBuildConfig(dg.Config):
    """Run config of the dbt steps."""

    full_refresh: bool = False  # rebuild the incremental models from every raw row (history models excepted)


def _build(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource,
           full_refresh: bool = False):
    """`dbt build` of the selected models: runs them and their tests in dependency order."""
    settings = warehouse.settings()
    os.environ.update(settings.dbt_env())  # dbt runs from dbt_project/: hand it the absolute path
    # The serving tables stamp the run on every row. An environment variable, not a --vars entry:
    # a changed var makes dbt re-parse the whole project, a changed env_var only the models using it.
    os.environ["MAILSIFT_RUN_ID"] = context.run.run_id
    args = ["build"] + (["--full-refresh"] if full_refresh else [])
    if settings.dbt_vars():
        args += ["--vars", json.dumps(settings.dbt_vars())]
    invocation = dbt.cli(args, context=context)
    try:
        yield from invocation.stream()
    finally:
        end_invocation(invocation, context.log)


def end_invocation(invocation, log) -> None:
    """After a dbt step, finished, failed or cancelled: stop dbt if it still runs (an orphaned dbt would
    keep the warehouse's write lock and block the next run), then prune old invocation folders."""
    if invocation.process.poll() is None:
        invocation.process.terminate()
        invocation.process.wait(timeout=30)
    tidy_after(invocation, log)


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project, dagster_dbt_translator=translator,
            pool=WAREHOUSE_POOL, exclude=SERVING_SELECTION)
def mailsift_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource,
                        config: DbtBuildConfig):
    """Staging, intermediate and marts: landing data to subscriber profiles. The event key models are
    incremental (a run reads only the rows of newly loaded files); ``full_refresh`` rebuilds them."""
    yield from _build(context, dbt, warehouse, full_refresh=config.full_refresh)


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project, dagster_dbt_translator=translator,
            pool=WAREHOUSE_POOL, select=SERVING_SELECTION, name="mailsift_dbt_serving")
def mailsift_dbt_serving(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    """The serving tables of the data contract, over the model outputs in the ``ml`` schema."""
    yield from _build(context, dbt, warehouse)
