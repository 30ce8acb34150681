"""`closeflow status`: the last nights from the step log and the alerts, at a glance."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from closeflow.cli import main
from closeflow.runtime import Runtime, Window
from closeflow.sample.company import build_company, write_company_folder
from closeflow.sample.fx import cny_rates
from closeflow.sample.suppliers import build_suppliers
from closeflow.status import night_statuses
from closeflow.steps import record_step

T0 = dt.datetime(2026, 1, 6, 0, 10, tzinfo=dt.UTC)
NIGHT5 = {  # what each step of the 5th said it did
    "ingest": {"extracted": 9, "needs_review": 2, "quarantined": 1},
    "bank": {"files read": 1, "lines": 14},
    "post": {"invoices read": 9, "invoices posted": 9, "to review": 0},
    "reconcile": {"bank lines tried": 14, "lines matched": 11, "to review": 1},
    "marts": {"models_built": 19},
    "report": {"bank lines": 14},
}


@pytest.fixture
def rt(tmp_path, monkeypatch):
    write_company_folder(
        tmp_path / "company",
        build_company(7),
        build_suppliers(7),
        cny_rates(7, dt.date(2026, 1, 1), dt.date(2026, 2, 1)),
        "2026-01",
    )
    rt = Runtime(home=tmp_path, warehouse_url=f"duckdb:///{tmp_path / 'w.duckdb'}")
    for n, (step, summary) in enumerate(NIGHT5.items()):
        start = T0 + dt.timedelta(seconds=30 * n)
        night = Window.day(dt.date(2026, 1, 5), rt.tz)
        record_step(
            rt, step, night, "success", started_at=start,
            finished_at=start + dt.timedelta(seconds=20), summary=summary,
        )  # fmt: skip
    sixth = Window.day(dt.date(2026, 1, 6), rt.tz)
    record_step(rt, "ingest", sixth, "success", started_at=T0, finished_at=T0, summary={})
    record_step(rt, "bank", sixth, "success", started_at=T0, finished_at=T0, summary={})
    record_step(
        rt, "post", sixth, "failed", started_at=T0, finished_at=T0 + dt.timedelta(seconds=3),
        summary={"error": "ConfigError: posting_rules.yml:12: unknown field"},
    )  # fmt: skip
    (tmp_path / "alerts").mkdir()
    (tmp_path / "alerts" / "failures.jsonl").write_text(
        json.dumps({"dag_id": "ledger_nightly", "task_id": "post", "window": "2026-01-06"})
        + "\n"
        + json.dumps({"subject": "1 file(s) quarantined", "run_id": "ingest:2026-01-05"})
        + "\n"
    )
    monkeypatch.setenv("CLOSEFLOW_HOME", str(tmp_path))
    monkeypatch.setenv("CLOSEFLOW_WAREHOUSE_URL", rt.warehouse_url)
    yield rt
    rt.warehouse.dispose()


def test_each_night_in_numbers_newest_first(rt):
    sixth, fifth = night_statuses(rt)
    assert (sixth.night, sixth.state, sixth.alerts) == (dt.date(2026, 1, 6), "failed: post", 1)
    assert fifth.state == "done" and fifth.seconds == 120.0
    assert (fifth.files, fifth.statement_lines, fifth.posted, fifth.matched) == (12, 14, 9, 11)
    assert (fifth.to_review, fifth.alerts) == (3, 1)
    assert night_statuses(rt, nights=1) == [sixth]


def test_status_at_the_command_line(rt, capsys):
    assert main(["status", "--nights", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "night", "state", "time", "files", "lines", "posted", "matched", "review", "alerts",
    ]  # fmt: skip
    assert lines[2].split() == [
        "2026-01-06",
        "failed:",
        "post",
        "0:03",
        "0",
        "0",
        "0",
        "0",
        "0",
        "1",
    ]
    assert lines[3].split() == ["2026-01-05", "done", "2:00", "12", "14", "9", "11", "3", "1"]
