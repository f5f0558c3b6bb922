"""Sensors: new landing files start a refresh; drift past the threshold starts a retrain.

``landing_files_sensor`` watches the landing folder (no warehouse access: DuckDB allows one writer or
many readers, never both). A file is new when its path, size or modification time is not in the
cursor; files modified in the last ``settle_seconds`` may still be being written and wait for the next
tick. The first tick records what is already there (the initial build is `mailsift run`) and starts
nothing. Which rows are really new is then decided by ingestion, by content hash.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import dagster as dg

from orchestration.assets.monitoring import DRIFT
from orchestration.ingestion import SUFFIXES, discover
from orchestration.jobs import everything_job, refresh_job
from orchestration.settings import load_settings

SETTLE_SECONDS = 30


def landing_snapshot(landing_dir: Path, now: float, settle_seconds: float = SETTLE_SECONDS) -> tuple[dict, int]:
    """({relative path: [size, mtime_ns]} of settled landing files, number still settling)."""
    if not landing_dir.exists():
        return {}, 0
    found, _ = discover(landing_dir)
    files, settling = {}, 0
    for _entity, path in found:
        if not path.name.lower().endswith(SUFFIXES):
            continue
        st = path.stat()
        if now - st.st_mtime < settle_seconds:
            settling += 1
            continue
        files[str(path.relative_to(landing_dir))] = [st.st_size, st.st_mtime_ns]
    return files, settling


def new_files(previous: dict, current: dict) -> list[str]:
    return sorted(p for p, stat in current.items() if previous.get(p) != stat)


@dg.sensor(job=refresh_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Starts mailsift_refresh when new or changed files settle in the landing folder.")
def landing_files_sensor(context: dg.SensorEvaluationContext):
    settings = load_settings()
    current, settling = landing_snapshot(settings.landing_dir, time.time())
    if context.cursor is None:
        context.update_cursor(json.dumps(current))
        return dg.SkipReason(f"Watching {settings.landing_dir}: {len(current)} file(s) already there are the "
                             "baseline (build them with `mailsift run`); new files will start a refresh.")
    previous = json.loads(context.cursor)
    fresh = new_files(previous, current)
    # Keep files still settling out of the cursor (a previous entry stays), so they count next tick.
    context.update_cursor(json.dumps({**previous, **current}))
    if not fresh:
        return dg.SkipReason("No new landing files" + (f" ({settling} still being written)" if settling else "") + ".")
    digest = hashlib.sha256(json.dumps({p: current[p] for p in fresh}, sort_keys=True).encode()).hexdigest()[:16]
    return dg.RunRequest(run_key=f"landing-{digest}",
                         tags={"mailsift/trigger": "landing_files_sensor", "mailsift/new_files": str(len(fresh))})


@dg.asset_sensor(asset_key=DRIFT, job=everything_job, default_status=dg.DefaultSensorStatus.RUNNING,
                 description="Starts the full job (retraining every model) when segment_drift recommends it.")
def drift_retrain_sensor(context: dg.SensorEvaluationContext, asset_event: dg.EventLogEntry):
    materialization = asset_event.asset_materialization
    flag = materialization.metadata.get("retrain_recommended") if materialization else None
    if flag is None or not flag.value:
        return dg.SkipReason("Latest drift check is below the retrain threshold.")
    return dg.RunRequest(run_key=f"drift-retrain-{asset_event.run_id or 'runless'}-{asset_event.timestamp:.0f}",
                         tags={"mailsift/trigger": "drift_retrain_sensor"})
