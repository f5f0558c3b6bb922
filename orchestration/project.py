"""The dbt project as Dagster sees it, and the one place its manifest is prepared.

``dagster dev`` re-parses through ``prepare_if_dev``; the CLI and the tests call
:func:`ensure_manifest`, which runs ``dbt parse`` only when a model, macro or YAML file changed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from dagster_dbt import DbtProject

from orchestration.settings import DBT_PROJECT_DIR, load_settings

try:
    import fcntl
except ImportError:  # Windows has no fcntl
    fcntl = None

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
MANIFEST = dbt_project.manifest_path

_SOURCES = ("models", "macros", "tests", "seeds", "snapshots", "analyses")


def _newest_source_mtime() -> float:
    newest = max(
        (DBT_PROJECT_DIR / name).stat().st_mtime for name in ("dbt_project.yml", "profiles.yml")
    )
    for sub in _SOURCES:
        for path in (DBT_PROJECT_DIR / sub).rglob("*") if (DBT_PROJECT_DIR / sub).exists() else ():
            if path.is_file():
                newest = max(newest, path.stat().st_mtime)
    return newest


def dbt_executable() -> str:
    """The dbt installed beside this Python (the project's virtualenv), else whatever is on PATH."""
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else "dbt"


def _fresh() -> bool:
    return MANIFEST.exists() and MANIFEST.stat().st_mtime >= _newest_source_mtime()


@contextmanager
def _parse_lock():
    """One ``dbt parse`` at a time into the project's target folder (e.g. the CLI beside a parallel test
    worker): a second parse waits, then finds the manifest fresh. Closing the file releases the lock.
    No lock where ``fcntl`` is missing."""
    MANIFEST.parent.mkdir(parents=True, exist_ok=True)
    with open(MANIFEST.parent / ".parse.lock", "w") as handle:
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def ensure_manifest() -> Path:
    """Run ``dbt parse`` when the manifest is missing or older than any dbt source file."""
    if _fresh():
        return MANIFEST
    with _parse_lock():
        if _fresh():  # parsed by another process while this one waited
            return MANIFEST
        env = {**os.environ, **load_settings().dbt_env()}
        proc = subprocess.run(
            [dbt_executable(), "parse", "--quiet", "--project-dir", str(DBT_PROJECT_DIR),
             "--profiles-dir", str(DBT_PROJECT_DIR)],
            cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True,
        )
    if proc.returncode != 0:
        raise RuntimeError(f"dbt parse failed:\n{proc.stdout}\n{proc.stderr}")
    return MANIFEST
