"""How `closeflow.dbt` finds the project and turns a warehouse URL into dbt's settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from closeflow.dbt import artifacts_dir_for, connection_env, project_dir


def test_duckdb_url_gives_the_duckdb_target_and_an_absolute_path(tmp_path):
    target, env = connection_env(f"duckdb:///{tmp_path / 'w.duckdb'}", "raw2", "marts2")
    assert target == "duckdb"
    assert env["CLOSEFLOW_DBT_TARGET"] == "duckdb"
    assert env["CLOSEFLOW_DUCKDB_PATH"] == str(tmp_path / "w.duckdb")
    assert (env["CLOSEFLOW_RAW_SCHEMA"], env["CLOSEFLOW_DBT_SCHEMA"]) == ("raw2", "marts2")


def test_relative_duckdb_path_is_resolved_like_warehouse_does(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    _, env = connection_env("duckdb:///var/warehouse.duckdb")
    assert Path(env["CLOSEFLOW_DUCKDB_PATH"]) == tmp_path / "var" / "warehouse.duckdb"


def test_postgres_url_gives_each_connection_setting():
    target, env = connection_env(
        "postgresql://fin%40ops:s3cr%2Ft@db.internal:6543/books?sslmode=require"
    )
    assert target == "postgres"
    assert env["CLOSEFLOW_PG_HOST"] == "db.internal"
    assert env["CLOSEFLOW_PG_PORT"] == "6543"
    assert env["CLOSEFLOW_PG_USER"] == "fin@ops"
    assert env["CLOSEFLOW_PG_PASSWORD"] == "s3cr/t"
    assert env["CLOSEFLOW_PG_DBNAME"] == "books"
    assert env["CLOSEFLOW_PG_SSLMODE"] == "require"


def test_postgres_defaults():
    _, env = connection_env("postgresql+psycopg2://root@127.0.0.1/test")
    assert (env["CLOSEFLOW_PG_PORT"], env["CLOSEFLOW_PG_PASSWORD"]) == ("5432", "")
    assert env["CLOSEFLOW_PG_SSLMODE"] == "prefer"


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///x.db",
        "duckdb:///:memory:",
        "postgresql://root@127.0.0.1:5432/",
        "postgresql://root@127.0.0.1/db?application_name=x",
    ],
)
def test_unusable_urls_are_refused(url):
    with pytest.raises(ValueError):
        connection_env(url)


def test_each_warehouse_and_schema_pair_has_its_own_artifacts(tmp_path):
    a = artifacts_dir_for(*connection_env(f"duckdb:///{tmp_path / 'a.duckdb'}"))
    b = artifacts_dir_for(*connection_env(f"duckdb:///{tmp_path / 'b.duckdb'}"))
    a2 = artifacts_dir_for(*connection_env(f"duckdb:///{tmp_path / 'a.duckdb'}", "raw", "x"))
    assert len({a, b, a2}) == 3
    assert a == artifacts_dir_for(*connection_env(f"duckdb:///{tmp_path / 'a.duckdb'}"))
    # the password is not part of the identity (rotating it keeps the partial parse)
    p1 = artifacts_dir_for(*connection_env("postgresql://u:one@h/db"))
    p2 = artifacts_dir_for(*connection_env("postgresql://u:two@h/db"))
    assert p1 == p2


def test_the_project_is_the_repos_unless_configured(monkeypatch, tmp_path):
    monkeypatch.delenv("CLOSEFLOW_DBT_PROJECT_DIR", raising=False)
    assert (project_dir() / "dbt_project.yml").is_file()
    assert project_dir().name == "dbt_project"
    monkeypatch.setenv("CLOSEFLOW_DBT_PROJECT_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="CLOSEFLOW_DBT_PROJECT_DIR"):
        project_dir()
