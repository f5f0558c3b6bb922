"""Train, backtest, register and gate the scoring models (one MLflow run and registered model each).

For every recipe of :mod:`ml.scoring.recipes` (churn, purchase, open, clv, send-time, fatigue,
affinity): fit on the training build (features as of as_of - 90 days, labels after it), backtest on
the held-out subscribers, register as ``mailsift-<name>``, and evaluate the current champion on the
*same* backtest. The new version takes the ``champion`` alias only if its primary metric is no worse
than the champion's (:func:`ml.scoring.gates.no_worse`). The backtests go to the warehouse:
``ml.backtest_<name>`` (held-out predictions vs actual outcomes, one row per subscriber or send) and
``ml.model_backtests`` (every metric of the new version, the champion and the baseline), from which dbt
builds ``serving.model_backtests``. The probability models (churn, purchase, open) also log their
held-out reliability curve beside the baseline's as ``calibration.png`` (:mod:`ml.scoring.reliability`).
The asset check ``champions_beat_their_baselines`` warns (the run goes on) when a champion now scoring
does not beat its naive baseline on this backtest: a first version is promoted without a champion to
compare with, and on a small list it can score below the baseline.

Last, the click probability of a planned campaign (what ``mailsift audience`` prints and writes) is
calibrated for the champions now in place: Platt scaling of the combined topic / offer log-odds, fitted on
the held-out subscribers' later sends (:mod:`ml.scoring.click_calibration`), written to
``ml.campaign_click_calibration`` (one row per mode, with the champion versions it belongs to) and logged
as the MLflow run ``campaign-click-calibration``.
"""


import json
import time
from datetime import datetime, timezone

import dagster as dg
import mlflow
import pandas as pd

from ml.scoring.click_calibration import CampaignClickCalibration, model_versions
from ml.scoring.gates import Backtest, beats_baseline, no_worse
from ml.scoring.recipes import RECIPES, Recipe, TrainingData, holdout_campaign_probabilities
from ml.scoring.reliability import reliability_figure
from orchestration import model_registry as registry
from orchestration.assets.ingestion import WAREHOUSE_POOL
from orchestration.assets.scoring_training import scoring_training_data
from orchestration.resources import WarehouseResource
from orchestration.scoring_data import load_training_data
from orchestration.serving import ML_SCHEMA, replace_table

MODEL_BACKTESTS = dg.AssetKey(["ml", "model_backtests"])
CALIBRATION_PLOTS = ("churn", "purchase", "open")  # the recipes whose outputs are read as probabilities
CLICK_CALIBRATION_TABLE = "campaign_click_calibration"
BASELINE_CHECK = "champions_beat_their_baselines"


def registered_name(recipe_name: str) -> str:
    return f"mailsift-{recipe_name}"


def backtest_table(recipe_name: str) -> str:
    return "backtest_" + recipe_name.replace("-", "_")


def _metric_rows(recipe: Recipe, version: int, role: str, bt: Backtest, data: TrainingData,
                 promoted: bool) -> list[dict]:
    rows = []
    for metric, value in bt.metrics.items():
        if metric in ("rows",):
            continue
        rows.append({"model": registered_name(recipe.name), "model_version": str(version), "role": role,
                     "promoted": promoted, "metric": metric, "value": float(value),
                     "baseline_value": float(bt.baseline[metric]) if metric in bt.baseline else None,
                     "is_primary": metric == bt.primary, "holdout_rows": int(bt.metrics.get("rows", len(bt.rows))),
                     "training_cutoff": data.cutoff.to_pydatetime(), "horizon_days": data.horizon_days})
    return rows


def _champion(context, name: str):
    try:
        return registry.champion(name)
    except Exception as exc:  # noqa: BLE001 -- an unloadable champion is replaced, not fatal
        context.log.warning(f"The champion of {name} cannot be loaded ({type(exc).__name__}: {exc}); "
                            "the new version is judged on its own.")
        return None


def _log_run(recipe: Recipe, model, bt: Backtest, champ_bt: Backtest | None, data: TrainingData) -> int:
    params = {k: (json.dumps(v, default=str) if isinstance(v, (dict, tuple, list)) else v)
              for k, v in model.get_params().items()}
    mlflow.log_params(params)
    registry.log_flat_metrics(bt.metrics)
    registry.log_flat_metrics(bt.baseline, prefix="baseline.")
    if champ_bt is not None:
        registry.log_flat_metrics(champ_bt.metrics, prefix="champion.")
    mlflow.set_tags({"training_cutoff": str(data.cutoff), "horizon_days": str(data.horizon_days),
                     "primary_metric": bt.primary, "description": recipe.description})
    summary = {"primary": bt.primary, "metrics": bt.metrics, "baseline": bt.baseline,
               "champion": champ_bt.metrics if champ_bt else None}
    mlflow.log_dict(json.loads(json.dumps(summary, default=float)), "backtest.json")
    if recipe.name in CALIBRATION_PLOTS and len(bt.rows):
        fig = reliability_figure(bt.rows["actual"], bt.rows["predicted"], baseline=bt.rows["baseline"],
                                 title=f"{registered_name(recipe.name)}: held-out reliability at {data.cutoff:%Y-%m-%d}")
        mlflow.log_figure(fig, "calibration.png")
    return registry.log_and_register(registered_name(recipe.name), model)


def _click_calibration(context, data: TrainingData, models: dict, versions: dict) -> pd.DataFrame:
    """Fit the campaign click calibration for the champions ``models`` / ``versions`` (by recipe name);
    one row per mode for ``ml.campaign_click_calibration``."""
    rankers = {models[n].dimension_: models[n] for n in ("topic-ranker", "offer-ranker") if n in models}
    p_topic, p_offer, p_overall, sends = holdout_campaign_probabilities(data, rankers)
    cal = CampaignClickCalibration().fit(p_topic, p_offer, p_overall, sends["sends"], sends["clicks"])
    tag = model_versions(versions)
    rows = [{"mode": mode, "slope": cal.slope_[mode], "intercept": cal.intercept_[mode],
             "fitted": mode not in cal.reasons_, "reason": cal.reasons_.get(mode),
             "holdout_sends": cal.sends_[mode], "holdout_clicks": cal.clicks_[mode],
             **{k: float(v) for k, v in cal.summary_[mode].items()},
             "model_versions": tag, "training_cutoff": data.cutoff.to_pydatetime()} for mode in cal.slope_]
    with registry.training_run("campaign-click-calibration", {"dagster_run_id": context.run.run_id,
                                                              "model_versions": tag}):
        registry.log_flat_metrics({r["mode"].replace("+", "_"): {k: r[k] for k in (
            "slope", "intercept", "holdout_sends", "clicked", "predicted_before", "predicted_after",
            "top_decile_clicked", "top_decile_predicted_before", "top_decile_predicted_after") if k in r}
            for r in rows})
    for r in rows:
        context.log.info(
            f"Campaign click calibration ({r['mode']}, {tag}): "
            + (f"slope {r['slope']:.3f}, intercept {r['intercept']:.3f} on {r['holdout_sends']:,} held-out "
               f"sends; top decile {r['top_decile_predicted_before']:.3f} -> {r['top_decile_predicted_after']:.3f} "
               f"predicted, {r['top_decile_clicked']:.3f} clicked" if r["fitted"] else
               f"identity ({r['reason']})"))
    return pd.DataFrame(rows)


@dg.multi_asset(
    specs=[dg.AssetSpec(MODEL_BACKTESTS, group_name="scoring", deps=[scoring_training_data],
                        description="Every scoring model trained, backtested on held-out subscribers, registered "
                                    "as mailsift-<model> and promoted to champion when no worse than the champion.")],
    check_specs=[dg.AssetCheckSpec(BASELINE_CHECK, asset=MODEL_BACKTESTS,
                                   description="Every champion now scoring beats its naive baseline on this run's "
                                               "backtest (warns, never stops the run).")],
    pool=WAREHOUSE_POOL, name="scoring_models")
def scoring_models(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    settings = warehouse.settings()
    data = load_training_data(settings.warehouse)
    registry.configure(settings)
    metric_rows, backtests, summary = [], {}, []
    champ_models, champ_versions = {}, {}  # the champion of each recipe after this run's promotions
    serving = {}  # registered name -> (version, backtest) of the champion after this run, when evaluated
    for recipe in RECIPES.values():
        name = registered_name(recipe.name)
        t0 = time.perf_counter()
        try:
            model = recipe.fit(data)
            bt = recipe.evaluate(model, data)
        except ValueError as exc:
            raise dg.Failure(f"{name}: cannot train on this data ({exc}). The previous champion keeps "
                             "scoring.") from exc
        fit_s = time.perf_counter() - t0
        champion = _champion(context, name)
        champ_bt = None
        if champion is not None:
            try:
                champ_bt = recipe.evaluate(champion.model, data)
            except Exception as exc:  # noqa: BLE001
                context.log.warning(f"{name} champion v{champion.version} cannot be evaluated ({exc}).")
        promote = no_worse(bt, champ_bt)
        with registry.training_run(recipe.name, {"dagster_run_id": context.run.run_id}):
            mlflow.log_metric("fit_seconds", fit_s)
            version = _log_run(recipe, model, bt, champ_bt, data)
        if promote:
            registry.promote(name, version)
            champ_models[recipe.name], champ_versions[recipe.name] = model, version
            serving[name] = (version, bt)
        elif champion is not None:
            champ_models[recipe.name], champ_versions[recipe.name] = champion.model, champion.version
            if champ_bt is not None:
                serving[name] = (champion.version, champ_bt)
        verdict = ("promoted to champion" if promote else
                   f"NOT promoted: {bt.primary} {bt.score:.4f} < champion v{champion.version}'s {champ_bt.score:.4f}")
        context.log.info(f"{name} v{version}: {bt.primary} {bt.score:.4f} (baseline "
                         f"{bt.baseline.get(bt.primary, float('nan')):.4f}), {verdict}")
        metric_rows += _metric_rows(recipe, version, "candidate", bt, data, promote)
        if champ_bt is not None:
            metric_rows += _metric_rows(recipe, champion.version, "champion", champ_bt, data, False)
        backtests[recipe.name] = bt.rows.assign(model_version=str(version))
        summary.append(f"| {name} | {version} | {bt.primary} | {bt.score:.4f} | "
                       f"{bt.baseline.get(bt.primary, float('nan')):.4f} | "
                       f"{'' if champ_bt is None else f'{champ_bt.score:.4f}'} | {'yes' if promote else 'no'} |")
    frame = pd.DataFrame(metric_rows)
    frame["evaluated_at"] = datetime.now(timezone.utc).replace(tzinfo=None)
    calibration = None
    if "affinity" in champ_models:
        try:
            calibration = _click_calibration(context, data, champ_models, champ_versions)
            calibration["fitted_at"] = frame["evaluated_at"].iloc[0]
        except Exception as exc:  # noqa: BLE001 -- audiences stay uncalibrated (and say so), scoring goes on
            context.log.warning(f"The campaign click calibration could not be fitted ({type(exc).__name__}: "
                                f"{exc}); audience click probabilities stay uncalibrated.")
    with warehouse.connection() as con:
        for name, rows in backtests.items():
            replace_table(con, ML_SCHEMA, backtest_table(name), rows)
        replace_table(con, ML_SCHEMA, "model_backtests", frame)
        if calibration is not None:
            replace_table(con, ML_SCHEMA, CLICK_CALIBRATION_TABLE, calibration)
    table = ["| model | version | metric | value | baseline | champion | promoted |", "|---|---|---|---|---|---|---|"]
    yield dg.MaterializeResult(asset_key=MODEL_BACKTESTS, metadata={
        "training_cutoff": str(data.cutoff), "backtests": dg.MetadataValue.md("\n".join(table + summary))})
    yield _baseline_check(context, serving)


def _baseline_check(context, serving: dict) -> dg.AssetCheckResult:
    """A warning (the run goes on) when a champion now scoring does not beat its naive baseline on this
    run's backtest: e.g. a first version, promoted because there was no champion to compare with, on a
    list too small to learn much from."""
    verdicts = {name: (version, bt, beats_baseline(bt)) for name, (version, bt) in serving.items()}
    below = [f"{name} v{version}: {bt.primary} {bt.score:.4f} < baseline {bt.baseline[bt.primary]:.4f}"
             for name, (version, bt, beats) in verdicts.items() if beats is False]
    for line in below:
        context.log.warning(f"Champion below its naive baseline: {line}; its scores are served all the same")
    compared = sum(beats is not None for _, _, beats in verdicts.values())
    return dg.AssetCheckResult(
        asset_key=MODEL_BACKTESTS, check_name=BASELINE_CHECK, passed=not below, severity=dg.AssetCheckSeverity.WARN,
        metadata={"champions_compared": compared, "below_baseline": dg.MetadataValue.md(
            "\n".join(f"- {line}" for line in below) or "none")})
