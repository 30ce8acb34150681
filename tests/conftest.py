"""Shared fixtures: fresh PostgreSQL databases, and the Airflow environment for DAG runs."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The real sample documents the tests read: a verbatim copy, with their licences, of the
# open-licensed files of ../shared/data (see its README.md), so tests pass without ../shared.
SHARED = ROOT / "tests" / "fixtures" / "shared_data"
# ../shared/data itself, for what is not copied (the unlicensed receipts: benchmarks only).
SHARED_OUTSIDE = ROOT.parent / "shared" / "data"
PG_ADMIN = os.environ.get("CLOSEFLOW_TEST_PG", "postgresql://root@127.0.0.1:5432/postgres")

# Airflow reads its configuration once, at import: point it at the project before any test
# imports it (the Makefile exports the same values; these make plain `pytest` work too).
AIRFLOW_ENV = {
    "AIRFLOW_HOME": str(ROOT / ".airflow"),
    "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
    "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / ".airflow" / "plugins"),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{ROOT / '.airflow' / 'airflow.db'}",
}
for _k, _v in AIRFLOW_ENV.items():
    os.environ.setdefault(_k, _v)


def _admin():
    import psycopg2

    con = psycopg2.connect(PG_ADMIN)
    con.autocommit = True
    return con


@contextmanager
def fresh_database(prefix: str) -> Iterator[str]:
    """A PostgreSQL database made for a test and dropped after it, whatever happens."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    con = _admin()
    with con.cursor() as cur:
        cur.execute(f"CREATE DATABASE {name}")
    try:
        yield f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"
    finally:
        with con.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        con.close()


@pytest.fixture
def pg_url() -> Iterator[str]:
    with fresh_database("closeflow_t") as url:
        yield url


@pytest.fixture(scope="module")
def pg_module_url() -> Iterator[str]:
    """Like pg_url, shared by the tests of one module."""
    with fresh_database("closeflow_m") as url:
        yield url


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The project's copy of the real sample documents (tests/fixtures/shared_data)."""
    assert SHARED.is_dir(), f"the sample data copied from ../shared/data is missing at {SHARED}"
    return SHARED
