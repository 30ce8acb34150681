"""The nightly deadline: when it falls, and what the alert says (mailed for real)."""

import asyncio
import datetime as dt
import json

import pytest

from closeflow.airflow.deadlines import hours_to_deadline, late_record, night_late
from tests.smtp import SmtpServer, airflow_connection, text_of

SCHEDULED = {
    "dag_run": {
        "dag_id": "ledger_nightly",
        "dag_run_id": "scheduled__2026-01-05T23:00:00+00:00",
        "state": "running",
        "data_interval_start": "2026-01-04T23:00:00Z",
        "data_interval_end": "2026-01-05T23:00:00Z",
        "queued_at": "2026-01-05T23:00:02Z",
        "conf": {},
    },
    "deadline": {"deadline_time": "2026-01-06 05:00:02+00:00"},
}


def test_the_deadline_is_a_time_after_midnight(monkeypatch):
    assert hours_to_deadline() == dt.timedelta(hours=6)
    monkeypatch.setenv("CLOSEFLOW_NIGHT_DEADLINE", "07:30")
    assert hours_to_deadline() == dt.timedelta(hours=7, minutes=30)
    for bad in ("7h", "24:00", "00:00"):
        with pytest.raises(ValueError, match="CLOSEFLOW_NIGHT_DEADLINE"):
            hours_to_deadline(bad)


def test_the_alert_names_the_night_by_the_rule_every_run_follows():
    assert late_record(SCHEDULED)["night"] == "2026-01-05"
    by_param = {"dag_run": SCHEDULED["dag_run"] | {"conf": {"date": "2026-01-03"}}}
    assert late_record(by_param)["night"] == "2026-01-03"
    at_noon = SCHEDULED["dag_run"] | {"data_interval_end": "2026-01-05T11:37:00Z"}
    assert late_record({"dag_run": at_noon})["night"].startswith("no night (")


def test_a_late_night_is_recorded_and_mailed_to_on_call(tmp_path, monkeypatch):
    monkeypatch.setenv("CLOSEFLOW_HOME", str(tmp_path))
    monkeypatch.setenv("CLOSEFLOW_ALERT_TO", "oncall@example.com")
    with SmtpServer() as smtp:
        monkeypatch.setenv("AIRFLOW_CONN_CLOSEFLOW_SMTP", airflow_connection(smtp.port))
        asyncio.run(night_late(context=SCHEDULED))
    [mail] = smtp.messages
    assert mail["Subject"] == "[closeflow] ledger_nightly for 2026-01-05 not done by its deadline"
    assert "deadline: 2026-01-06 05:00:02+00:00" in text_of(mail)
    [record] = [json.loads(x) for x in (tmp_path / "alerts" / "deadlines.jsonl").open()]
    assert (record["night"], record["state"]) == ("2026-01-05", "running")


def test_a_callback_that_cannot_mail_does_not_raise(tmp_path, monkeypatch):
    monkeypatch.setenv("CLOSEFLOW_HOME", str(tmp_path))
    monkeypatch.setenv("CLOSEFLOW_ALERT_TO", "oncall@example.com")
    monkeypatch.setenv("AIRFLOW_CONN_CLOSEFLOW_SMTP", airflow_connection(1))  # no server
    asyncio.run(night_late(context=SCHEDULED))
    assert len((tmp_path / "alerts" / "deadlines.jsonl").read_text().splitlines()) == 1
