"""The UIs a user opens, rendered by headless Chromium (Debian's `chromium`, installed by `make browser`).

On the shared demo world (tests/demo_world.py): the Dagster UI shows the pipeline's assets from
ingestion to serving; the MLflow UI shows the registered models with their champion alias; the
`mailsift report` page shows one card per macro segment. Servers listen on 127.0.0.1 only, are waited
for with a bounded wait and killed (whole process group) afterwards. Without chromium the tests skip
locally and FAIL in CI (CI=true), so CI cannot pass without them.
"""

from __future__ import annotations

import html.parser
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.demo_world import DemoWorld

# one pytest-xdist worker builds the shared demo world and runs every test on it (`make test`)
pytestmark = pytest.mark.xdist_group("demo_world")

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
START_TIMEOUT_S = 240  # a server that does not answer by then fails the test
PAGE_TIMEOUT_S = 180


def chromium() -> str:
    exe = shutil.which("chromium")
    if exe is None:
        msg = "chromium is not installed: run `make browser` (apt-get install chromium)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(msg)
        pytest.skip(msg)
    return exe


def _chromium_args(profile: Path, budget_ms: int, size: str) -> list[str]:
    return [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--no-first-run", "--disable-extensions",
            f"--user-data-dir={profile}", f"--virtual-time-budget={budget_ms}", f"--window-size={size}"]


def render(url: str, profile: Path, budget_ms: int, size: str = "1600,2400") -> str:
    """The DOM after the page's scripts ran (virtual time lets the page settle without sleeping)."""
    out = subprocess.run(_chromium_args(profile, budget_ms, size) + ["--dump-dom", url],
                         capture_output=True, text=True, timeout=PAGE_TIMEOUT_S)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def screenshot(url: str, profile: Path, path: Path, budget_ms: int, size: str = "1600,1000") -> Path:
    out = subprocess.run(_chromium_args(profile, budget_ms, size) + [f"--screenshot={path}", url],
                         capture_output=True, text=True, timeout=PAGE_TIMEOUT_S)
    assert out.returncode == 0, out.stderr[-2000:]
    return path


class _Text(html.parser.HTMLParser):
    """Visible text of a page: everything outside <script>, <style> and <noscript>."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "noscript"):
            self.hidden += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style", "noscript") and self.hidden:
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden and data.strip():
            self.parts.append(data.strip())


def visible_text(dom: str) -> str:
    parser = _Text()
    parser.feed(dom)
    return " ".join(parser.parts).replace("\xa0", " ")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(cmd: list[str], env: dict[str, str], ready_url: str, log: Path):
    """Start a server in its own process group, wait (bounded) until ready_url answers 200, kill after."""
    with open(log, "wb") as fh:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=fh, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"{cmd[0]} exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(ready_url, timeout=5) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"{cmd[0]} did not answer {ready_url} within {START_TIMEOUT_S} s:\n"
                            f"{log.read_text()[-3000:]}")
            time.sleep(1)
        yield proc
    finally:
        _kill_group(proc)


def _kill_group(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    except ProcessLookupError:
        pass


@pytest.fixture
def dagster_ui(demo_world: DemoWorld, tmp_path):
    port = free_port()
    cmd = [str(BIN / "dagster-webserver"), "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)]
    url = f"http://127.0.0.1:{port}"
    with serve(cmd, demo_world.subprocess_env(), f"{url}/server_info", tmp_path / "dagster.log"):
        # The UI opens a "join the community" dialog over the graph on a new DAGSTER_HOME; mark it seen.
        request = urllib.request.Request(f"{url}/graphql", data=b'{"query": "mutation { setNuxSeen }"}',
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as resp:
            assert json.load(resp) == {"data": {"setNuxSeen": True}}
        yield url


@pytest.fixture
def mlflow_ui(demo_world: DemoWorld, tmp_path):
    port = free_port()
    cmd = [str(BIN / "mlflow"), "server", "--backend-store-uri", f"sqlite:///{demo_world.mlflow_db}",
           "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    with serve(cmd, demo_world.subprocess_env(), f"http://127.0.0.1:{port}/health", tmp_path / "mlflow.log"):
        yield f"http://127.0.0.1:{port}"


# Asset group page -> assets it must show: ingestion, dbt marts, the ML models, the serving layer.
GROUP_PAGES = {
    "landing": ["load_manifest", "orders", "rejected_files"],  # tables of the raw_landing multi-asset
    "segmentation": ["subscriber_profiles", "segmentation_model", "segment_assignments"],
    "scoring": ["scoring_training_data", "model_backtests", "subscriber_scores"],
    "serving": ["subscriber_segments", "segment_profiles", "published_serving_files"],
}


def test_dagster_ui_shows_the_pipeline(dagster_ui, tmp_path):
    chromium()
    for group, assets in GROUP_PAGES.items():
        text = visible_text(render(f"{dagster_ui}/locations/mailsift/asset-groups/{group}", tmp_path / "profile",
                                   budget_ms=20_000))
        assert f"Asset groups | {group}" in text, text[:500]
        missing = [a for a in assets if a not in text]
        assert not missing, f"{group} page lacks {missing}: {text[:1500]}"
        # the demo run materialised every asset in this DAGSTER_HOME, and the UI shows it
        assert "Materialized" in text and "Never materialized" not in text, text[:1500]
        assert "Join the Dagster community" not in text
    shot = screenshot(f"{dagster_ui}/locations/mailsift/asset-groups/segmentation", tmp_path / "profile",
                      tmp_path / "dagster-segmentation.png", budget_ms=20_000)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000


def test_mlflow_ui_shows_champion_models(mlflow_ui, tmp_path):
    chromium()
    text = visible_text(render(f"{mlflow_ui}/#/models", tmp_path / "profile", budget_ms=30_000))
    assert "Registered Models" in text, text[:500]
    for model in ("mailsift-segmentation", "mailsift-churn", "mailsift-purchase", "mailsift-open",
                  "mailsift-clv", "mailsift-send-time"):
        assert model in text, f"{model} missing: {text[:1500]}"
        # the models list shows each model's aliases: "<name> Version n @ champion : Version n"
        assert re.search(rf"{model} Version \d+ @ champion : Version \d+", text), f"{model}: no champion alias"
    shot = screenshot(f"{mlflow_ui}/#/models", tmp_path / "profile", tmp_path / "mlflow-models.png",
                      budget_ms=30_000)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_page_has_a_card_per_macro_segment(demo_world: DemoWorld, tmp_path):
    import duckdb

    chromium()
    page = demo_world.report_dir / "index.html"
    with duckdb.connect(str(demo_world.warehouse), read_only=True) as con:
        macro = dict(con.execute(
            "SELECT segment_id, name FROM serving.segment_profiles WHERE level = 'macro'").fetchall())
    assert len(macro) >= 2
    dom = render(page.as_uri(), tmp_path / "profile", budget_ms=5_000)
    cards = re.findall(r'<section class="card" data-segment-id="([^"]+)"', dom)
    assert sorted(cards) == sorted(macro), (cards, sorted(macro))
    text = visible_text(dom)
    assert all(name in text for name in macro.values())
