"""The Celery deployment of docker-compose.yml, from the lock file, as real processes.

api-server, scheduler, dag-processor, triggerer and two Celery workers, each started with
its compose command and environment; Airflow's metadata and Celery's results in a fresh
PostgreSQL database, Redis as the broker. A DAG maps one task over eight inputs on the
`ocr` queue: both workers must take a share, every task succeed at its first try, and the
compose healthchecks must pass against the running processes.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import shlex
import shutil
import socket
import subprocess
import urllib.request
from pathlib import Path

import pytest
import redis

from tests.conftest import fresh_database
from tests.deploy.airflow_processes import (
    BIN,
    Deployment,
    clean_environ,
    compose_environment,
    compose_file,
    free_port,
    generated_secrets,
    service_command,
)
from tests.smtp import SmtpServer, airflow_connection, text_of

DAGS = Path(__file__).parent / "dags"
AIRFLOW_SERVICES = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor")
WORKERS = ("w1", "w2")


COMPANY = {  # the smallest company configuration closeflow loads
    "company.yml": "name: Celery Test GmbH\ntimezone: Europe/Berlin\n",
    "chart_of_accounts.yml": "accounts: []\n",
    "suppliers.yml": "suppliers: []\n",
}


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    compose = compose_file()
    home = tmp_path_factory.mktemp("celery_deployment")
    shutil.copytree(DAGS, home / "dags")
    seed = home / "company-seed"  # CLOSEFLOW_COMPANY_DIR, mounted into airflow-init
    seed.mkdir()
    for name, text in COMPANY.items():
        (seed / name).write_text(text)
    paths = {"/opt/closeflow/company-seed": str(seed)}
    redis_db = random.randint(8, 15)
    broker = f"redis://127.0.0.1:6379/{redis_db}"
    redis.Redis.from_url(broker).flushdb()
    with fresh_database("closeflow_celery") as db_url, SmtpServer() as smtp:
        api_port, health_port = free_port(), free_port()
        pg = db_url.replace("postgresql://", "")
        local = {
            "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://{pg}",
            "AIRFLOW__CELERY__BROKER_URL": broker,
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql://{pg}",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "tester:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "auth" / "pw.json"),
            "AIRFLOW_ADMIN_USER": "tester",
            "AIRFLOW_ADMIN_PASSWORD": secrets.token_hex(16),
            "CLOSEFLOW_HOME": str(home / "var"),
            "CLOSEFLOW_WAREHOUSE_URL": f"duckdb:///{home / 'var' / 'warehouse.duckdb'}",
            "CLOSEFLOW_ALERT_TO": "oncall@example.com",
            "AIRFLOW_CONN_CLOSEFLOW_SMTP": airflow_connection(smtp.port),
            "CLOSEFLOW_REPORT_TO": "",
            "CLOSEFLOW_NIGHT_DEADLINE": "06:00",
            **generated_secrets(),
        }
        here = {
            **clean_environ(),
            "PATH": f"{BIN}:{os.environ['PATH']}",
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(health_port),
            # two task processes per worker on this 2-core machine (Celery's default is 16)
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
        }

        def env_of(service: str, **extra: str) -> dict[str, str]:
            return {**here, **compose_environment(compose, local, service), **extra}

        d = Deployment(
            home=home,
            env=env_of("airflow-scheduler"),
            api_port=api_port,
            health_port=health_port,
            admin=(local["AIRFLOW_ADMIN_USER"], local["AIRFLOW_ADMIN_PASSWORD"]),
        )
        d.smtp = smtp
        try:
            init = subprocess.run(
                service_command(compose, "airflow-init", paths),
                env=env_of("airflow-init"),
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert init.returncode == 0, init.stdout[-3000:] + init.stderr[-3000:]
            d.init_output = init.stdout
            for service in AIRFLOW_SERVICES + ("airflow-triggerer",):
                d.start(service, service_command(compose, service, paths), env_of(service))
            for worker in WORKERS:
                command = service_command(compose, "airflow-worker", paths)
                d.start(
                    worker,
                    command + ["--celery-hostname", f"{worker}@%h"],
                    env_of("airflow-worker", CLOSEFLOW_TEST_WORKER=worker),
                )
            yield d
        finally:
            d.stop()
            redis.Redis.from_url(broker).flushdb()


def _token(d: Deployment) -> str:
    request = urllib.request.Request(
        f"http://127.0.0.1:{d.api_port}/auth/token",
        data=json.dumps(dict(zip(("username", "password"), d.admin, strict=True))).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as r:
        return json.loads(r.read())["access_token"]


def _rest(d: Deployment, method: str, path: str, token: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{d.api_port}/api/v2{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=30) as r:
        return json.loads(r.read())


def _answers(d: Deployment, path: str) -> bool:
    try:
        d.api(path)
        return True
    except OSError:
        return False


def _trigger(d: Deployment, dag_id: str) -> tuple[str, dict]:
    """Through the REST API, as an operator would: wait until the DAG is parsed, unpause
    it, trigger a run. Returns the API token and the run."""
    d.wait_for("the api-server", lambda: _answers(d, "/api/v2/version"))
    token = _token(d)
    d.wait_for(
        f"the dag-processor to parse {dag_id}",
        lambda: any(dag["dag_id"] == dag_id for dag in _rest(d, "GET", "/dags", token)["dags"]),
    )
    _rest(d, "PATCH", f"/dags/{dag_id}", token, {"is_paused": False})
    return token, _rest(d, "POST", f"/dags/{dag_id}/dagRuns", token, {"logical_date": None})


def test_two_celery_workers_share_mapped_tasks(deployment):
    d = deployment
    token, run = _trigger(d, "celery_fanout")
    run_path = f"/dags/celery_fanout/dagRuns/{run['dag_run_id']}"
    d.wait_for(
        "the run to finish",
        lambda: _rest(d, "GET", run_path, token)["state"] in ("success", "failed"),
    )
    assert _rest(d, "GET", run_path, token)["state"] == "success"

    instances = _rest(d, "GET", f"{run_path}/taskInstances", token)["task_instances"]
    mapped = [ti for ti in instances if ti["task_id"] == "read"]
    assert sorted(ti["map_index"] for ti in mapped) == list(range(8))
    assert {ti["queue"] for ti in mapped} == {"ocr"}
    assert {(ti["state"], ti["try_number"]) for ti in instances} == {("success", 1)}
    result = _rest(d, "GET", f"{run_path}/taskInstances/collect/xcomEntries/return_value", token)
    value = result["value"]
    value = json.loads(value) if isinstance(value, str) else value
    assert value["items"] == list(range(8))
    assert value["workers"] == ["w1", "w2"], "one worker took every task"
    for worker in WORKERS:
        assert "succeeded" in d.log(worker)


def test_a_missed_deadline_is_mailed_to_on_call(deployment):
    """closeflow's nightly deadline, due 5 s after queueing on a 25 s task: the scheduler
    finds it missed, the triggerer runs the callback, which records the alert and mails it
    through the Airflow SMTP connection."""
    d = deployment
    _, run = _trigger(d, "late_night")

    def deadline_mails() -> list:
        return [m for m in d.smtp.messages if "not done by its deadline" in m["Subject"]]

    d.wait_for("the deadline mail", lambda: bool(deadline_mails()), timeout=240)
    [mail] = deadline_mails()
    assert mail["To"] == "oncall@example.com"
    body = text_of(mail)
    assert "dag_id: late_night" in body and f"run_id: {run['dag_run_id']}" in body
    assert "night: no night (" in body  # triggered without a date: it names no night
    [record] = [
        json.loads(line)
        for line in (d.home / "var" / "alerts" / "deadlines.jsonl").read_text().splitlines()
    ]
    assert record["dag_id"] == "late_night" and record["run_id"] == run["dag_run_id"]


def test_init_migrated_and_seeded_the_company_once(deployment):
    d = deployment
    assert f"seeded {d.home / 'var' / 'company'}" in d.init_output
    assert (d.home / "var" / "company" / "company.yml").read_text() == COMPANY["company.yml"]
    assert (d.home / "auth" / "pw.json").exists()  # the api-server wrote the admin's password


def test_compose_healthchecks_pass(deployment):
    """Each service's healthcheck, as the compose file writes it, against the processes."""
    d = deployment
    compose = compose_file()
    d.wait_for("the api-server", lambda: _answers(d, "/api/v2/version"))
    host = socket.gethostname()  # a container's $HOSTNAME, the name Airflow records
    checks = {}
    for service in AIRFLOW_SERVICES + ("airflow-triggerer", "airflow-worker"):
        test = compose["services"][service]["healthcheck"]["test"]
        assert test[0] in ("CMD", "CMD-SHELL"), service
        command = test[1] if test[0] == "CMD-SHELL" else shlex.join(test[1:])
        command = (
            command.replace("$${HOSTNAME}", "${HOSTNAME}")
            .replace("localhost:8080", f"localhost:{d.api_port}")
            .replace("localhost:8974", f"localhost:{d.health_port}")
        )
        hosts = [f"{w}@{host}" for w in WORKERS] if service == "airflow-worker" else [host]
        for hostname in hosts:
            checks[f"{service} {hostname}"] = command.replace(
                "celery@${HOSTNAME}", hostname
            ).replace("${HOSTNAME}", host)
    running = {
        name: subprocess.Popen(
            command,
            shell=True,
            env=d.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for name, command in checks.items()
    }
    failed = {}
    for name, process in running.items():
        out, _ = process.communicate(timeout=180)
        if process.returncode != 0:
            failed[name] = out[-1500:]
    assert not failed, failed
