"""Every path and setting mailsift uses, resolved in one place.

The data contract's environment variables each have a working default relative to the repository
root, so a new user needs none of them. Every path is resolved to an absolute one here, because dbt
runs with its working directory in ``dbt_project/`` and Dagster from the repository root: a relative
path would point them at two different files.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"


def _path(env: str, default: str) -> Path:
    raw = os.environ.get(env) or default
    p = Path(raw).expanduser()
    return (p if p.is_absolute() else REPO_ROOT / p).resolve()


def _as_of(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        ts = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(
            f"MAILSIFT_AS_OF={raw!r} is not an ISO 8601 timestamp (e.g. 2026-09-30T23:59:59)"
        ) from exc
    if ts.tzinfo is not None:  # the warehouse keeps naive UTC
        from datetime import timezone

        ts = ts.astimezone(timezone.utc).replace(tzinfo=None)
    return ts


@dataclass(frozen=True)
class Settings:
    landing_dir: Path
    warehouse: Path
    serving_dir: Path
    as_of: datetime | None
    mlflow_tracking_uri: str
    salt_file: Path
    dagster_home: Path

    @property
    def data_dir(self) -> Path:
        return self.warehouse.parent

    @property
    def mlflow_artifact_root(self) -> Path:
        """Where MLflow keeps run artefacts and models: an absolute folder beside the warehouse (an
        experiment created without one puts artefacts relative to whatever the working directory is)."""
        return self.data_dir / "mlartifacts"

    def dbt_env(self) -> dict[str, str]:
        """Environment for a dbt subprocess: the absolute warehouse path."""
        return {"MAILSIFT_WAREHOUSE": str(self.warehouse)}

    def dbt_vars(self) -> dict[str, str]:
        return {"as_of": self.as_of.isoformat(sep=" ")} if self.as_of else {}


def load_settings() -> Settings:
    """Read the environment now (tests change it between runs, so this is not cached)."""
    warehouse = _path("MAILSIFT_WAREHOUSE", "data/warehouse.duckdb")
    mlflow_uri = os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{REPO_ROOT / 'data' / 'mlflow.db'}"
    return Settings(
        landing_dir=_path("MAILSIFT_LANDING_DIR", "data/landing"),
        warehouse=warehouse,
        serving_dir=_path("MAILSIFT_SERVING_DIR", "data/serving"),
        as_of=_as_of(os.environ.get("MAILSIFT_AS_OF")),
        mlflow_tracking_uri=mlflow_uri,
        # The salt behind subscriber_key: generated once, kept beside the warehouse (data/ is ignored by
        # git), never in the repository. Losing it changes every subscriber_key.
        salt_file=_path("MAILSIFT_SALT_FILE", str(warehouse.parent / "subscriber_key.salt")),
        dagster_home=_path("DAGSTER_HOME", "data/dagster_home"),
    )


def read_or_create_salt(salt_file: Path) -> str:
    """The secret salt for ``subscriber_key``; created (0600) on first use."""
    if salt_file.exists():
        salt = salt_file.read_text().strip()
        if len(salt) < 32:
            raise ValueError(f"{salt_file} holds a salt shorter than 32 characters; refusing to use it")
        return salt
    salt_file.parent.mkdir(parents=True, exist_ok=True)
    salt = secrets.token_hex(32)
    fd = os.open(salt_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(salt + "\n")
    return salt
