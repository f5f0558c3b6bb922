"""Every notebook's code cells run top to bottom on published serving files (a failing cell fails the test)."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib
import pandas as pd
import pytest

from tests.test_report import _profiles

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def run_notebook(path: Path) -> dict:
    """Execute the code cells in one namespace, as a kernel would (without one)."""
    matplotlib.use("Agg")
    namespace: dict = {"__name__": "__main__"}
    for i, cell in enumerate(json.loads(path.read_text())["cells"]):
        if cell["cell_type"] == "code":
            try:
                exec(compile("".join(cell["source"]), f"{path.name}[cell {i}]", "exec"), namespace)
            except Exception as exc:
                raise AssertionError(f"{path.name}: cell {i} failed: {exc!r}") from exc
    return namespace


@pytest.fixture
def published(isolated_settings):
    serving = isolated_settings.serving_dir
    serving.mkdir(parents=True)
    _profiles().to_parquet(serving / "segment_profiles.parquet")
    pd.DataFrame({"subscriber_key": ["k1", "k2", "k3"], "macro_segment_id": ["M01", "M01", "M02"],
                  "lifecycle_stage": ["active", "lapsed", "active"]}).to_parquet(serving / "subscriber_segments.parquet")
    pd.DataFrame({"segment_id": ["M01", "M01", "M02", "M02"], "level": "macro", "dimension": "content_topic",
                  "value": ["home", "tech", "home", "tech"], "lift": [1.8, 0.5, 1.1, 0.9]}).to_parquet(
        serving / "segment_content_response.parquet")
    return isolated_settings


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path, published):
    ns = run_notebook(path)
    if path.name == "segment_explorer.ipynb":
        assert list(ns["macro"]["segment_id"]) == ["M01", "M02"]
        assert ns["lift"].loc["M01", "home"] == 1.8


def test_there_are_notebooks():
    assert NOTEBOOKS
