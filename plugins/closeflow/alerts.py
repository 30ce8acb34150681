"""Telling the on-call engineer: an alert recorded on disk, and mailed when configured.

Every alert is appended to `$CLOSEFLOW_HOME/alerts/<kind>.jsonl` (one JSON object a
line: when, the subject, the lines). When `CLOSEFLOW_ALERT_TO` names addresses, it is also
mailed through the Airflow SMTP connection (closeflow.mail), without account numbers or
server paths (closeflow.masking). Delivering an alert never raises: a mail server that
is down or a connection that is not defined is logged, and whatever raised the alert goes
on.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
import os
from pathlib import Path

from closeflow import mail
from closeflow.masking import public_text

log = logging.getLogger(__name__)


def on_call() -> list[str]:
    """The on-call addresses (CLOSEFLOW_ALERT_TO, comma-separated)."""
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
            body = "<br>\n".join(html.escape(public_text(line)) for line in lines)
            mail.send(to, f"[closeflow] {public_text(subject)}", f"<p>{body}</p>")
        except Exception:  # never let telling fail what it tells about
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
