"""Tell people when a closeflow task fails: a record on disk, and a mail when configured.

Every failure is appended to `$CLOSEFLOW_HOME/alerts/failures.jsonl` (what failed, the
window, the error, the try). When `CLOSEFLOW_SMTP_HOST` is set, the on-call address in
`CLOSEFLOW_ALERT_TO` also gets a mail, its body without account numbers or server paths
(an error message may quote a bank line or a file: closeflow.masking). A notifier that
cannot deliver logs that and never raises: the task's own failure is what matters.
"""

from __future__ import annotations

import datetime as dt
import logging

from airflow.sdk import BaseNotifier

from closeflow.alerts import raise_alert, send_mail
from closeflow.config import default_home

log = logging.getLogger(__name__)

__all__ = ["FailureNotifier", "failure_record", "send_mail"]


def failure_record(context) -> dict:
    ti = context.get("task_instance") or context.get("ti")
    exc = context.get("exception")
    return {
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "dag_id": getattr(ti, "dag_id", None),
        "task_id": getattr(ti, "task_id", None),
        "run_id": getattr(ti, "run_id", None) or context.get("run_id"),
        "try_number": getattr(ti, "try_number", None),
        "map_index": getattr(ti, "map_index", None),
        "data_interval_start": str(context.get("data_interval_start")),
        "data_interval_end": str(context.get("data_interval_end")),
        "error": f"{type(exc).__name__}: {exc}" if exc else "unknown error",
    }


class FailureNotifier(BaseNotifier):
    """Record a failed task and mail the on-call address (closeflow.alerts)."""

    def notify(self, context) -> None:
        record = failure_record(context)
        lines = [f"{k}: {v}" for k, v in record.items()]
        raise_alert(
            default_home(),
            "failures",
            f"{record['dag_id']}.{record['task_id']} failed",
            lines,
            **record,
        )
