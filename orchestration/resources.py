"""Dagster resources: the warehouse (settings resolved per run) and the dbt CLI."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource

from orchestration.project import dbt_executable, dbt_project
from orchestration.settings import Settings, load_settings, read_or_create_salt
from orchestration.warehouse import bootstrap, connect


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse. Settings come from the contract's environment variables at run time."""

    def settings(self) -> Settings:
        return load_settings()

    @contextmanager
    def connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A writing connection with the raw layer bootstrapped; closed before dbt runs."""
        settings = self.settings()
        with connect(settings.warehouse) as con:
            bootstrap(con, read_or_create_salt(settings.salt_file))
            yield con


def build_resources() -> dict[str, object]:
    return {
        "warehouse": WarehouseResource(),
        "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
    }
