"""The one meaning of a run's date: which night (or month) a DAG run owns.

However a run is made (the scheduler, `airflow backfill create`, `airflow dags trigger`,
the REST API, the UI's trigger form, `dag.test()`, `closeflow airflow nights`), its window
comes from one of two sources, never from the instant it was triggered:

- an explicit parameter, validated: `date` (YYYY-MM-DD) for the nightly DAGs, `period`
  (YYYY-MM) for the close; the UI's trigger form shows it;
- else the run's data interval, which must be exactly one company night (local midnight
  to local midnight; on a daylight-saving change 23 or 25 hours) or one calendar month.
  Scheduled runs and backfills have such intervals, and so has a manual run whose logical
  date is the midnight that ends the night.

Anything else is refused, without retries, with what to do instead: a run triggered at a
wall-clock time (the REST API or the UI without a date, `dags trigger` without a logical
date) would otherwise process whatever day that instant fell in.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from airflow.sdk.exceptions import AirflowFailException

from closeflow.runtime import Window

NIGHT, MONTH = "night", "month"
PARAM = {NIGHT: "date", MONTH: "period"}


class RunWindowRefused(AirflowFailException, ValueError):
    """The run names no night (or month) closeflow can own: it fails at once, no retry."""


def window_params(unit: str) -> dict:
    """The DAG's `params`: the night (`date`) or month (`period`) to run, optional."""
    from airflow.sdk import Param

    if unit == NIGHT:
        return {
            "date": Param(
                None,
                type=["null", "string"],
                format="date",
                title="Night",
                description=(
                    "The night to run, YYYY-MM-DD in company time. Empty: the night the "
                    "run's data interval names (scheduled runs, backfills, a logical date "
                    "at the midnight that ends the night)."
                ),
            )
        }
    return {
        "period": Param(
            None,
            type=["null", "string"],
            pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
            title="Month",
            description=(
                "The month to close, YYYY-MM. Empty: the month the run's data interval "
                "names (the scheduled run on the 1st, backfills)."
            ),
        )
    }


def _local_today(tz: str) -> dt.date:
    return dt.datetime.now(ZoneInfo(tz)).date()


def _from_param(unit: str, value: str, tz: str) -> Window:
    name = PARAM[unit]
    try:
        if unit == NIGHT:
            window = Window.day(dt.date.fromisoformat(value), tz)
        else:
            if len(value) != 7:
                raise ValueError(value)
            window = Window.month(value, tz)
    except ValueError:
        shape = "YYYY-MM-DD" if unit == NIGHT else "YYYY-MM"
        raise RunWindowRefused(f"params.{name} {value!r} is not a {shape}") from None
    if window.end > _local_today(tz):
        raise RunWindowRefused(
            f"the {unit} {window.key} has not ended yet ({tz}): it can run from "
            f"{window.end.isoformat()} on"
        )
    return window


def _aligned(window: Window, start: dt.datetime, end: dt.datetime, unit: str) -> bool:
    """Whether the interval [start, end) is exactly `window` in local time: it ends at a
    local midnight and lasts the window's calendar length (give or take the hour of a
    daylight-saving change, which Airflow counts in absolute time)."""
    local_end = end.astimezone(ZoneInfo(window.tz))
    if local_end.time() != dt.time() or local_end.date() != window.end:
        return False
    length = (window.end - window.start).total_seconds()
    if abs((end - start).total_seconds() - length) > 3600:
        return False
    if unit == NIGHT:
        return window.end - window.start == dt.timedelta(days=1)
    return window.key == window.start.strftime("%Y-%m")


def run_window(context, unit: str, tz: str) -> Window:
    """The night (`unit="night"`) or month (`unit="month"`) the run owns, in `tz`."""
    params = context.get("params") or {}
    other = PARAM[MONTH if unit == NIGHT else NIGHT]
    if params.get(other):
        raise RunWindowRefused(
            f"params.{other} is for the {'close' if unit == NIGHT else 'nightly DAGs'}: "
            f"this DAG runs a {unit}, give params.{PARAM[unit]}"
        )
    if params.get(PARAM[unit]):
        return _from_param(unit, str(params[PARAM[unit]]), tz)
    start, end = context.get("data_interval_start"), context.get("data_interval_end")
    example = '{"date": "2026-01-05"}' if unit == NIGHT else '{"period": "2026-01"}'
    if start is None or end is None or start == end:
        raise RunWindowRefused(
            "this run has no data interval (asset-triggered or zero-length): trigger it "
            f"with params {example}"
        )
    window = Window.from_interval(start, end, tz)
    if not _aligned(window, start, end, unit):
        raise RunWindowRefused(
            f"this run's data interval {start.isoformat()} .. {end.isoformat()} is not one "
            f"{'company night' if unit == NIGHT else 'calendar month'} ({tz}): it was "
            "triggered at a wall-clock time (the REST API or the UI without a date, "
            "`airflow dags trigger` without --logical-date, dag.test() without a logical "
            f"date), so closeflow will not guess which {unit} it means. Trigger it with "
            f"params {example}, or with the logical date at the midnight that ends the {unit}"
        )
    return window
