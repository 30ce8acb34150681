"""Airflow glue: schedules, default task arguments, windows, failure notification.

DAG files in dags/ stay thin: they import what they need from here and from the
closeflow steps. Nothing here runs at import time beyond building small objects.
"""

from __future__ import annotations

import datetime as dt
import os

from dateutil.relativedelta import relativedelta

from closeflow.airflow.deadlines import nightly_deadline
from closeflow.airflow.notify import FailureNotifier
from closeflow.airflow.windows import MONTH, NIGHT, RunWindowRefused, run_window, window_params
from closeflow.runtime import Runtime, Window

COMPANY_TZ = os.environ.get("CLOSEFLOW_TIMEZONE", "Europe/Berlin")

# Every task that writes the warehouse (and dbt) runs in this one-slot pool, so Airflow
# never runs two of them at once; closeflow.run_lock guards the same from outside
# Airflow (a manual `closeflow run`, a second `closeflow airflow nights`).
WAREHOUSE_POOL = "closeflow_warehouse"
WAREHOUSE_POOL_DESCRIPTION = "closeflow: tasks that write the warehouse, one at a time"
# The Celery queue OCR runs on (invoice_ingest's mapped `extract`): docker-compose.yml's
# workers take it beside the default one; other executors ignore queues.
OCR_QUEUE = "ocr"
# Inside Airflow a step waits this long for another writer before it fails (and retries).
TASK_LOCK_WAIT_SECONDS = 600.0


def nightly_timetable():
    """Every midnight (company time); the run owns the calendar day that just ended.

    Airflow 3's CronTriggerTimetable gives zero-length data intervals unless told the
    interval: with `interval=1 day` the run triggered at D+1 00:00 has the data interval
    [D 00:00, D+1 00:00) whether it is scheduled, triggered by hand, tested with
    dag.test() or created by a backfill.
    """
    from airflow.sdk import CronTriggerTimetable

    return CronTriggerTimetable("0 0 * * *", timezone=COMPANY_TZ, interval=dt.timedelta(days=1))


def monthly_timetable():
    """Midnight on the 1st (company time); the run owns the month that just ended."""
    from airflow.sdk import CronTriggerTimetable

    return CronTriggerTimetable("0 0 1 * *", timezone=COMPANY_TZ, interval=relativedelta(months=1))


def start_date():
    import pendulum

    return pendulum.datetime(2026, 1, 2, tz=COMPANY_TZ)


def default_args() -> dict:
    """Owner, retries, timeouts and the failure notifier every closeflow task gets."""
    return {
        "owner": "closeflow-data-eng",
        "retries": int(os.environ.get("CLOSEFLOW_TASK_RETRIES", "2")),
        "retry_delay": dt.timedelta(minutes=5),
        "retry_exponential_backoff": True,
        "execution_timeout": dt.timedelta(hours=1),
        "on_failure_callback": [FailureNotifier()],
    }


def window_of(context, unit: str = NIGHT) -> Window:
    """The night (or, for the close, the month) the run owns: from its validated
    `params` or its data interval, never the trigger instant (closeflow.airflow.windows).

    The timetables are built at parse time from CLOSEFLOW_TIMEZONE; the company's
    timezone is in company.yml. They must agree, or every window would be shifted.
    """
    company_tz = runtime().tz
    if company_tz != COMPANY_TZ:
        raise RunWindowRefused(
            f"company.yml says timezone {company_tz!r} but the DAGs are scheduled in "
            f"{COMPANY_TZ!r}: set CLOSEFLOW_TIMEZONE={company_tz} for Airflow"
        )
    return run_window(context, unit, COMPANY_TZ)


def wait_for_step(
    task_id: str,
    steps: str | tuple[str, ...],
    poke_minutes: int,
    timeout_hours: int,
    unit: str = NIGHT,
):
    """A sensor waiting until every one of `steps` has finished for the run's own window:
    the night's ingest for the ledger (`"ingest"`), every night of the month for the
    close (`"nights"`), and night order (`"night_before:ingest"`, `"night_before:report"`:
    the night before has finished that step, or is before go-live). Runs are paired by
    window in the warehouse's step log, never by coincident logical dates, so it holds
    however the runs were made (scheduler, backfill, trigger, dag.test): a backfill that
    starts a week of runs at once still runs its nights in order. Reschedule mode frees
    the worker slot between pokes."""
    from airflow.providers.standard.sensors.python import PythonSensor

    wanted = (steps,) if isinstance(steps, str) else steps

    def done(**context) -> bool:
        from closeflow.steps import step_finished

        window = window_of(context, unit)
        return all(step_finished(runtime(), step, window) for step in wanted)

    return PythonSensor(
        task_id=task_id,
        python_callable=done,
        mode="reschedule",
        poke_interval=poke_minutes * 60,
        timeout=timeout_hours * 3600,
    )


def ensure_pool(slots: int = 1) -> None:
    """Create the warehouse pool in Airflow's metadata DB if it is missing."""
    from airflow.models.pool import Pool

    if Pool.get_pool(WAREHOUSE_POOL) is None:
        Pool.create_or_update_pool(
            WAREHOUSE_POOL, slots, WAREHOUSE_POOL_DESCRIPTION, include_deferred=False
        )


def runtime() -> Runtime:
    """The installation as a task sees it: steps wait for another writer (and then fail
    and retry) instead of failing at once as they do at the command line."""
    wait = os.environ.get("CLOSEFLOW_LOCK_WAIT")
    return Runtime.from_env(lock_wait=float(wait) if wait else TASK_LOCK_WAIT_SECONDS)


__all__ = [
    "MONTH",
    "NIGHT",
    "OCR_QUEUE",
    "WAREHOUSE_POOL",
    "RunWindowRefused",
    "FailureNotifier",
    "ensure_pool",
    "default_args",
    "monthly_timetable",
    "nightly_deadline",
    "nightly_timetable",
    "runtime",
    "start_date",
    "wait_for_step",
    "window_of",
    "window_params",
]
