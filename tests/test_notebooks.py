"""Every notebook executed top to bottom by a real Jupyter kernel (nbclient + ipykernel) on the demo world.

A cell that raises fails the test (nbclient raises CellExecutionError). The figures the notebooks print
are compared with the same figures read from the warehouse here.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient

from orchestration.warehouse import connect

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))

# one pytest-xdist worker builds the shared demo world and runs every test on it (`make test`)
pytestmark = pytest.mark.xdist_group("demo_world")


def execute(path: Path, monkeypatch) -> nbformat.NotebookNode:
    """Run the notebook in a fresh kernel with this checkout's code importable; return it with outputs."""
    path_env = os.environ.get("PYTHONPATH")
    monkeypatch.setenv("PYTHONPATH", str(REPO) + (os.pathsep + path_env if path_env else ""))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=False,
                   resources={"metadata": {"path": str(REPO)}}).execute()
    return nb


def printed(nb) -> str:
    return "".join(out.get("text", "") for cell in nb.cells if cell.cell_type == "code"
                   for out in cell.outputs if out.output_type == "stream")


def images(nb) -> int:
    return sum("image/png" in out.get("data", {}) for cell in nb.cells if cell.cell_type == "code"
               for out in cell.outputs)


def test_there_are_notebooks():
    assert {p.name for p in NOTEBOOKS} >= {"segment_explorer.ipynb", "model_report.ipynb"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_outputs_are_stripped_in_git(path):
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, f"{path.name}: strip outputs"


def test_segment_explorer(demo_env, monkeypatch):
    nb = execute(REPO / "notebooks" / "segment_explorer.ipynb", monkeypatch)
    text = printed(nb)
    with connect(demo_env.warehouse, read_only=True) as con:
        n = con.execute("SELECT count(*) FROM serving.subscriber_segments").fetchone()[0]
        n_macro = con.execute("SELECT count(*) FROM serving.segment_profiles WHERE level = 'macro'").fetchone()[0]
    assert f"{n:,} subscribers, {n_macro} macro" in text
    assert f"trait heat map: {n_macro} segments x 15 traits" in text
    assert f"subscriber map: {n:,} subscribers" in text
    transitions = demo_env.serving_dir / "segment_transitions.parquet"
    if not transitions.exists() or pd.read_parquet(transitions).empty:
        assert "no segment moves recorded yet" in text
    # sizes, lift, traits, map, and (with moves) the transitions figure
    assert images(nb) >= 4


def test_segment_explorer_plots_recorded_moves(demo_world, tmp_path, monkeypatch):
    """Three hand-written moves over two days: 2 + 1 per day, and the from -> to counts."""
    serving = tmp_path / "serving"
    shutil.copytree(demo_world.serving_dir, serving)
    pd.DataFrame({
        "subscriber_key": ["k1", "k2", "k3"],
        "from_segment_id": ["M01", "M01", "M02"],
        "to_segment_id": ["M02", "M02", "M01"],
        "moved_at": pd.to_datetime(["2026-09-01 08:00", "2026-09-01 17:00", "2026-09-02 09:30"]),
    }).to_parquet(serving / "segment_transitions.parquet")
    for name, value in demo_world.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("MAILSIFT_SERVING_DIR", str(serving))
    text = printed(execute(REPO / "notebooks" / "segment_explorer.ipynb", monkeypatch))
    assert "3 moves on 2 day(s)" in text
    lines = [line.split() for line in text.splitlines()]
    assert ["M01", "0", "2"] in lines and ["M02", "1", "0"] in lines
    assert "no segment moves recorded yet" not in text


def test_model_report(demo_env, monkeypatch):
    nb = execute(REPO / "notebooks" / "model_report.ipynb", monkeypatch)
    text = printed(nb)
    with connect(demo_env.warehouse, read_only=True) as con:
        m = con.execute("SELECT model, metric, value, baseline_value FROM serving.model_backtests "
                        "WHERE role = 'candidate'").df().set_index(["model", "metric"])
    hit = m.loc[("mailsift-send-time", "hit_rate_1h")]
    assert f"send-time hit rate within 1 h: model {hit['value']:.3f}, baseline {hit['baseline_value']:.3f}" in text
    lift = m.loc[("mailsift-churn", "top_decile_lift")]
    assert f"churn top-decile lift: model {lift['value']:.3f}, baseline {lift['baseline_value']:.3f}" in text
    assert "CLV: spearman(predicted, actual orders)" in text
    assert images(nb) == 3
