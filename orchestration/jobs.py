"""The jobs: the full run, the incremental refresh, and the profiles-only run.

``mailsift_everything`` (what `mailsift run` starts, and the weekly retrain schedule) trains every
model. ``mailsift_refresh`` (what the landing sensor and `mailsift refresh` start) loads the new
landing files, updates the incremental event models and the profiles, and re-assigns and re-scores
everyone with the current champions -- no training -- then rebuilds and publishes every serving table.
"""

import dagster as dg

from orchestration.assets.scoring_models import scoring_models
from orchestration.assets.scoring_training import scoring_training_data
from orchestration.assets.segmentation import segmentation_model

TRAINING_ASSETS = dg.AssetSelection.assets(segmentation_model, scoring_training_data, scoring_models)

everything_job = dg.define_asset_job(
    "mailsift_everything",
    selection=dg.AssetSelection.all(),
    description="Landing files to serving tables: every asset once, models retrained (what `mailsift run` starts).",
)

refresh_job = dg.define_asset_job(
    "mailsift_refresh",
    selection=dg.AssetSelection.all() - TRAINING_ASSETS,
    description="New landing files to every serving table without training: incremental event models, "
                "profiles rebuilt, everyone re-assigned and re-scored by the champion models (`mailsift refresh`).",
)

profiles_job = dg.define_asset_job(
    "mailsift_profiles",
    selection=dg.AssetSelection.groups("landing", "staging", "intermediate", "marts"),
    description="Landing files to the marts (subscriber_profiles) only: no model training or serving.",
)
