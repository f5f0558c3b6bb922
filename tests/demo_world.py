"""One small generated world run through the whole pipeline, shared by the browser and notebook tests.

Built once per test session (the `demo_world` fixture in conftest.py) with the real commands:
`mailsift generate`, `mailsift run` (a persistent Dagster instance in its own DAGSTER_HOME, so the
Dagster UI shows the run), and `mailsift report`. Every path lives in the session's temporary folder;
the environment is restored afterwards, so tests that do not ask for the world never see it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

# Small enough to run in a few minutes; with this seed the segmentation passes
# its quality gates (500 subscribers fail the bootstrap-stability gate, and nothing is served).
SUBSCRIBERS = 1000
SEED = 5


@dataclass(frozen=True)
class DemoWorld:
    root: Path
    env: dict[str, str]
    report_dir: Path

    @property
    def serving_dir(self) -> Path:
        return Path(self.env["MAILSIFT_SERVING_DIR"])

    @property
    def warehouse(self) -> Path:
        return Path(self.env["MAILSIFT_WAREHOUSE"])

    @property
    def mlflow_db(self) -> Path:
        return self.root / "mlflow.db"

    def subprocess_env(self) -> dict[str, str]:
        """The environment for a server or kernel started on this world (this checkout's code first)."""
        repo = str(Path(__file__).resolve().parents[1])
        path = os.environ.get("PYTHONPATH")
        env = {k: v for k, v in os.environ.items() if k != "MAILSIFT_AS_OF"}
        return env | self.env | {"PYTHONPATH": repo + (os.pathsep + path if path else "")}


def world_env(root: Path) -> dict[str, str]:
    return {
        "MAILSIFT_LANDING_DIR": str(root / "landing"),
        "MAILSIFT_WAREHOUSE": str(root / "warehouse.duckdb"),
        "MAILSIFT_SERVING_DIR": str(root / "serving"),
        "MAILSIFT_SALT_FILE": str(root / "salt"),
        "DAGSTER_HOME": str(root / "dagster_home"),
        "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}",
    }


def build_demo_world(root: Path, subscribers: int = SUBSCRIBERS, seed: int = SEED) -> DemoWorld:
    from orchestration.cli import main

    env = world_env(root)
    world = DemoWorld(root=root, env=env, report_dir=root / "report")
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        mp.delenv("MAILSIFT_AS_OF", raising=False)
        assert main(["generate", "--subscribers", str(subscribers), "--seed", str(seed),
                     "--out", env["MAILSIFT_LANDING_DIR"]]) == 0
        rc = main(["run"])
        if rc != 0:
            logs = sorted((root / "logs").glob("run-*.log"))
            tail = logs[-1].read_text()[-4000:] if logs else ""
            raise AssertionError(f"`mailsift run` on the demo world failed (rc {rc}):\n{tail}")
        assert main(["report", "--out", str(world.report_dir)]) == 0
    return world
