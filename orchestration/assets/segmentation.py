"""Segmentation assets: train and register a segmentation model, then assign everyone with the champion.

``segmentation_model`` fits :class:`ml.segmentation.SegmentationModel` on ``marts.subscriber_profiles``
(ids matched to the current champion's so they do not shuffle), logs it to MLflow with its metrics,
gates and pictures, registers it as ``mailsift-segmentation`` and moves the ``champion`` alias to it
only if every quality gate passes. ``segment_assignments`` always assigns with the champion -- the new
version when it was promoted, the previous one otherwise -- and writes ``ml.segment_assignments`` and
``ml.segment_catalog``, from which the dbt serving models build the contract's tables.
"""

import json
import time
from datetime import datetime, timezone

import dagster as dg
import mlflow
import numpy as np
import pandas as pd
from dagster_dbt import get_asset_key_for_model

from ml.segmentation import ASSIGNMENT_COLUMNS, SegmentationModel, check_gates
from orchestration import model_registry as registry
from orchestration.assets.dbt import mailsift_dbt_models
from orchestration.assets.ingestion import WAREHOUSE_POOL
from orchestration.progress import library_progress
from orchestration.resources import WarehouseResource
from orchestration.serving import ML_SCHEMA, replace_table
from orchestration.warehouse import read_table

MODEL_NAME = "mailsift-segmentation"
PROFILES = get_asset_key_for_model([mailsift_dbt_models], "subscriber_profiles")


def _profiles(warehouse: WarehouseResource) -> pd.DataFrame:
    profiles = read_table(warehouse.settings().warehouse, "marts", "subscriber_profiles", order_by="subscriber_key")
    if profiles.empty:
        raise dg.Failure("marts.subscriber_profiles is empty: nothing to segment (did any subscriber load?).")
    return profiles


def _log_training(model: SegmentationModel, profiles: pd.DataFrame, report, champion, as_of) -> int:
    """Parameters, metrics, gates and artefacts of one fit into the active MLflow run; registers it."""
    from ml.segmentation.charts import segment_map, size_chart

    params = {k: (json.dumps(v) if isinstance(v, (dict, tuple, list)) else v) for k, v in model.get_params().items()}
    mlflow.log_params(params)
    m = model.metrics_
    registry.log_flat_metrics({k: m[k] for k in ("k", "n_micro", "silhouette", "stability", "min_size",
                                                  "mean_confidence", "mean_macro_confidence", "n_subscribers")})
    registry.log_flat_metrics({"silhouette_per_k": m["silhouette_per_k"], "stability_per_k": m["stability_per_k"]})
    sizes = model.segment_profiles_["size"]
    registry.log_flat_metrics({"smallest_segment": int(sizes.min()), "largest_macro_share":
                               float(model.segment_profiles_.query("level == 'macro'")["share"].max())})
    if champion is not None and "moved" in m:
        registry.log_flat_metrics({"moved": m["moved"], "moved_share": m["moved_share"], "moved_micro": m["moved_micro"]})
    registry.log_flat_metrics({f"gate.{c.name}": c.passed for c in report.checks})
    mlflow.set_tags({"as_of": str(as_of), "gates_passed": str(report.passed),
                     "previous_champion": str(champion.version) if champion else "none"})
    # Artefacts: segment-level tables and pictures only -- subscriber_key at most, never an address.
    mlflow.log_table(model.segment_profiles_, "segment_profiles.json")
    mlflow.log_table(report.to_frame(), "gates.json")
    mlflow.log_dict({k: v for k, v in m.items() if k != "moved_flows"}, "metrics.json")
    X = model.featurizer_.transform(profiles)
    macro = np.asarray(model.macro_ids_, dtype=object)[model.macro_.predict(X)]
    mlflow.log_figure(segment_map(X, macro, model.macro_profiler_.names_), "segment_map.png")
    mlflow.log_figure(size_chart(model.segment_profiles_), "segment_sizes.png")
    return registry.log_and_register(MODEL_NAME, model)


def _num(x) -> str:
    return "" if x is None else f"{x:.3f}"


def _gates_markdown(report) -> str:
    rows = ["| gate | passed | value | threshold | detail |", "|---|---|---|---|---|"]
    rows += [f"| {c.name} | {'yes' if c.passed else 'NO'} | {_num(c.value)} | {_num(c.threshold)} | {c.reason} |"
             for c in report.checks]
    return "\n".join(rows)


def _usable_champion(context, profiles: pd.DataFrame):
    """The champion, if it still runs on today's profiles with today's code; else None (with a warning).

    A champion pickled by an older mailsift may not run after an upgrade (or the profiles lost a column
    it used). Then the new model is trained from scratch -- fresh ids, promoted on its own gates -- rather
    than the run failing for ever on a model nobody can use.
    """
    champion = registry.champion(MODEL_NAME)
    if champion is None:
        return None
    try:
        champion.model.assign(profiles.head(50))
    except Exception as exc:  # noqa: BLE001 -- any failure means the same thing here
        context.log.warning(f"The champion {MODEL_NAME} v{champion.version} cannot assign these profiles with this "
                            f"version of mailsift ({type(exc).__name__}: {exc}); training without it: segment ids "
                            "start afresh and the new version is promoted on its own gates.")
        return None
    return champion


@dg.asset(group_name="segmentation", deps=[PROFILES], pool=WAREHOUSE_POOL,
          description="Fit, log and register a segmentation model; promote it to champion if its gates pass.")
def segmentation_model(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    settings = warehouse.settings()
    profiles = _profiles(warehouse)
    registry.configure(settings)
    champion = _usable_champion(context, profiles)
    context.log.info(f"Fitting segmentation on {len(profiles):,} profiles"
                     + (f" (ids matched to champion v{champion.version})" if champion else " (no usable champion: ids start afresh)"))
    t0 = time.perf_counter()
    with library_progress(context.log.info):  # the fit's stages, as they pass
        model = SegmentationModel(random_state=0).fit(profiles, previous=champion.model if champion else None)
    fit_s = time.perf_counter() - t0
    context.log.info(f"Fitted in {fit_s:.1f} s: {model.metrics_['k']} macro and {model.metrics_['n_micro']} micro "
                     f"segments, silhouette {model.metrics_['silhouette']:.3f}, stability {model.metrics_['stability']:.3f}")
    report = check_gates(model.segment_profiles_, model.gate_metrics(),
                         champion.model.gate_metrics() if champion else None)
    with registry.training_run("segmentation", {"dagster_run_id": context.run.run_id}):
        mlflow.log_metric("fit_seconds", fit_s)
        version = _log_training(model, profiles, report, champion, profiles["as_of"].max())
        run_id = mlflow.active_run().info.run_id
    if report.passed:
        registry.promote(MODEL_NAME, version)
        context.log.info(f"{MODEL_NAME} v{version} passed every gate and is now the champion.")
    else:
        context.log.warning(f"{MODEL_NAME} v{version} failed its gates and was NOT promoted: "
                            + "; ".join(report.reasons))
    metadata = {"version": version, "promoted": report.passed, "mlflow_run_id": run_id,
                "k": model.metrics_["k"], "n_micro": model.metrics_["n_micro"],
                "silhouette": float(model.metrics_["silhouette"]), "stability": float(model.metrics_["stability"]),
                "fit_seconds": round(fit_s, 1), "gates": dg.MetadataValue.md(_gates_markdown(report))}
    if "moved" in model.metrics_:
        metadata.update({"moved": int(model.metrics_["moved"]), "moved_share": float(model.metrics_["moved_share"])})
    return dg.MaterializeResult(metadata=metadata)


def _catalog(model: SegmentationModel, assigned: pd.DataFrame, version: int) -> pd.DataFrame:
    """The champion's segment table with size and share recomputed from this assignment, and each
    description written again with them (its trait figures stay those of training)."""
    sizes = pd.concat([assigned["macro_segment_id"], assigned["micro_segment_id"]]).value_counts()
    cat = model.segment_profiles_.copy()
    cat["size"] = cat["segment_id"].map(sizes).fillna(0).astype("int64")
    cat["share"] = cat["size"] / max(len(assigned), 1)
    cat["description"] = [model.describe(s, n, sh) for s, n, sh in zip(cat["segment_id"], cat["size"], cat["share"])]
    cat["key_traits"] = cat["key_traits"].astype(str)
    cat["model_version"] = str(version)
    return cat


ASSIGNMENTS = dg.AssetKey(["ml", "segment_assignments"])
CATALOG = dg.AssetKey(["ml", "segment_catalog"])


@dg.multi_asset(
    specs=[dg.AssetSpec(ASSIGNMENTS, group_name="segmentation", deps=[segmentation_model, PROFILES],
                        description="Every profiled subscriber assigned by the champion segmentation model."),
           dg.AssetSpec(CATALOG, group_name="segmentation", deps=[segmentation_model],
                        description="The champion's macro and micro segments, sizes from the current assignment.")],
    check_specs=[dg.AssetCheckSpec("every_subscriber_assigned", asset=ASSIGNMENTS),
                 dg.AssetCheckSpec("no_segment_under_minimum", asset=CATALOG),
                 dg.AssetCheckSpec("names_unique", asset=CATALOG)],
    pool=WAREHOUSE_POOL, name="segment_assignments")
def segment_assignments(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    settings = warehouse.settings()
    profiles = _profiles(warehouse)
    registry.configure(settings)
    champion = registry.champion(MODEL_NAME)
    if champion is None:
        raise dg.Failure(f"There is no champion {MODEL_NAME} yet: the first trained version failed its quality "
                         "gates (see the segmentation_model step and its MLflow run), so nothing is assigned.")
    t0 = time.perf_counter()
    try:
        assigned = champion.model.assign(profiles)[list(ASSIGNMENT_COLUMNS)]
    except Exception as exc:
        raise dg.Failure(f"The champion {MODEL_NAME} v{champion.version} cannot assign these profiles "
                         f"({type(exc).__name__}: {exc}) and no newer version passed its gates. The serving "
                         "tables keep their last state; see the segmentation_model step for the gate results.") from exc
    assign_s = time.perf_counter() - t0
    assigned["assigned_at"] = datetime.now(timezone.utc).replace(tzinfo=None)
    assigned["model_version"] = str(champion.version)
    catalog = _catalog(champion.model, assigned, champion.version)
    with warehouse.connection() as con:
        replace_table(con, ML_SCHEMA, "segment_assignments", assigned)
        replace_table(con, ML_SCHEMA, "segment_catalog", catalog)
    context.log.info(f"Assigned {len(assigned):,} subscribers with {MODEL_NAME} v{champion.version} in {assign_s:.1f} s")

    min_size = int(champion.model.metrics_["min_size"])
    unassigned = int(assigned["macro_segment_id"].isna().sum() + assigned["micro_segment_id"].isna().sum())
    small = catalog[catalog["size"] < min_size]
    dup = catalog[catalog.duplicated(["level", "name"], keep=False)]
    yield dg.MaterializeResult(asset_key=ASSIGNMENTS, metadata={
        "model_version": champion.version, "subscribers": len(assigned), "assign_seconds": round(assign_s, 1)})
    yield dg.MaterializeResult(asset_key=CATALOG, metadata={
        "model_version": champion.version, "macro_segments": int((catalog["level"] == "macro").sum()),
        "micro_segments": int((catalog["level"] == "micro").sum())})
    checks = [
        dg.AssetCheckResult(asset_key=ASSIGNMENTS, check_name="every_subscriber_assigned", passed=len(assigned) == len(profiles) and unassigned == 0,
                            metadata={"profiles": len(profiles), "assigned": len(assigned), "missing_ids": unassigned}),
        # Sizes move between retrains; a segment that shrank below the minimum asks for a retrain (warn).
        dg.AssetCheckResult(asset_key=CATALOG, check_name="no_segment_under_minimum", passed=small.empty,
                            severity=dg.AssetCheckSeverity.WARN,
                            metadata={"min_size": min_size, "smallest": int(catalog["size"].min()),
                                      "below": ", ".join(f"{i} ({s})" for i, s in zip(small["segment_id"], small["size"]))}),
        dg.AssetCheckResult(asset_key=CATALOG, check_name="names_unique", passed=dup.empty,
                            metadata={"duplicates": ", ".join(sorted(set(dup["name"])))}),
    ]
    yield from checks
