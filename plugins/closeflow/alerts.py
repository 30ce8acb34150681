"""Telling the on-call engineer: an alert recorded on disk, and mailed when configured.

Every alert is appended to `$CLOSEFLOW_HOME/alerts/<kind>.jsonl` (one JSON object a
line: when, the subject, the lines). When `CLOSEFLOW_SMTP_HOST` and `CLOSEFLOW_ALERT_TO`
are set, it is also mailed, without account numbers or server paths (closeflow.masking).
Delivering an alert never raises: a mail server that is down is logged, and the step
that raised the alert goes on.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import smtplib
from email.message import EmailMessage
from pathlib import Path

from closeflow.masking import public_text

log = logging.getLogger(__name__)


def send_mail(
    subject: str, body: str, to: list[str], html: str | None = None, attachments: list[Path] = ()
) -> None:
    """Send a mail through the SMTP server in CLOSEFLOW_SMTP_HOST/PORT."""
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = os.environ.get("CLOSEFLOW_MAIL_FROM", "closeflow@localhost")
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


def on_call() -> list[str]:
    """The on-call addresses (CLOSEFLOW_ALERT_TO), when mail is configured."""
    if not os.environ.get("CLOSEFLOW_SMTP_HOST"):
        return []
    return [a.strip() for a in os.environ.get("CLOSEFLOW_ALERT_TO", "").split(",") if a.strip()]


def raise_alert(home: Path, kind: str, subject: str, lines: list[str], **fields: object) -> dict:
    """Record the alert in `home`/alerts/`kind`.jsonl and mail it to the on-call address."""
    record = {
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "kind": kind,
        "subject": subject,
        "lines": lines,
        **fields,
    }
    path = home / "alerts" / f"{kind}.jsonl"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
    except OSError:
        log.exception("could not record the alert in %s", path)
    to = on_call()
    if to:
        try:
            # a mail leaves the machine: no account numbers, no server paths in it
            body = public_text("\n".join(lines))
            send_mail(f"[closeflow] {public_text(subject)}", body, to)
        except (OSError, smtplib.SMTPException):
            log.exception("could not mail the alert to %s", to)
    return record


def quarantined_files(home: Path, run_key: str, manifest: list[dict]) -> dict | None:
    """One alert for the files a run quarantined (`manifest` rows), naming each file and
    why; None when there were none."""
    bad = [m for m in manifest if m["status"] == "quarantined"]
    if not bad:
        return None
    return raise_alert(
        home,
        "quarantined",
        f"{len(bad)} file(s) quarantined by {run_key}",
        [f"{Path(m['source_uri']).name}: {m['reason']}" for m in bad],
        run_id=run_key,
        files=[m["source_uri"] for m in bad],
    )
