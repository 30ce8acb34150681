"""docker-compose.yml cannot start here (no Docker engine): check it against the code."""

import re

import pytest
import yaml

from tests.conftest import ROOT

COMPOSE = ROOT / "docker-compose.yml"
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}; not $${...}
VARIABLE = re.compile(
    r"(?<!\$)\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-?+])?(?P<arg>[^}]*)\}"
)
SECRET = re.compile(r"SECRET|PASSWORD|FERNET|KEY|TOKEN")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def variables() -> list[re.Match]:
    """Every ${...} the compose file interpolates."""
    return list(VARIABLE.finditer(COMPOSE.read_text()))


def _env_example() -> dict[str, str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    pairs = [ln.split("=", 1) for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    return {k.strip(): v.strip() for k, v in pairs}


def _interpolate(text: str, env: dict[str, str]) -> str:
    """What `docker compose` makes of `text` in `env` (the operators the file uses)."""

    def one(m: re.Match) -> str:
        value, op = env.get(m["name"]), m["op"]
        unset = value is None or (value == "" and op and op.startswith(":"))
        if unset and op in (":?", "?"):
            raise LookupError(f"required variable {m['name']} is missing a value: {m['arg']}")
        if unset and op in (":-", "-"):
            return m["arg"]
        return value or ""

    return VARIABLE.sub(one, text).replace("$$", "$")


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
    # every worker takes the `ocr` queue (invoice_ingest's mapped extract) and the default
    assert compose["services"]["airflow-worker"]["command"] == [
        "airflow",
        "celery",
        "worker",
        "--queues",
        "default,ocr",
    ]


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
    worker = compose["services"]["airflow-worker"]["depends_on"]
    assert worker["airflow-apiserver"]["condition"] == "service_healthy"


def test_task_logs_are_a_volume_every_airflow_service_shares(compose):
    assert "airflow-logs" in compose["volumes"]
    for name, svc in compose["services"].items():
        if name.startswith("airflow-"):
            assert "airflow-logs:/opt/airflow/logs" in svc["volumes"], name
            assert svc["environment"]["AIRFLOW__LOGGING__BASE_LOG_FOLDER"] == "/opt/airflow/logs"


def test_init_seeds_the_company_configuration_once(compose):
    init = compose["services"]["airflow-init"]
    assert "${CLOSEFLOW_COMPANY_DIR:-./company}:/opt/closeflow/company-seed:ro" in init["volumes"]
    script = init["command"][-1]
    assert 'if [ ! -f "$$CLOSEFLOW_HOME/company/company.yml" ]' in script  # never overwrites
    assert "no company.yml in CLOSEFLOW_COMPANY_DIR" in script


def test_closeflow_settings_named_in_compose_are_the_ones_the_code_reads(compose):
    env = compose["services"]["airflow-scheduler"]["environment"]
    ours = {k for k in env if k.startswith("CLOSEFLOW_")}
    code = "\n".join(p.read_text() for p in (ROOT / "plugins" / "closeflow").rglob("*.py"))
    code += (ROOT / "dbt_project" / "profiles.yml").read_text()
    read = set(re.findall(r"CLOSEFLOW_[A-Z_]+", code))
    assert ours - read == set(), "compose sets settings no code reads"
    assert env["CLOSEFLOW_WAREHOUSE_URL"].startswith("postgresql://")
    init = (ROOT / "deploy" / "postgres-init.sh").read_text()
    assert "CREATE DATABASE warehouse" in init


def test_image_installs_tesseract_languages_and_the_lock(compose):
    dockerfile = (ROOT / "Dockerfile").read_text()
    for lang in ("eng", "chi-sim", "deu", "fra", "nld", "spa"):
        pkg = f"tesseract-ocr-{lang}"
        assert pkg in dockerfile
    assert "uv sync --frozen" in dockerfile
    for path in ("dags", "plugins", "ocr", "dbt_project"):
        assert f"COPY {path}" in dockerfile


def test_no_secret_has_a_default(variables):
    secrets = [m for m in variables if SECRET.search(m["name"])]
    assert {m["name"] for m in secrets} >= {
        "AIRFLOW_JWT_SECRET",
        "AIRFLOW_API_SECRET",
        "AIRFLOW_FERNET_KEY",
        "AIRFLOW_DB_PASSWORD",
        "WAREHOUSE_DB_PASSWORD",
        "AIRFLOW_ADMIN_PASSWORD",
    }
    for m in secrets:
        assert m["op"] == ":?", f"{m[0]}: a secret must be required with ${{{m['name']}:?...}}"
    text = COMPOSE.read_text()
    assert "change-me" not in text


def test_every_secret_setting_comes_from_the_environment(compose):
    """Each secret-bearing setting of every service is an interpolated variable, never a
    literal; each URL with credentials takes its password from one."""
    for name, svc in compose["services"].items():
        env = svc.get("environment") or {}
        for key, value in env.items():
            value = str(value)
            if SECRET.search(key) and not key.endswith("_FILE"):  # a path names no secret
                assert VARIABLE.fullmatch(value), f"{name}: {key} is a literal"
            for password in re.findall(r"://[^/:@\s]+:([^@\s]*)@", value):
                assert VARIABLE.fullmatch(password), f"{name}: {key} has a literal password"
    worker = compose["services"]["airflow-worker"]["environment"]
    for key in (
        "AIRFLOW__API_AUTH__JWT_SECRET",
        "AIRFLOW__API__SECRET_KEY",
        "AIRFLOW__CORE__FERNET_KEY",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
        "AIRFLOW__CELERY__RESULT_BACKEND",
        "CLOSEFLOW_WAREHOUSE_URL",
    ):
        assert ":?" in worker[key], key
    pg = compose["services"]["postgres"]["environment"]
    assert pg["POSTGRES_PASSWORD"].startswith("${AIRFLOW_DB_PASSWORD:?")
    assert pg["WAREHOUSE_DB_PASSWORD"].startswith("${WAREHOUSE_DB_PASSWORD:?")


def test_compose_refuses_to_start_without_the_secrets_and_uses_them_when_set(variables):
    text = COMPOSE.read_text()
    required = sorted({m["name"] for m in variables if m["op"] == ":?"})
    for missing in required:
        env = {name: "x1" for name in required if name != missing}
        with pytest.raises(LookupError, match=missing):
            _interpolate(text, env)
    env = {name: f"value-of-{name.lower()}" for name in required}
    done = yaml.safe_load(_interpolate(text, env))
    worker = done["services"]["airflow-worker"]["environment"]
    assert worker["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == (
        "postgresql+psycopg2://airflow:value-of-airflow_db_password@postgres:5432/airflow"
    )
    assert worker["CLOSEFLOW_WAREHOUSE_URL"] == (
        "postgresql://closeflow:value-of-warehouse_db_password@postgres:5432/warehouse"
    )
    assert worker["AIRFLOW__CORE__FERNET_KEY"] == "value-of-airflow_fernet_key"


def test_env_example_documents_every_variable_without_a_secret(variables):
    example = _env_example()
    assert {m["name"] for m in variables} <= set(example), "variables .env.example does not name"
    for m in variables:
        if m["op"] == ":?":
            assert example[m["name"]] == "", f"{m['name']}: .env.example must not ship a value"
    text = (ROOT / ".env.example").read_text()
    assert "openssl rand -hex 32" in text
    assert "Fernet.generate_key()" in text


def test_api_server_is_published_on_localhost_by_default(compose):
    [port] = compose["services"]["airflow-apiserver"]["ports"]
    assert port == "${AIRFLOW_API_BIND:-127.0.0.1}:8080:8080"
    assert _interpolate(port, {}) == "127.0.0.1:8080:8080"
    for name, svc in compose["services"].items():
        for p in svc.get("ports", []):
            assert _interpolate(str(p), {}).startswith("127.0.0.1:"), name


def test_warehouse_user_password_comes_from_the_environment(compose):
    [mount] = [
        v for v in compose["services"]["postgres"]["volumes"] if "docker-entrypoint-initdb.d" in v
    ]
    host = mount.split(":")[0]
    script = (ROOT / host).read_text()
    assert "CREATE USER closeflow WITH PASSWORD :'password'" in script
    assert '-v password="$WAREHOUSE_DB_PASSWORD"' in script
    assert "CREATE DATABASE warehouse OWNER closeflow" in script
    for path in (ROOT / "deploy").iterdir():
        code = [
            ln for ln in path.read_text().splitlines() if not ln.lstrip().startswith(("#", "--"))
        ]
        assert not re.search(r"PASSWORD\s+'[^']*'", "\n".join(code), re.I), path


def test_init_creates_the_one_slot_warehouse_pool_the_dags_use(compose):
    from closeflow.airflow import WAREHOUSE_POOL

    command = " ".join(compose["services"]["airflow-init"]["command"])
    assert "airflow db migrate" in command
    assert f"airflow pools set {WAREHOUSE_POOL} 1 " in command
