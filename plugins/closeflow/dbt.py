"""Build the ledger marts: `dbt build` of the repo's dbt_project, in-process.

`build(warehouse_url)` points the project at a warehouse (DuckDB file or PostgreSQL
database, the same URLs `closeflow.warehouse.Warehouse` takes), runs `dbt build`
through `dbt.cli.main.dbtRunner` and returns what was built and tested. Anything that
fails (a model that does not build, a test that returns rows, a project that does not
compile) raises `DbtBuildError` naming the failing nodes, their messages and, for a
failing test, the first rows it returned: the entries that do not balance, say.

Each warehouse gets its own folder of dbt artifacts (target/ with the partial-parse
file, and logs/) under dbt_project/target/, keyed by engine, location and schemas. The
partial-parse file is only valid for the environment it was parsed in (database name,
schemas), so a nightly run re-uses its own and parses only changed files, and two
warehouses never overwrite each other's state. Set CLOSEFLOW_DBT_ARTIFACTS to keep the
artifacts elsewhere (a read-only image, say) and CLOSEFLOW_DBT_PROJECT_DIR to build
another copy of the project.

dbt keeps global state, so builds in one process run one at a time (a thread lock), and
builds of the same warehouse on one machine wait for each other (a file lock in the
artifacts folder). DuckDB has one writer: use threads=1 there; dbt keeps the file open
for the whole run and build() closes it before returning, so the next task can write.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


def project_dir() -> Path:
    """The dbt project: CLOSEFLOW_DBT_PROJECT_DIR, else the repo's (or cwd's) dbt_project/."""
    if os.environ.get("CLOSEFLOW_DBT_PROJECT_DIR"):
        candidates = [Path(os.environ["CLOSEFLOW_DBT_PROJECT_DIR"])]
    else:  # an editable install (uv sync) or a checkout; else run from the repo root
        candidates = [
            Path(__file__).resolve().parents[2] / "dbt_project",
            Path.cwd() / "dbt_project",
        ]
    for candidate in candidates:
        if (candidate / "dbt_project.yml").is_file():
            return candidate.resolve()
    raise FileNotFoundError(
        f"no dbt project (dbt_project.yml) in {', '.join(map(str, candidates))}: "
        "set CLOSEFLOW_DBT_PROJECT_DIR"
    )


_LOCK = threading.Lock()
_ENV_KEYS = (
    "CLOSEFLOW_DBT_TARGET",
    "CLOSEFLOW_DBT_SCHEMA",
    "CLOSEFLOW_RAW_SCHEMA",
    "CLOSEFLOW_DUCKDB_PATH",
    "CLOSEFLOW_PG_HOST",
    "CLOSEFLOW_PG_PORT",
    "CLOSEFLOW_PG_USER",
    "CLOSEFLOW_PG_PASSWORD",
    "CLOSEFLOW_PG_DBNAME",
    "CLOSEFLOW_PG_SSLMODE",
    "DBT_SEND_ANONYMOUS_USAGE_STATS",
)
_FAILED = {"error", "fail", "runtime error"}
_SAMPLE_ROWS = 5


@dataclass(frozen=True)
class NodeResult:
    """One model or test of a build and how it ended."""

    name: str
    resource_type: str  # model | test | seed | snapshot ...
    status: str  # success | error | skipped | pass | fail | warn
    message: str = ""
    failures: int | None = None  # rows a test returned
    path: str = ""  # file in the dbt project
    seconds: float = 0.0
    sample_rows: tuple[dict[str, Any], ...] = ()  # first rows a failing test returned

    @property
    def failed(self) -> bool:
        return self.status in _FAILED

    def describe(self) -> str:
        """`test assert_x (tests/assert_x.sql): fail: Got 1 result...` plus sample rows."""
        text = f"{self.resource_type} {self.name} ({self.path}): {self.status}"
        if self.message:
            text += f": {self.message.strip()}"
        for row in self.sample_rows:
            text += "\n    " + ", ".join(f"{k}={v}" for k, v in row.items())
        return text


@dataclass(frozen=True)
class DbtResult:
    """What one `dbt build` did."""

    target: str  # duckdb | postgres
    models_built: int
    models_failed: int
    tests_passed: int
    tests_failed: int
    tests_warned: int
    skipped: int
    seconds: float
    artifacts_dir: Path
    nodes: tuple[NodeResult, ...] = field(default=(), repr=False)

    @property
    def success(self) -> bool:
        return self.models_failed == 0 and self.tests_failed == 0

    @property
    def failures(self) -> tuple[NodeResult, ...]:
        return tuple(n for n in self.nodes if n.failed)

    def as_dict(self) -> dict[str, Any]:
        """The counts as plain JSON values (an Airflow XCom, a log line)."""
        return {
            "target": self.target,
            "success": self.success,
            "models_built": self.models_built,
            "models_failed": self.models_failed,
            "tests_passed": self.tests_passed,
            "tests_failed": self.tests_failed,
            "tests_warned": self.tests_warned,
            "skipped": self.skipped,
            "seconds": self.seconds,
            "failures": [n.name for n in self.failures],
            "artifacts_dir": str(self.artifacts_dir),
        }

    def __str__(self) -> str:
        return (
            f"dbt build on {self.target}: {self.models_built} models built, "
            f"{self.tests_passed} tests passed, {self.tests_failed} failed, "
            f"{self.tests_warned} warned, {self.skipped} skipped in {self.seconds:.1f} s"
        )


class DbtBuildError(RuntimeError):
    """dbt build did not succeed. `failures` names each failing model or test."""

    def __init__(self, message: str, result: DbtResult | None = None) -> None:
        self.result = result
        self.failures: tuple[NodeResult, ...] = result.failures if result else ()
        if self.failures:
            message += "\n" + "\n".join("  " + n.describe() for n in self.failures)
        super().__init__(message)


def connection_env(
    warehouse_url: str, raw_schema: str = "raw", target_schema: str = "analytics"
) -> tuple[str, dict[str, str]]:
    """The dbt target and the environment profiles.yml reads, for a warehouse URL.

    `duckdb:///path/file.duckdb` (as `Warehouse` reads it: `duckdb:////abs/file.duckdb`
    is absolute) or `postgresql://user[:password]@host[:port]/dbname[?sslmode=...]`.
    """
    env = {"CLOSEFLOW_RAW_SCHEMA": raw_schema, "CLOSEFLOW_DBT_SCHEMA": target_schema}
    if warehouse_url.startswith("duckdb:///"):
        path = warehouse_url.removeprefix("duckdb:///")
        if not path or path == ":memory:":
            raise ValueError(f"dbt needs a DuckDB file, not {warehouse_url!r}")
        env |= {
            "CLOSEFLOW_DBT_TARGET": "duckdb",
            "CLOSEFLOW_DUCKDB_PATH": str(Path(path).resolve()),
        }
        return "duckdb", env
    if warehouse_url.startswith(("postgresql://", "postgresql+psycopg2://", "postgres://")):
        parts = urlsplit(warehouse_url)
        dbname = unquote(parts.path.lstrip("/"))
        if not dbname:
            raise ValueError(f"no database name in {warehouse_url!r}")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        unknown = sorted(set(query) - {"sslmode"})
        if unknown:
            raise ValueError(f"unsupported parameters {unknown} in the warehouse URL")
        env |= {
            "CLOSEFLOW_DBT_TARGET": "postgres",
            "CLOSEFLOW_PG_HOST": parts.hostname or "localhost",
            "CLOSEFLOW_PG_PORT": str(parts.port or 5432),
            "CLOSEFLOW_PG_USER": unquote(parts.username) if parts.username else getpass.getuser(),
            "CLOSEFLOW_PG_PASSWORD": unquote(parts.password or ""),
            "CLOSEFLOW_PG_DBNAME": dbname,
            "CLOSEFLOW_PG_SSLMODE": query.get("sslmode", "prefer"),
        }
        return "postgres", env
    raise ValueError(
        f"unsupported warehouse url {warehouse_url!r}: use duckdb:/// or postgresql://"
    )


def artifacts_dir_for(target: str, env: Mapping[str, str]) -> Path:
    """The folder of dbt's target/ and logs/ for one warehouse and pair of schemas."""
    root = Path(os.environ.get("CLOSEFLOW_DBT_ARTIFACTS") or project_dir() / "target")
    identity = "|".join(f"{k}={v}" for k, v in sorted(env.items()) if k != "CLOSEFLOW_PG_PASSWORD")
    return root / f"{target}-{hashlib.sha256(identity.encode()).hexdigest()[:12]}"


def build(
    warehouse_url: str,
    raw_schema: str = "raw",
    target_schema: str = "analytics",
    select: str | None = None,
    threads: int = 1,
) -> DbtResult:
    """Run `dbt build` (models and their tests) against the warehouse at `warehouse_url`.

    Reads `raw_schema`; writes staging to `<target_schema>_staging`, intermediate to
    `<target_schema>_intermediate` and the marts to `<target_schema>`. `select` is a dbt
    selection (`"trial_balance+"`, `"tag:x model_y"`). Returns the counts; raises
    `DbtBuildError` naming every failing model and test if anything fails.
    """
    from dbt.cli.main import dbtRunner

    target, env = connection_env(warehouse_url, raw_schema, target_schema)
    artifacts = artifacts_dir_for(target, env)
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"  # no network calls from the pipeline
    project = project_dir()
    args = [
        "build",
        "--project-dir", str(project),
        "--profiles-dir", str(project),
        "--target", target,
        "--target-path", str(artifacts / "target"),
        "--log-path", str(artifacts / "logs"),
        "--threads", str(threads),
        "--partial-parse",
        "--no-use-colors",
    ]  # fmt: skip
    if select:
        args += ["--select", *select.split()]

    with _LOCK, _warehouse_lock(artifacts), _environment(env):
        started = time.perf_counter()
        try:
            outcome = dbtRunner().invoke(args)
        finally:
            _release_duckdb()
        seconds = time.perf_counter() - started

        if outcome.exception is not None and not isinstance(outcome.exception, Exception):
            raise outcome.exception  # KeyboardInterrupt, a task timeout: not a dbt failure
        if outcome.exception is not None or outcome.result is None:
            detail = outcome.exception or "dbt returned no result"
            raise DbtBuildError(
                f"dbt build could not run on {target}: {detail}"
            ) from outcome.exception
        nodes = tuple(_node_result(r) for r in outcome.result.results)
        result = _summarise(target, nodes, seconds, artifacts)
        if outcome.success and result.success:
            return result
        nodes = tuple(
            _with_sample(n, r, warehouse_url)
            for n, r in zip(nodes, outcome.result.results, strict=True)
        )
        result = _summarise(target, nodes, seconds, artifacts)

    skipped = sorted(n.name for n in nodes if n.status == "skipped" and n.resource_type == "model")
    raise DbtBuildError(
        f"dbt build failed on {target}: {result.models_failed} model(s) and "
        f"{result.tests_failed} test(s) failed, {result.skipped} node(s) skipped"
        + (f" (models not rebuilt: {', '.join(skipped)})" if skipped else ""),
        result,
    )


@contextmanager
def _warehouse_lock(artifacts: Path) -> Iterator[None]:
    """One build per warehouse and schemas at a time across this machine's processes.

    Builds in other processes (an Airflow backfill's parallel runs) wait here instead of
    failing on DuckDB's file lock or racing on PostgreSQL's tables and dbt's target/.
    Builds on other machines need an Airflow pool.
    """
    import fcntl

    artifacts.mkdir(parents=True, exist_ok=True)
    with open(artifacts / "build.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _environment(env: Mapping[str, str]) -> Iterator[None]:
    """Set the CLOSEFLOW_* variables for one dbt invocation, then restore them."""
    saved = {k: os.environ.get(k) for k in _ENV_KEYS}
    try:
        for key in _ENV_KEYS:
            os.environ.pop(key, None)
        os.environ.update(env)
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _release_duckdb() -> None:
    """Close the DuckDB file dbt-duckdb keeps open (keep_open), so others can write."""
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # pragma: no cover - dbt-duckdb not installed
        return
    environment = DuckDBConnectionManager._ENV
    DuckDBConnectionManager._ENV = None
    if environment is not None:
        environment.close()


def _status(value: Any) -> str:
    return str(getattr(value, "value", value)).lower()


def _node_result(run_result: Any) -> NodeResult:
    node = run_result.node
    return NodeResult(
        name=node.name,
        resource_type=_status(node.resource_type),
        status=_status(run_result.status),
        message=run_result.message or "",
        failures=run_result.failures,
        path=getattr(node, "original_file_path", ""),
        seconds=float(run_result.execution_time or 0.0),
    )


def _summarise(
    target: str, nodes: tuple[NodeResult, ...], seconds: float, artifacts: Path
) -> DbtResult:
    def count(kind: str, *statuses: str) -> int:
        return sum(1 for n in nodes if n.resource_type == kind and n.status in statuses)

    return DbtResult(
        target=target,
        models_built=count("model", "success"),
        models_failed=count("model", *_FAILED),
        tests_passed=count("test", "pass"),
        tests_failed=count("test", *_FAILED),
        tests_warned=count("test", "warn"),
        skipped=sum(1 for n in nodes if n.status == "skipped"),
        seconds=round(seconds, 3),
        artifacts_dir=artifacts,
        nodes=nodes,
    )


def _with_sample(node: NodeResult, run_result: Any, warehouse_url: str) -> NodeResult:
    """A failing test with the first rows it returned (best effort, never raises)."""
    compiled = getattr(run_result.node, "compiled_code", None)
    if node.resource_type != "test" or node.status != "fail" or not compiled:
        return node
    from closeflow.warehouse import Warehouse

    try:
        warehouse = Warehouse(warehouse_url)
        try:
            table = warehouse.query(
                f"select * from (\n{compiled}\n) as failing_rows limit {_SAMPLE_ROWS}"
            )
        finally:
            warehouse.dispose()
    except Exception:  # the sample is a courtesy; the failure stands without it
        return node
    return replace(node, sample_rows=tuple(table.to_pylist()))
