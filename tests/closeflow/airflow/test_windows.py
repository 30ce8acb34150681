"""A task's window comes from its data interval, in the company's timezone."""

import datetime as dt

import pytest

from closeflow.airflow import window_of
from closeflow.runtime import Window


def _company(home, tz: str) -> None:
    (home / "company").mkdir()
    (home / "company" / "company.yml").write_text(f"name: Test GmbH\ntimezone: {tz}\n")
    (home / "company" / "chart_of_accounts.yml").write_text("accounts: []\n")
    (home / "company" / "suppliers.yml").write_text("suppliers: []\n")


INTERVAL = {
    "data_interval_start": dt.datetime(2026, 1, 4, 23, tzinfo=dt.UTC),
    "data_interval_end": dt.datetime(2026, 1, 5, 23, tzinfo=dt.UTC),
}


def test_window_from_the_data_interval_or_a_date_param(tmp_path, monkeypatch):
    _company(tmp_path, "Europe/Berlin")
    monkeypatch.setenv("CLOSEFLOW_HOME", str(tmp_path))
    assert window_of(INTERVAL) == Window.day(dt.date(2026, 1, 5))
    assert window_of(INTERVAL | {"params": {"date": "2026-02-03"}}) == Window.day(
        dt.date(2026, 2, 3)
    )


def test_zero_length_interval_is_refused(tmp_path, monkeypatch):
    _company(tmp_path, "Europe/Berlin")
    monkeypatch.setenv("CLOSEFLOW_HOME", str(tmp_path))
    start = INTERVAL["data_interval_start"]
    with pytest.raises(ValueError, match="no data interval"):
        window_of({"data_interval_start": start, "data_interval_end": start})


def test_company_timezone_must_match_the_schedule(tmp_path, monkeypatch):
    _company(tmp_path, "Asia/Shanghai")
    monkeypatch.setenv("CLOSEFLOW_HOME", str(tmp_path))
    with pytest.raises(ValueError, match="set CLOSEFLOW_TIMEZONE=Asia/Shanghai"):
        window_of(INTERVAL)
