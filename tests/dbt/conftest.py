"""Fixtures for the dbt project's tests: real warehouses on both engines.

A DuckDB file in a temporary folder, and a PostgreSQL database created for the session
and dropped at the end, whatever happens. The ledger they are loaded with is ledger.py.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import fresh_database


@pytest.fixture(scope="session", autouse=True)
def dbt_artifacts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Keep the test warehouses' dbt artifacts out of dbt_project/target."""
    root = tmp_path_factory.mktemp("dbt_artifacts")
    saved = os.environ.get("CLOSEFLOW_DBT_ARTIFACTS")
    os.environ["CLOSEFLOW_DBT_ARTIFACTS"] = str(root)
    yield root
    if saved is None:
        os.environ.pop("CLOSEFLOW_DBT_ARTIFACTS", None)
    else:
        os.environ["CLOSEFLOW_DBT_ARTIFACTS"] = saved


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this session, dropped at teardown even on failure."""
    with fresh_database("closeflow_dbt") as url:
        yield url


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The URL of an empty warehouse on each engine."""
    if request.param == "duckdb":
        return f"duckdb:///{tmp_path_factory.mktemp('duckdb') / 'warehouse.duckdb'}"
    return request.getfixturevalue("pg_database")
