"""Run closeflow through Airflow in a subprocess with its own homes and metadata DB."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import ROOT

VENV_BIN = Path(sys.executable).parent


@dataclass
class Installation:
    """One closeflow + Airflow installation under `root`, for end-to-end tests."""

    root: Path
    airflow_db: str  # SQLAlchemy URL of Airflow's metadata DB
    warehouse_url: str | None = None

    @property
    def home(self) -> Path:
        return self.root / "closeflow"

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "CLOSEFLOW"))}
        env.update(
            {
                "AIRFLOW_HOME": str(self.root / "airflow"),
                "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
                "AIRFLOW__CORE__PLUGINS_FOLDER": str(self.root / "airflow" / "plugins"),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.airflow_db,
                "CLOSEFLOW_HOME": str(self.home),
                "CLOSEFLOW_WAREHOUSE_URL": self.warehouse_url
                or f"duckdb:///{self.home / 'warehouse.duckdb'}",
                "CLOSEFLOW_TASK_RETRIES": "0",
                "OMP_THREAD_LIMIT": "1",
            }
        )
        env.update(extra)
        return env

    def run(self, *args: str, check: bool = True, **extra: str) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            list(args),
            env=self.env(**extra),
            cwd=ROOT,
            text=True,
            capture_output=True,
            timeout=1800,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"{args} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}"
            )
        return proc

    def airflow(self, *args: str, **kw) -> subprocess.CompletedProcess:
        return self.run(str(VENV_BIN / "airflow"), *args, **kw)

    def closeflow(self, *args: str, **kw) -> subprocess.CompletedProcess:
        return self.run(str(VENV_BIN / "closeflow"), *args, **kw)

    def migrate(self) -> None:
        self.airflow("db", "migrate")

    def truth(self, name: str, until: str | None = None) -> list[dict]:
        """Ground-truth rows; with `until` (ISO date), only what arrived up to that day."""
        path = self.home / "truth" / name
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        if until is None:
            return rows
        return [r for r in rows if (r.get("received_at") or r["booking_date"])[:10] <= until]
