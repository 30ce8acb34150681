"""The morning deadline of the nightly work, as an Airflow 3 Deadline Alert.

The ledger of night D must be done by 06:00 company time on D+1 (`CLOSEFLOW_NIGHT_DEADLINE`,
HH:MM): finance reads the report in the morning. The scheduler queues the night's run at
midnight, so the deadline is the run's queue time plus the hours to the deadline
(`DeadlineReference.DAGRUN_QUEUED_AT`). Counting from the queue time, not from the
logical date, keeps a backfill of last year from raising an alert for every night it
makes: each backfilled run gets the same hours from the moment it is queued.

When the run has not finished by then, the triggerer calls `night_late`, which raises an
alert (closeflow.alerts: recorded, mailed to the on-call address through the Airflow SMTP
connection) naming the DAG, the night and the run, with the link to the run.
"""

from __future__ import annotations

import datetime as dt
import logging
import os

log = logging.getLogger(__name__)

DEFAULT_DEADLINE = "06:00"


def hours_to_deadline(value: str | None = None) -> dt.timedelta:
    """How long after midnight the night must be done (`CLOSEFLOW_NIGHT_DEADLINE`, HH:MM)."""
    text = (value or os.environ.get("CLOSEFLOW_NIGHT_DEADLINE") or DEFAULT_DEADLINE).strip()
    try:
        hours, minutes = (int(part) for part in text.split(":"))
    except ValueError:
        raise ValueError(f"CLOSEFLOW_NIGHT_DEADLINE {text!r} is not HH:MM (e.g. 06:00)") from None
    if not (0 <= hours < 24 and 0 <= minutes < 60) or (hours, minutes) == (0, 0):
        raise ValueError(f"CLOSEFLOW_NIGHT_DEADLINE {text!r} is not a time after midnight")
    return dt.timedelta(hours=hours, minutes=minutes)


def nightly_deadline(interval: dt.timedelta | None = None):
    """The DeadlineAlert for a nightly DAG."""
    from airflow.sdk.definitions.deadline import AsyncCallback, DeadlineAlert, DeadlineReference

    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=interval or hours_to_deadline(),
        callback=AsyncCallback(night_late),
        name="closeflow night deadline",
    )


def _instant(value: object) -> dt.datetime | None:
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None


def _night_of(run: dict) -> str:
    """The night the late run owns, by the one rule every run follows (windows.py)."""
    from closeflow.airflow import COMPANY_TZ
    from closeflow.airflow.windows import NIGHT, run_window

    start, end = _instant(run.get("data_interval_start")), _instant(run.get("data_interval_end"))
    context = {"params": run.get("conf") or {}, "data_interval_start": start}
    try:
        return run_window(context | {"data_interval_end": end}, NIGHT, COMPANY_TZ).key
    except Exception:
        return f"no night ({start} .. {end})"


def late_record(context: dict) -> dict:
    """What the alert says, from the context the scheduler gives a missed deadline (the
    run as the REST API describes it, and the deadline)."""
    run = context.get("dag_run") or {}
    run_id = run.get("dag_run_id") or run.get("run_id")
    base = os.environ.get("AIRFLOW__API__BASE_URL", "").rstrip("/")
    return {
        "dag_id": run.get("dag_id"),
        "night": _night_of(run),
        "run_id": run_id,
        "state": run.get("state"),
        "deadline": str((context.get("deadline") or {}).get("deadline_time")),
        "queued_at": str(run.get("queued_at")),
        "run": f"{base}/dags/{run.get('dag_id')}/runs/{run_id}" if base else None,
    }


async def night_late(context: dict | None = None, **_: object) -> None:
    """The deadline callback (run by the triggerer): raise the alert. Never raises."""
    from closeflow.alerts import raise_alert
    from closeflow.config import default_home

    try:
        record = late_record(context or {})
        raise_alert(
            default_home(),
            "deadlines",
            f"{record['dag_id']} for {record['night']} not done by its deadline",
            [f"{k}: {v}" for k, v in record.items()],
            **record,
        )
    except Exception:  # the triggerer must go on
        log.exception("could not raise the deadline alert")
