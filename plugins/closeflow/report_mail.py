"""Mailing the nightly report to finance, through an Airflow SMTP connection.

The mail is the report's HTML as its body, with the XLSX and the CSV attached (named
after the night: `reconciliation_2026-01-05.xlsx`), sent by the SMTP provider's
`SmtpHook` over the Airflow connection `closeflow_smtp` (closeflow.mail).
Recipients are `CLOSEFLOW_REPORT_TO` (comma-separated) if set, else company.yml's
`report_recipients`; with neither, nothing is sent and the report stays in its folder.

Every attempt is appended to the night's `reports/daily/<day>/deliveries.jsonl` (when,
to whom, the subject, each attached file's sha256, sent or why not).

- Mailing never fails the night's books: a mail server that is down, a connection that
  is not defined or a refused recipient is logged, recorded there and raised as an alert
  (`alerts/report_mail.jsonl`, mailed to the on-call address when that is configured),
  and the step returns normally.
- A night is mailed once: running it again (a re-run, a backfill, clearing the task)
  sends nothing if `deliveries.jsonl` records a sent mail, so finance never gets the same
  night twice by accident, and a night whose mail failed is sent by running the step
  again. A corrected report is sent on purpose with `resend=True`
  (`closeflow report mail --date D --resend`); its subject then says "(corrected)".
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

from closeflow import mail
from closeflow.alerts import raise_alert
from closeflow.report import report_paths
from closeflow.runtime import Runtime, Window
from closeflow.steps import StepSummary

log = logging.getLogger(__name__)


def recipients(rt: Runtime) -> list[str]:
    """Who gets the report: CLOSEFLOW_REPORT_TO if set, else company.yml's
    `report_recipients`."""
    env = os.environ.get("CLOSEFLOW_REPORT_TO")
    if env is not None and env.strip():
        return [a.strip() for a in env.replace(";", ",").split(",") if a.strip()]
    return list(rt.company.company.report_recipients)


def deliveries(rt: Runtime, day: str) -> list[dict]:
    """Every recorded attempt to mail night `day`'s report, oldest first."""
    path = report_paths(rt, day)["dir"] / "deliveries.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _record(rt: Runtime, day: str, record: dict) -> None:
    path = report_paths(rt, day)["dir"] / "deliveries.jsonl"
    try:
        with path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
    except OSError:
        log.exception("could not record the report mail of %s in %s", day, path)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def mail_report(rt: Runtime, window: Window, *, resend: bool = False) -> StepSummary:
    """Mail night `window`'s archived report to finance, once (see the module docstring).

    Never raises for a mail that cannot be sent: the summary says `mail failed: …`."""
    day = window.key
    paths = report_paths(rt, day)
    to = recipients(rt)
    if not to:
        log.info("report %s not mailed: no recipients (CLOSEFLOW_REPORT_TO, company.yml)", day)
        return StepSummary("mail", day, {"mail": "not configured: no recipients"})
    if not paths["json"].exists() or not paths["html"].exists():
        reason = f"no report for {day} in its folder: run the report step first"
        log.warning("report %s not mailed: %s", day, reason)
        return StepSummary("mail", day, {"mail": f"not sent: {reason}"})
    sent = [d for d in deliveries(rt, day) if d.get("status") == "sent"]
    if sent and not resend:
        log.info("report %s already mailed at %s: not sent again", day, sent[-1]["at"])
        return StepSummary("mail", day, {"mail": f"already sent at {sent[-1]['at']}"})
    meta = json.loads(paths["json"].read_text(encoding="utf-8"))
    subject = meta["subject"] + (" (corrected)" if sent else "")
    html = paths["html"].read_text(encoding="utf-8")
    conn_id = mail.smtp_conn_id()
    record = {
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "night": day,
        "to": to,
        "subject": subject,
        "conn_id": conn_id,
        "resend": bool(sent),
    }
    with tempfile.TemporaryDirectory(prefix="closeflow-mail-") as tmp:
        # attachments named after the night, so finance can keep them side by side
        files = []
        for kind in ("xlsx", "csv"):
            dated = Path(tmp) / f"{paths[kind].stem}_{day}{paths[kind].suffix}"
            shutil.copyfile(paths[kind], dated)
            files.append(dated)
        record["files"] = {f.name: _sha256(f) for f in [paths["html"], *files]}
        try:
            mail.send(to, subject, html, files, conn_id)
        except Exception as exc:  # a mail must never fail the books: record and tell
            error = f"{type(exc).__name__}: {exc}"[:500]
            log.warning("report %s could not be mailed to %s: %s", day, to, error)
            _record(rt, day, record | {"status": "failed", "error": error})
            raise_alert(
                rt.home,
                "report_mail",
                f"nightly report {day} not mailed to finance",
                [
                    f"the report of {day} could not be mailed through connection {conn_id}: "
                    f"{error}",
                    f"it is archived in reports/daily/{day}/; run the mail step again to send it",
                ],
                night=day,
            )
            return StepSummary("mail", day, {"mail": f"failed: {error}"})
    _record(rt, day, record | {"status": "sent"})
    log.info("report %s mailed to %s", day, ", ".join(to))
    return StepSummary("mail", day, {"mail": "sent", "to": ", ".join(to)})
