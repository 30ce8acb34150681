"""docker-compose.yml's Airflow services, started here as plain processes.

There is no Docker engine on the machines that run the tests, so a deployment test runs
the same commands the compose file gives each service, with the compose file's own
environment, where only what names a container, a volume or a secret is replaced by its
local counterpart (a fresh PostgreSQL database, a Redis database, a temp home, a free
port, generated secrets). `compose_environment` refuses a compose variable it has no
local value for, so the compose file and this test cannot drift apart silently.
"""

from __future__ import annotations

import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tests.conftest import ROOT

COMPOSE = ROOT / "docker-compose.yml"
BIN = Path(sys.executable).parent


def compose_file() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def compose_environment(
    compose: dict, local: Mapping[str, str], service: str = "airflow-scheduler"
) -> dict[str, str]:
    """`service`'s environment with each value the compose file interpolates or that
    names another container or a container path replaced by `local`'s; every other
    value kept as written. A value `local` lacks is an error naming it."""
    env = {}
    for name, value in compose["services"][service]["environment"].items():
        value = str(value)
        needs_local = (
            "${" in value or "airflow-" in value or "postgres:" in value or "/opt/" in value
        )
        if name in local:
            env[name] = local[name]
        elif needs_local:
            raise KeyError(f"docker-compose.yml sets {name}={value!r}: give the test a value")
        else:
            env[name] = value
    return env


def service_command(
    compose: dict, service: str, paths: Mapping[str, str] | None = None
) -> list[str]:
    """The service's command as a process here: `$$` as the shell sees it after compose,
    each container path of `paths` replaced by its local one."""
    command = compose["services"][service]["command"]
    command = shlex.split(command) if isinstance(command, str) else list(command)
    out = []
    for part in command:
        part = str(part).replace("$$", "$")
        for container, here in (paths or {}).items():
            part = part.replace(container, here)
        out.append(part)
    if out[0] == "airflow":
        out[0] = str(BIN / "airflow")
    return out


def clean_environ() -> dict[str, str]:
    """This process's environment without the Airflow and closeflow settings of the test
    session (the Makefile exports a SQLite metadata DB and a DuckDB warehouse)."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AIRFLOW", "CLOSEFLOW_")) and k != "PYTHONPATH"
    }


def generated_secrets() -> dict[str, str]:
    from cryptography.fernet import Fernet

    return {
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
        "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
        "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
    }


@dataclass
class Deployment:
    """The compose file's Airflow services as processes under one temp home."""

    home: Path
    env: dict[str, str]
    api_port: int
    health_port: int
    admin: tuple[str, str]  # the UI's and REST API's admin: user, password
    init_output: str = ""
    smtp: object = None  # the SMTP server the Airflow connection points at (tests.smtp)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, name: str, command: list[str], env: Mapping[str, str] | None = None) -> None:
        log = open(self.home / f"{name}.log", "w")  # noqa: SIM115 (closed with the process)
        self.processes[name] = subprocess.Popen(
            command,
            env=dict(env or self.env),
            cwd=self.home,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log(self, name: str) -> str:
        return (self.home / f"{name}.log").read_text(errors="replace")

    def assert_running(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                tail = "\n".join(self.log(name).splitlines()[-30:])
                raise AssertionError(f"{name} exited with {process.returncode}:\n{tail}")

    def wait_for(self, what: str, ready: Callable[[], bool], timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.assert_running()
            if ready():
                return
            time.sleep(1)
        raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")

    def api(self, path: str) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.api_port}{path}", timeout=10) as r:
            return r.read().decode()

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
