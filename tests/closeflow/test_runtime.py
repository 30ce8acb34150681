"""Windows: a nightly run owns one local calendar day, a close run one month."""

import datetime as dt

from closeflow.runtime import Window


def test_day_window_is_the_local_calendar_day_in_utc():
    w = Window.day(dt.date(2026, 1, 5), "Europe/Berlin")
    assert w.key == "2026-01-05"
    assert w.start_utc == dt.datetime(2026, 1, 4, 23, 0, tzinfo=dt.UTC)
    assert w.end_utc == dt.datetime(2026, 1, 5, 23, 0, tzinfo=dt.UTC)
    assert w.contains_instant(dt.datetime(2026, 1, 4, 23, 0, tzinfo=dt.UTC))
    assert not w.contains_instant(dt.datetime(2026, 1, 5, 23, 0, tzinfo=dt.UTC))


def test_summer_time_day_is_still_one_day():
    w = Window.day(dt.date(2026, 3, 29), "Europe/Berlin")  # clocks go forward: 23 hours
    assert w.end_utc - w.start_utc == dt.timedelta(hours=23)


def test_month_window_and_run_keys():
    w = Window.month("2026-02", "Europe/Berlin")
    assert (w.start, w.end, w.key) == (dt.date(2026, 2, 1), dt.date(2026, 3, 1), "2026-02")
    assert w.run_key("close") == "close:2026-02"
    assert (w.end - w.start).days == 28


def test_window_from_airflow_interval():
    start = dt.datetime(2026, 1, 4, 23, tzinfo=dt.UTC)
    w = Window.from_interval(start, start + dt.timedelta(days=1), "Europe/Berlin")
    assert w == Window.day(dt.date(2026, 1, 5), "Europe/Berlin")


def test_window_from_airflow_interval_on_daylight_saving_days():
    """Airflow's interval on 29 March starts 23:00 the day before; the window does not."""
    end = dt.datetime(2026, 3, 29, 22, tzinfo=dt.UTC)  # 2026-03-30 00:00 CEST
    w = Window.from_interval(end - dt.timedelta(days=1), end, "Europe/Berlin")
    assert (w.start, w.end) == (dt.date(2026, 3, 29), dt.date(2026, 3, 30))
    end = dt.datetime(2026, 10, 25, 23, tzinfo=dt.UTC)  # 2026-10-26 00:00 CET
    w = Window.from_interval(end - dt.timedelta(days=1), end, "Europe/Berlin")
    assert (w.start, w.end) == (dt.date(2026, 10, 25), dt.date(2026, 10, 26))


def test_month_window_from_airflow_interval():
    end = dt.datetime(2026, 3, 31, 22, tzinfo=dt.UTC)  # 2026-04-01 00:00 CEST
    w = Window.from_interval(dt.datetime(2026, 2, 28, 23, tzinfo=dt.UTC), end, "Europe/Berlin")
    assert w.key == "2026-03"
