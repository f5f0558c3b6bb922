"""The MLflow side of mailsift: one experiment, registered models, and the ``champion`` alias.

Every model of ``ml/`` is logged as an MLflow pyfunc wrapping the fitted estimator (so the MLflow UI
and registry show it like any other model), registered under its contract name
(``mailsift-segmentation``, ...), and promoted by moving the ``champion`` alias -- only when its
quality gates pass. Scoring and assignment always load ``models:/<name>@champion``.

Tracking goes to ``MLFLOW_TRACKING_URI`` (default: SQLite in ``data/mlflow.db``; the plain file store
is deprecated); artefacts to an absolute folder beside the warehouse (see
:attr:`orchestration.settings.Settings.mlflow_artifact_root`).
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
import mlflow.pyfunc
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from orchestration.settings import Settings

EXPERIMENT = "mailsift"
CHAMPION = "champion"
# The environment a logged model needs is this project's; name it instead of letting MLflow infer it
# (inference imports the model in a subprocess, slow and noisy).
_PIP_REQUIREMENTS = ["scikit-learn", "pandas", "numpy", "scipy"]



def _quiet() -> None:
    """MLflow logs every registration and a pickling notice per model at INFO/WARNING: one line per step
    is what our progress output wants, so keep MLflow's own loggers to errors."""
    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.ERROR)


class FittedModel(mlflow.pyfunc.PythonModel):
    """A fitted ``ml/`` estimator as an MLflow pyfunc: ``predict`` calls its ``assign`` or ``predict``."""

    def __init__(self, model: Any):
        self.model = model

    def predict(self, context, model_input: pd.DataFrame, params: dict[str, Any] | None = None) -> pd.DataFrame:
        """The estimator's ``assign`` (segmentation) or ``predict`` on a frame of profiles."""
        method = getattr(self.model, "assign", None) or self.model.predict
        return method(model_input)


@dataclass(frozen=True)
class Champion:
    name: str
    version: int
    run_id: str
    model: Any


def configure(settings: Settings) -> str:
    """Point MLflow at the tracking store and make sure the experiment exists; returns its id."""
    _quiet()
    uri = settings.mlflow_tracking_uri
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    exp = mlflow.get_experiment_by_name(EXPERIMENT)
    if exp is None:
        settings.mlflow_artifact_root.mkdir(parents=True, exist_ok=True)
        exp_id = mlflow.create_experiment(EXPERIMENT, artifact_location=settings.mlflow_artifact_root.as_uri())
    else:
        exp_id = exp.experiment_id
    mlflow.set_experiment(experiment_id=exp_id)
    return exp_id


def champion(name: str) -> Champion | None:
    """The model currently aliased ``champion`` under ``name``, loaded; None when there is none yet."""
    client = MlflowClient()
    try:
        mv = client.get_model_version_by_alias(name, CHAMPION)
    except MlflowException:
        return None
    loaded = mlflow.pyfunc.load_model(f"models:/{name}@{CHAMPION}")
    return Champion(name, int(mv.version), mv.run_id, loaded.unwrap_python_model().model)


def promote(name: str, version: int) -> None:
    MlflowClient().set_registered_model_alias(name, CHAMPION, str(version))


@contextmanager
def training_run(run_name: str, tags: Mapping[str, str] | None = None) -> Iterator[Path]:
    """An MLflow run plus a scratch folder for the artefacts to log from it."""
    with mlflow.start_run(run_name=run_name, tags=dict(tags or {})), \
            tempfile.TemporaryDirectory(prefix="mailsift-artefacts-") as tmp:
        yield Path(tmp)


def log_flat_metrics(metrics: Mapping[str, Any], prefix: str = "") -> None:
    """Log every finite number in ``metrics`` (nested dicts flattened with dots; others skipped)."""
    flat: dict[str, float] = {}

    def walk(d: Mapping[str, Any], pre: str) -> None:
        for k, v in d.items():
            key = f"{pre}{k}".replace(" ", "_")
            if isinstance(v, Mapping):
                walk(v, key + ".")
            elif isinstance(v, bool):
                flat[key] = float(v)
            elif isinstance(v, (int, float)) and v == v and abs(float(v)) != float("inf"):
                flat[key] = float(v)

    walk(metrics, prefix)
    if flat:
        mlflow.log_metrics(flat)


def log_and_register(name: str, model: Any) -> int:
    """Log ``model`` into the active run as a pyfunc and register it under ``name``; returns the version."""
    info = mlflow.pyfunc.log_model(name="model", python_model=FittedModel(model),
                                   pip_requirements=_PIP_REQUIREMENTS, registered_model_name=name)
    return int(info.registered_model_version)
