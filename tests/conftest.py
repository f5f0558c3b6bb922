"""Shared fixtures: an isolated set of MAILSIFT_* settings per test, and a parsed dbt project."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def dbt_manifest():
    """dagster-dbt only re-parses under `dagster dev`; tests parse when the project changed."""
    from orchestration.project import ensure_manifest

    return ensure_manifest()


@pytest.fixture
def isolated_settings(tmp_path, monkeypatch):
    """Every path the project writes points into this test's own folder."""
    paths = {
        "MAILSIFT_LANDING_DIR": tmp_path / "landing",
        "MAILSIFT_WAREHOUSE": tmp_path / "warehouse.duckdb",
        "MAILSIFT_SERVING_DIR": tmp_path / "serving",
        "MAILSIFT_SALT_FILE": tmp_path / "salt",
        "DAGSTER_HOME": tmp_path / "dagster_home",
    }
    for name, value in paths.items():
        monkeypatch.setenv(name, str(value))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.delenv("MAILSIFT_AS_OF", raising=False)
    paths["DAGSTER_HOME"].mkdir()
    from orchestration.settings import load_settings

    return load_settings()


@pytest.fixture(scope="session")
def demo_world(tmp_path_factory, dbt_manifest):
    """A small generated world run once through every asset; shared by the browser and notebook tests."""
    from tests.demo_world import build_demo_world

    return build_demo_world(tmp_path_factory.mktemp("demo_world"))


@pytest.fixture
def demo_env(demo_world, monkeypatch):
    """This test sees the demo world's MAILSIFT_* settings (and its DAGSTER_HOME / MLflow store)."""
    for name, value in demo_world.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MAILSIFT_AS_OF", raising=False)
    return demo_world
