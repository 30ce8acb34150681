"""A task's window comes from its data interval, in the company's timezone."""

import datetime as dt

import pytest

from closeflow.airflow import MONTH, RunWindowRefused, window_of
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


def _berlin(monkeypatch, tmp_path) -> None:
    _company(tmp_path, "Europe/Berlin")
    monkeypatch.setenv("CLOSEFLOW_HOME", str(tmp_path))


def _local(*args) -> dt.datetime:
    from zoneinfo import ZoneInfo

    return dt.datetime(*args, tzinfo=ZoneInfo("Europe/Berlin"))


def test_a_night_across_a_daylight_saving_change(tmp_path, monkeypatch):
    """Airflow counts the interval back in absolute time: the night of 29 March 2026
    (23 hours) starts at 23:00 of the 28th; it is still the night of the 29th."""
    _berlin(monkeypatch, tmp_path)
    end = _local(2026, 3, 30)
    night = {"data_interval_start": end - dt.timedelta(days=1), "data_interval_end": end}
    assert window_of(night) == Window.day(dt.date(2026, 3, 29))


def test_a_run_triggered_at_a_wall_clock_time_is_refused_without_retry(tmp_path, monkeypatch):
    """The REST API or the UI without a date: Airflow gives the manual run the day up to
    the trigger instant. closeflow will not guess which night that means."""
    from airflow.sdk.exceptions import AirflowFailException

    _berlin(monkeypatch, tmp_path)
    at = _local(2026, 1, 20, 14, 37)
    manual = {"data_interval_start": at - dt.timedelta(days=1), "data_interval_end": at}
    with pytest.raises(RunWindowRefused, match="triggered at a wall-clock time") as refused:
        window_of(manual)
    assert isinstance(refused.value, AirflowFailException)  # fails at once: no retries
    assert 'params {"date": "2026-01-05"}' in str(refused.value)
    # the same run given its night, by params or by a logical date at midnight
    assert window_of(manual | {"params": {"date": "2026-01-20"}}) == Window.day(
        dt.date(2026, 1, 20)
    )
    midnight = _local(2026, 1, 21)
    aligned = {
        "data_interval_start": midnight - dt.timedelta(days=1),
        "data_interval_end": midnight,
    }
    assert window_of(aligned) == Window.day(dt.date(2026, 1, 20))


@pytest.mark.parametrize(
    ("params", "refusal"),
    [
        ({"date": "20.01.2026"}, "params.date '20.01.2026' is not a YYYY-MM-DD"),
        ({"date": "2999-01-01"}, "the night 2999-01-01 has not ended yet"),
        ({"period": "2026-01"}, "params.period is for the close: this DAG runs a night"),
    ],
)
def test_a_night_param_is_validated(tmp_path, monkeypatch, params, refusal):
    _berlin(monkeypatch, tmp_path)
    with pytest.raises(RunWindowRefused, match=refusal):
        window_of(INTERVAL | {"params": params})


def test_the_close_owns_a_whole_calendar_month(tmp_path, monkeypatch):
    _berlin(monkeypatch, tmp_path)
    january = {
        "data_interval_start": _local(2026, 1, 1),
        "data_interval_end": _local(2026, 2, 1),
    }
    assert window_of(january, MONTH) == Window.month("2026-01")
    assert window_of({"params": {"period": "2026-02"}}, MONTH) == Window.month("2026-02")
    # a night's interval, part of a month, a day param: never a close
    with pytest.raises(RunWindowRefused, match="is not one calendar month"):
        window_of(INTERVAL, MONTH)
    partial = january | {"data_interval_start": _local(2026, 1, 15)}
    with pytest.raises(RunWindowRefused, match="is not one calendar month"):
        window_of(partial, MONTH)
    with pytest.raises(RunWindowRefused, match="params.date is for the nightly DAGs"):
        window_of(january | {"params": {"date": "2026-01-05"}}, MONTH)
    with pytest.raises(RunWindowRefused, match="the month 2999-01 has not ended yet"):
        window_of({"params": {"period": "2999-01"}}, MONTH)
    with pytest.raises(RunWindowRefused, match="params.period '2026-1' is not a YYYY-MM"):
        window_of({"params": {"period": "2026-1"}}, MONTH)
