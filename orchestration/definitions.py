"""Everything Dagster serves for mailsift, loaded through ``workspace.yaml``."""

from __future__ import annotations

import dagster as dg

from orchestration.project import dbt_project, ensure_manifest

dbt_project.prepare_if_dev()
ensure_manifest()

from orchestration.assets.dbt import mailsift_dbt_models, mailsift_dbt_serving  # noqa: E402  (needs the manifest)
from orchestration.assets.ingestion import raw_landing  # noqa: E402
from orchestration.assets.monitoring import segment_drift  # noqa: E402
from orchestration.assets.segment_response import segment_response  # noqa: E402
from orchestration.assets.scores import subscriber_scores  # noqa: E402
from orchestration.assets.scoring_models import scoring_models  # noqa: E402
from orchestration.assets.scoring_training import scoring_training_data  # noqa: E402
from orchestration.assets.segmentation import segment_assignments, segmentation_model  # noqa: E402
from orchestration.assets.serving import published_serving_files  # noqa: E402
from orchestration.jobs import everything_job, profiles_job, refresh_job  # noqa: E402
from orchestration.progress import progress_logger  # noqa: E402
from orchestration.resources import build_resources  # noqa: E402
from orchestration.schedules import weekly_retrain  # noqa: E402
from orchestration.sensors import drift_retrain_sensor, landing_files_sensor  # noqa: E402

ALL_ASSETS = [raw_landing, mailsift_dbt_models, segmentation_model, segment_assignments,
              segment_response, segment_drift, scoring_training_data, scoring_models, subscriber_scores,
              mailsift_dbt_serving, published_serving_files]

defs = dg.Definitions(
    assets=ALL_ASSETS,
    jobs=[everything_job, refresh_job, profiles_job],
    schedules=[weekly_retrain],
    sensors=[landing_files_sensor, drift_retrain_sensor],
    resources=build_resources(),
    loggers={"console": progress_logger},
)
