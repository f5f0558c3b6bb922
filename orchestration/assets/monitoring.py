"""Drift: today's profiles and segment shares against the champion segmentation model's training data.

``segment_drift`` compares every numeric behaviour column of ``marts.subscriber_profiles`` with the
training profiles the champion remembered (population stability index per column, decile bins; see
:mod:`ml.monitoring.drift`) and today's macro segment shares with the shares at training. It writes
``ml.feature_drift`` (one row per column) and two asset checks that warn from ``DRIFT_WARN_PSI``; past
``DRIFT_RETRAIN_PSI`` its materialisation says ``retrain_recommended`` and the sensor
``drift_retrain_sensor`` (orchestration/sensors.py) starts the full job, which retrains.

Every column drifts a little by itself as time passes (tenure, days since ...); the thresholds are the
customary PSI readings (0.1 a moderate shift, 0.25 a major one).
"""

from datetime import datetime, timezone

import dagster as dg
import duckdb
import pandas as pd

from orchestration import model_registry as registry
from orchestration.assets.ingestion import WAREHOUSE_POOL
from orchestration.assets.segmentation import ASSIGNMENTS, MODEL_NAME, PROFILES
from orchestration.resources import WarehouseResource
from orchestration.serving import ML_SCHEMA, replace_table
from orchestration.warehouse import read_table

DRIFT = dg.AssetKey(["ml", "feature_drift"])
DRIFT_WARN_PSI = 0.10
DRIFT_RETRAIN_PSI = 0.25
FEATURE_CHECK = "feature_drift_below_warning"
SHARE_CHECK = "segment_shares_stable"


def _status(psi: float) -> str:
    return "major" if psi > DRIFT_RETRAIN_PSI else "moderate" if psi > DRIFT_WARN_PSI else "stable"


def drift_report(model, profiles: pd.DataFrame, assignments: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """(per-column PSI table, segment share shift) of today's data against ``model``'s training data."""
    from ml.monitoring import share_shift

    psi = model.drift_reference_.psi(profiles)
    table = pd.DataFrame({"feature": psi.index, "psi": psi.to_numpy(float)})
    table["status"] = table["psi"].map(_status)
    trained = model.segment_profiles_.query("level == 'macro'").set_index("segment_id")["share"]
    today = assignments["macro_segment_id"].value_counts(normalize=True)
    return table, share_shift(trained, today)


@dg.asset(key=DRIFT, group_name="segmentation", deps=[PROFILES, ASSIGNMENTS], pool=WAREHOUSE_POOL,
          description="Population stability of every profile column and of the macro segment shares against the "
                      "champion segmentation model's training data; recommends a retrain past a threshold.",
          check_specs=[dg.AssetCheckSpec(FEATURE_CHECK, asset=DRIFT,
                                         description=f"No profile column's PSI above {DRIFT_WARN_PSI} (warns)."),
                       dg.AssetCheckSpec(SHARE_CHECK, asset=DRIFT,
                                         description=f"PSI of the macro segment shares at most {DRIFT_WARN_PSI} (warns).")])
def segment_drift(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    settings = warehouse.settings()
    registry.configure(settings)
    champion = registry.champion(MODEL_NAME)
    if champion is None:
        raise dg.Failure(f"There is no champion {MODEL_NAME}: nothing to compare today's data with.")
    if getattr(champion.model, "drift_reference_", None) is None:
        reason = (f"The champion {MODEL_NAME} v{champion.version} was trained by a mailsift without drift references: "
                  "nothing to compare with until a retrain (mailsift run) promotes a new version.")
        context.log.warning(reason)
        yield dg.MaterializeResult(metadata={"model_version": champion.version, "retrain_recommended": False,
                                             "skipped": reason})
        for check in (FEATURE_CHECK, SHARE_CHECK):
            yield dg.AssetCheckResult(check_name=check, passed=False, severity=dg.AssetCheckSeverity.WARN,
                                      metadata={"not_evaluated": reason})
        return
    columns = champion.model.drift_reference_.columns
    try:
        profiles = read_table(settings.warehouse, "marts", "subscriber_profiles", columns=[*columns, "as_of"])
    except duckdb.Error as exc:
        raise dg.Failure(f"marts.subscriber_profiles lacks a column the champion {MODEL_NAME} v{champion.version} "
                         f"was trained on ({exc}); retrain with `mailsift run`.") from exc
    assignments = read_table(settings.warehouse, ML_SCHEMA, "segment_assignments", columns=["macro_segment_id"])
    table, shares = drift_report(champion.model, profiles, assignments)
    as_of = profiles["as_of"].max()
    stored = table.assign(as_of=as_of, model_version=str(champion.version),
                          checked_at=datetime.now(timezone.utc).replace(tzinfo=None))
    with warehouse.connection() as con:
        replace_table(con, ML_SCHEMA, "feature_drift", stored)
    worst = table.iloc[0] if len(table) else None
    max_psi = float(worst["psi"]) if worst is not None else 0.0
    retrain = max_psi > DRIFT_RETRAIN_PSI or shares["psi"] > DRIFT_RETRAIN_PSI
    drifting = table[table["psi"] > DRIFT_WARN_PSI]
    message = (f"Drift against {MODEL_NAME} v{champion.version}: largest column PSI {max_psi:.3f}"
               + (f" ({worst['feature']})" if worst is not None else "")
               + f", segment share PSI {shares['psi']:.3f}, largest share change {shares['max_abs_change']:.3f}")
    (context.log.warning if retrain else context.log.info)(
        message + (" -- past the retrain threshold: drift_retrain_sensor will start a retrain." if retrain else ""))
    top = table.head(10)
    yield dg.MaterializeResult(metadata={
        "model_version": champion.version, "max_feature_psi": max_psi,
        "segment_share_psi": float(shares["psi"]), "max_segment_share_change": float(shares["max_abs_change"]),
        "retrain_recommended": bool(retrain), "retrain_threshold_psi": DRIFT_RETRAIN_PSI,
        "top_features": dg.MetadataValue.md(
            "| column | PSI | status |\n|---|---:|---|\n"
            + "\n".join(f"| {f} | {p:.3f} | {s} |" for f, p, s in zip(top["feature"], top["psi"], top["status"])))})
    yield dg.AssetCheckResult(check_name=FEATURE_CHECK, passed=drifting.empty, severity=dg.AssetCheckSeverity.WARN,
                              metadata={"drifting_columns": ", ".join(f"{f} ({p:.2f})" for f, p in
                                                                      zip(drifting["feature"], drifting["psi"])) or "none",
                                        "max_psi": max_psi})
    yield dg.AssetCheckResult(check_name=SHARE_CHECK, passed=shares["psi"] <= DRIFT_WARN_PSI,
                              severity=dg.AssetCheckSeverity.WARN,
                              metadata={"psi": float(shares["psi"]), "max_abs_change": float(shares["max_abs_change"])})
