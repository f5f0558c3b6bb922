"""MLflow registry: log, register, promote to champion, and load the champion back."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression

from orchestration import model_registry as registry


@pytest.fixture
def mlflow_store(isolated_settings):
    registry.configure(isolated_settings)
    return isolated_settings


def _fit(slope: float) -> LinearRegression:
    X = np.arange(10, dtype=float).reshape(-1, 1)
    return LinearRegression().fit(X, slope * X.ravel())


def test_champion_only_moves_when_promoted(mlflow_store):
    assert registry.champion("mailsift-test") is None
    with registry.training_run("t1"):
        v1 = registry.log_and_register("mailsift-test", _fit(2.0))
    assert registry.champion("mailsift-test") is None  # registered, not promoted
    registry.promote("mailsift-test", v1)
    with registry.training_run("t2"):
        v2 = registry.log_and_register("mailsift-test", _fit(3.0))
    assert (v1, v2) == (1, 2)
    champ = registry.champion("mailsift-test")
    assert champ.version == 1
    assert champ.model.predict(np.array([[1.0]]))[0] == pytest.approx(2.0)
    registry.promote("mailsift-test", v2)
    assert registry.champion("mailsift-test").model.predict(np.array([[1.0]]))[0] == pytest.approx(3.0)


def test_artefacts_live_beside_the_warehouse(mlflow_store):
    import mlflow

    exp = mlflow.get_experiment_by_name(registry.EXPERIMENT)
    assert exp.artifact_location == mlflow_store.mlflow_artifact_root.as_uri()


def test_flat_metrics_skip_what_is_not_a_number(mlflow_store):
    import mlflow

    with registry.training_run("m") as _:
        registry.log_flat_metrics({"a": 1, "b": {"c": 0.5, "d": "text"}, "e": float("nan"), "f": True})
        run_id = mlflow.active_run().info.run_id
    assert mlflow.get_run(run_id).data.metrics == {"a": 1.0, "b.c": 0.5, "f": 1.0}
