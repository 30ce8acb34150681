"""The failure notifier records every failure and mails it through a real SMTP server."""

import json
from types import SimpleNamespace

from closeflow.airflow.notify import FailureNotifier
from tests.smtp import SmtpServer


def _context():
    ti = SimpleNamespace(
        dag_id="ledger_nightly",
        task_id="post",
        run_id="scheduled__2026-01-06",
        try_number=3,
        map_index=-1,
    )
    return {
        "task_instance": ti,
        "exception": ValueError("rules.yml:12: unknown field"),
        "data_interval_start": "2026-01-05T00:00:00+01:00",
        "data_interval_end": "2026-01-06T00:00:00+01:00",
    }


def test_failure_is_recorded_and_mailed(tmp_path, monkeypatch):
    with SmtpServer() as smtp:
        monkeypatch.setenv("CLOSEFLOW_HOME", str(tmp_path))
        monkeypatch.setenv("CLOSEFLOW_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("CLOSEFLOW_SMTP_PORT", str(smtp.port))
        monkeypatch.setenv("CLOSEFLOW_ALERT_TO", "oncall@example.com")
        FailureNotifier().notify(_context())
    record = json.loads((tmp_path / "alerts" / "failures.jsonl").read_text())
    assert record["dag_id"] == "ledger_nightly" and record["task_id"] == "post"
    assert record["error"] == "ValueError: rules.yml:12: unknown field"
    assert record["try_number"] == 3
    [mail] = smtp.messages
    assert mail["Subject"] == "[closeflow] ledger_nightly.post failed"
    assert mail["To"] == "oncall@example.com"
    assert "rules.yml:12: unknown field" in mail.get_content()


def test_unreachable_mail_server_does_not_raise(tmp_path, monkeypatch):
    monkeypatch.setenv("CLOSEFLOW_HOME", str(tmp_path))
    monkeypatch.setenv("CLOSEFLOW_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CLOSEFLOW_SMTP_PORT", "1")  # nothing listens there
    monkeypatch.setenv("CLOSEFLOW_ALERT_TO", "oncall@example.com")
    FailureNotifier().notify(_context())
    assert len((tmp_path / "alerts" / "failures.jsonl").read_text().splitlines()) == 1
