"""docker-compose.yml cannot start here (no Docker engine): check it against the code."""

import re

import pytest
import yaml

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_services_and_images(compose):
    services = compose["services"]
    assert set(services) >= {
        "postgres",
        "redis",
        "airflow-init",
        "airflow-apiserver",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-worker",
        "airflow-triggerer",
    }
    assert services["postgres"]["image"].startswith("postgres:15")
    assert services["redis"]["image"].startswith("redis:")
    for name, svc in services.items():
        if name.startswith("airflow-"):
            assert svc["image"] == "closeflow:latest" and svc["build"] == "."


def test_celery_executor_on_postgres_and_redis(compose):
    env = compose["services"]["airflow-worker"]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:6379")
    assert compose["services"]["airflow-worker"]["command"] == ["airflow", "celery", "worker"]


def test_every_long_running_service_has_a_healthcheck(compose):
    for name, svc in compose["services"].items():
        if name != "airflow-init":
            assert "healthcheck" in svc and svc["healthcheck"]["test"], name


def test_airflow_waits_for_migrated_db(compose):
    for name, svc in compose["services"].items():
        if name.startswith("airflow-") and name != "airflow-init":
            dep = svc["depends_on"]
            assert dep["airflow-init"]["condition"] == "service_completed_successfully", name
            assert dep["postgres"]["condition"] == "service_healthy", name


def test_closeflow_settings_named_in_compose_are_the_ones_the_code_reads(compose):
    env = compose["services"]["airflow-scheduler"]["environment"]
    ours = {k for k in env if k.startswith("CLOSEFLOW_")}
    code = "\n".join(p.read_text() for p in (ROOT / "plugins" / "closeflow").rglob("*.py"))
    code += (ROOT / "dbt_project" / "profiles.yml").read_text()
    read = set(re.findall(r"CLOSEFLOW_[A-Z_]+", code))
    assert ours - read == set(), "compose sets settings no code reads"
    assert env["CLOSEFLOW_WAREHOUSE_URL"].startswith("postgresql://")
    init = (ROOT / "deploy" / "postgres-init.sql").read_text()
    assert "CREATE DATABASE warehouse" in init


def test_image_installs_tesseract_languages_and_the_lock(compose):
    dockerfile = (ROOT / "Dockerfile").read_text()
    for lang in ("eng", "chi-sim", "deu", "fra", "nld", "spa"):
        pkg = f"tesseract-ocr-{lang}"
        assert pkg in dockerfile
    assert "uv sync --frozen" in dockerfile
    for path in ("dags", "plugins", "ocr", "dbt_project"):
        assert f"COPY {path}" in dockerfile
