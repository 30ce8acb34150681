"""What one run needs: its window, the company, the warehouse and the folders.

A nightly window is one calendar day `[start, end)` in the company's timezone; a close
window is one calendar month. Each step writes its rows under a deterministic run key
(`<step>:<window>`, e.g. `post:2026-01-05`), so re-running a window replaces exactly what
that step wrote for it and nothing else.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

from closeflow.config import CompanyConfig, default_home
from closeflow.warehouse import Warehouse


@dataclass(frozen=True)
class Window:
    """A half-open local-date range `[start, end)` in the company's timezone."""

    start: dt.date
    end: dt.date
    tz: str = "Europe/Berlin"

    @classmethod
    def day(cls, day: dt.date, tz: str = "Europe/Berlin") -> Window:
        return cls(day, day + dt.timedelta(days=1), tz)

    @classmethod
    def month(cls, period: str, tz: str = "Europe/Berlin") -> Window:
        start = dt.date.fromisoformat(period + "-01")
        end = (start + dt.timedelta(days=32)).replace(day=1)
        return cls(start, end, tz)

    @classmethod
    def from_interval(cls, start: dt.datetime, end: dt.datetime, tz: str) -> Window:
        """The calendar window an Airflow data interval stands for, in local dates.

        Airflow subtracts a timetable's interval in absolute time, so on a daylight-saving
        change the interval's start is an hour off the local midnight. The end is exact (it
        is the cron trigger), so the window is counted back from it in calendar days or
        months.
        """
        last = end.astimezone(ZoneInfo(tz)).date()
        days = round((end - start).total_seconds() / 86400)
        if days >= 28:
            months = round(days / 30.44)
            first = last
            for _ in range(months):
                first = (first - dt.timedelta(days=1)).replace(day=1)
            return cls(first, last, tz)
        return cls(last - dt.timedelta(days=days), last, tz)

    @property
    def key(self) -> str:
        """`2026-01-05` for a day, `2026-01` for a month, `a..b` otherwise."""
        if self.end - self.start == dt.timedelta(days=1):
            return self.start.isoformat()
        if self.start.day == 1 and self.end == (self.start + dt.timedelta(days=32)).replace(day=1):
            return self.start.strftime("%Y-%m")
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    def run_key(self, step: str) -> str:
        return f"{step}:{self.key}"

    def _instant(self, d: dt.date) -> dt.datetime:
        return dt.datetime.combine(d, dt.time(), tzinfo=ZoneInfo(self.tz)).astimezone(dt.UTC)

    @property
    def start_utc(self) -> dt.datetime:
        return self._instant(self.start)

    @property
    def end_utc(self) -> dt.datetime:
        return self._instant(self.end)

    def contains_instant(self, ts: dt.datetime) -> bool:
        return self.start_utc <= ts < self.end_utc


def received_at(path: Path) -> dt.datetime:
    """When a file arrived: its modification time, as the dropping integration set it."""
    return dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC)


def files_received(folder: Path, window: Window) -> list[Path]:
    """The files dropped into `folder` during `window`, oldest first (name breaks ties)."""
    if not folder.exists():
        return []
    files = [p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")]
    mine = [p for p in files if window.contains_instant(received_at(p))]
    return sorted(mine, key=lambda p: (p.stat().st_mtime, p.name))


def holds_connection(step):
    """Run a step `fn(rt, ...)` on one warehouse connection (DuckDB: released at the end)."""

    @functools.wraps(step)
    def wrapper(rt: Runtime, *args, **kwargs):
        with rt.warehouse.connected():
            return step(rt, *args, **kwargs)

    return wrapper


def period_of(d: dt.date) -> str:
    return d.strftime("%Y-%m")


@dataclass
class Runtime:
    """Folders, company configuration and warehouse of one closeflow installation."""

    home: Path
    warehouse_url: str
    raw_schema: str = "raw"
    dbt_schema: str = "analytics"
    # seconds a step waits for another writer to finish (closeflow.run_lock) before it
    # fails; 0 at the command line (a person is told at once), more inside Airflow
    lock_wait: float = 0.0

    @classmethod
    def from_env(cls, lock_wait: float | None = None) -> Runtime:
        home = default_home()
        url = os.environ.get("CLOSEFLOW_WAREHOUSE_URL", f"duckdb:///{home / 'warehouse.duckdb'}")
        if lock_wait is None:
            lock_wait = float(os.environ.get("CLOSEFLOW_LOCK_WAIT", "0"))
        return cls(
            home=home,
            warehouse_url=url,
            raw_schema=os.environ.get("CLOSEFLOW_RAW_SCHEMA", "raw"),
            dbt_schema=os.environ.get("CLOSEFLOW_DBT_SCHEMA", "analytics"),
            lock_wait=lock_wait,
        )

    @cached_property
    def company(self) -> CompanyConfig:
        return CompanyConfig(self.home / "company")

    @cached_property
    def warehouse(self) -> Warehouse:
        """The warehouse; its tables are made by its first transaction (so taking its run
        lock does not open it)."""
        return Warehouse(self.warehouse_url, schema=self.raw_schema)

    @property
    def tz(self) -> str:
        return self.company.company.timezone

    @property
    def inbox(self) -> Path:
        return self.home / "inbox"

    @property
    def bank_inbox(self) -> Path:
        return self.home / "bank_inbox"

    @property
    def archive(self) -> Path:
        return self.home / "archive"

    @property
    def staging(self) -> Path:
        return self.home / "staging"

    @property
    def reports(self) -> Path:
        return self.home / "reports"
