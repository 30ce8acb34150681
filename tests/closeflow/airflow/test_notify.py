"""The failure notifier records every failure and mails it through a real SMTP server."""

import datetime as dt
import json
from types import SimpleNamespace

from closeflow.airflow.notify import FailureNotifier
from tests.smtp import SmtpServer, airflow_connection, text_of


def _context():
    ti = SimpleNamespace(
        dag_id="ledger_nightly",
        task_id="post",
        run_id="scheduled__2026-01-06",
        try_number=3,
        map_index=-1,
        log_url="http://airflow.example.com/dags/ledger_nightly/runs/r/tasks/post?try_number=3",
    )
    return {
        "task_instance": ti,
        "exception": ValueError("rules.yml:12: unknown field"),
        "data_interval_start": dt.datetime(2026, 1, 4, 23, tzinfo=dt.UTC),
        "data_interval_end": dt.datetime(2026, 1, 5, 23, tzinfo=dt.UTC),
    }


def test_failure_is_recorded_and_mailed(tmp_path, monkeypatch):
    with SmtpServer() as smtp:
        monkeypatch.setenv("CLOSEFLOW_HOME", str(tmp_path))
        monkeypatch.setenv("AIRFLOW_CONN_CLOSEFLOW_SMTP", airflow_connection(smtp.port))
        monkeypatch.setenv("CLOSEFLOW_ALERT_TO", "oncall@example.com")
        FailureNotifier().notify(_context())
    record = json.loads((tmp_path / "alerts" / "failures.jsonl").read_text())
    assert record["dag_id"] == "ledger_nightly" and record["task_id"] == "post"
    assert record["error"] == "ValueError: rules.yml:12: unknown field"
    assert record["try_number"] == 3 and record["window"] == "2026-01-05"
    [mail] = smtp.messages  # through the Airflow SMTP connection
    assert mail["Subject"] == "[closeflow] ledger_nightly.post failed for 2026-01-05"
    assert mail["To"] == "oncall@example.com"
    body = text_of(mail)
    assert "rules.yml:12: unknown field" in body and "window: 2026-01-05" in body
    assert "log: http://airflow.example.com/dags/ledger_nightly/runs/r/tasks/post" in body


def test_unreachable_mail_server_does_not_raise(tmp_path, monkeypatch):
    monkeypatch.setenv("CLOSEFLOW_HOME", str(tmp_path))
    monkeypatch.setenv("AIRFLOW_CONN_CLOSEFLOW_SMTP", airflow_connection(1))  # no server
    monkeypatch.setenv("CLOSEFLOW_ALERT_TO", "oncall@example.com")
    FailureNotifier().notify(_context())
    assert len((tmp_path / "alerts" / "failures.jsonl").read_text().splitlines()) == 1
