"""Sending mail: every closeflow mail goes through one Airflow SMTP connection.

The nightly report to finance (closeflow.report_mail) and the alerts to the on-call
engineer (closeflow.alerts: failed tasks, a missed deadline, quarantined files) are sent
by the SMTP provider's `SmtpHook` over the Airflow connection `closeflow_smtp` (another
id in `CLOSEFLOW_SMTP_CONN_ID`). Define it in Airflow (UI, CLI, a secrets backend) or as
the environment variable `AIRFLOW_CONN_CLOSEFLOW_SMTP`; the server, port, TLS, login and
sender are the connection's, never closeflow's own settings.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_CONN_ID = "closeflow_smtp"


def smtp_conn_id() -> str:
    """The Airflow connection closeflow's mail is sent through."""
    return os.environ.get("CLOSEFLOW_SMTP_CONN_ID") or DEFAULT_CONN_ID


def send(
    to: list[str],
    subject: str,
    html: str,
    files: list[Path] = (),
    conn_id: str | None = None,
) -> None:
    """Send one HTML mail with `files` attached through the Airflow SMTP connection.
    Raises what the connection or the server raises: callers decide what a failure means."""
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    with SmtpHook(smtp_conn_id=conn_id or smtp_conn_id()) as hook:
        hook.send_email_smtp(
            to=to,
            subject=subject,
            html_content=html,
            files=[str(f) for f in files],
            from_email=os.environ.get("CLOSEFLOW_MAIL_FROM")
            or hook.from_email
            or "closeflow@localhost",
        )
