"""Tell people when a closeflow task fails: a record on disk, and a mail when configured.

Every failure is appended to `$CLOSEFLOW_HOME/alerts/failures.jsonl` (what failed, the
window, the error, the try). When `CLOSEFLOW_SMTP_HOST` is set, the on-call address in
`CLOSEFLOW_ALERT_TO` also gets a mail. A notifier that cannot deliver logs that and never
raises: the task's own failure is what matters.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import smtplib
from email.message import EmailMessage
from pathlib import Path

from airflow.sdk import BaseNotifier

from closeflow.config import default_home

log = logging.getLogger(__name__)


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


def send_mail(
    subject: str, body: str, to: list[str], html: str | None = None, attachments: list[Path] = ()
) -> None:
    """Send a mail through the SMTP server in CLOSEFLOW_SMTP_HOST/PORT."""
    msg = EmailMessage()
    msg["Subject"], msg["From"] = (
        subject,
        os.environ.get("CLOSEFLOW_MAIL_FROM", "closeflow@localhost"),
    )
    msg["To"] = ", ".join(to)
    msg.set_content(body)
    if html:
        msg.add_alternative(html, subtype="html")
    for path in attachments:
        msg.add_attachment(
            Path(path).read_bytes(),
            maintype="application",
            subtype="octet-stream",
            filename=Path(path).name,
        )
    host = os.environ["CLOSEFLOW_SMTP_HOST"]
    port = int(os.environ.get("CLOSEFLOW_SMTP_PORT", "25"))
    with smtplib.SMTP(host, port, timeout=30) as smtp:
        smtp.send_message(msg)


class FailureNotifier(BaseNotifier):
    """Record a failed task and mail the on-call address."""

    def notify(self, context) -> None:
        record = failure_record(context)
        path = default_home() / "alerts" / "failures.jsonl"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(record) + "\n")
        except OSError:
            log.exception("could not record the failure in %s", path)
        to = [a for a in os.environ.get("CLOSEFLOW_ALERT_TO", "").split(",") if a]
        if os.environ.get("CLOSEFLOW_SMTP_HOST") and to:
            subject = f"[closeflow] {record['dag_id']}.{record['task_id']} failed"
            body = "\n".join(f"{k}: {v}" for k, v in record.items())
            try:
                send_mail(subject, body, to)
            except (OSError, smtplib.SMTPException):
                log.exception("could not mail the failure to %s", to)
