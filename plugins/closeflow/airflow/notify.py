"""Tell people when a closeflow task fails: a record on disk, and a mail when configured.

Every failure is appended to `$CLOSEFLOW_HOME/alerts/failures.jsonl`: the DAG, the task,
the night (or month) the run owns, the try, the error (which names the file, statement
or rules line at fault) and the link to the task's log. When `CLOSEFLOW_ALERT_TO` names
the on-call addresses, they also get it by mail, through the Airflow SMTP connection
(closeflow.alerts, closeflow.mail), its body without account numbers or server paths. A
notifier that cannot deliver logs that and never raises: the task's own failure is what
matters.
"""

from __future__ import annotations

import datetime as dt
import logging

from airflow.sdk import BaseNotifier

from closeflow.alerts import raise_alert
from closeflow.config import default_home

log = logging.getLogger(__name__)

__all__ = ["FailureNotifier", "failure_record", "window_named"]


def window_named(context) -> str:
    """The night (or month) a run owns, as its key, or what is known when the run names
    none (the failure may be that very refusal)."""
    from closeflow.airflow.windows import MONTH, NIGHT, run_window

    # the close's DAG takes a `period`, the nightly ones a `date` (windows.window_params)
    unit = MONTH if "period" in (context.get("params") or {}) else NIGHT
    try:
        from closeflow.airflow import COMPANY_TZ

        return run_window(context, unit, COMPANY_TZ).key
    except Exception:
        start, end = context.get("data_interval_start"), context.get("data_interval_end")
        return f"no {unit} ({start} .. {end})"


def failure_record(context) -> dict:
    ti = context.get("task_instance") or context.get("ti")
    exc = context.get("exception")
    return {
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "dag_id": getattr(ti, "dag_id", None),
        "task_id": getattr(ti, "task_id", None),
        "window": window_named(context),
        "run_id": getattr(ti, "run_id", None) or context.get("run_id"),
        "try_number": getattr(ti, "try_number", None),
        "map_index": getattr(ti, "map_index", None),
        "error": f"{type(exc).__name__}: {exc}" if exc else "unknown error",
        "log": getattr(ti, "log_url", None),
    }


class FailureNotifier(BaseNotifier):
    """Record a failed task and mail the on-call address (closeflow.alerts)."""

    def notify(self, context) -> None:
        record = failure_record(context)
        lines = [f"{k}: {v}" for k, v in record.items()]
        raise_alert(
            default_home(),
            "failures",
            f"{record['dag_id']}.{record['task_id']} failed for {record['window']}",
            lines,
            **record,
        )
