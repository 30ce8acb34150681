"""One window's work in one process, in DAG order: what `closeflow run` does.

The DAGs call the same step functions task by task; this module strings them together
for a user at the command line, and reads back a period's summary.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from closeflow import run_lock
from closeflow.bank_import import import_bank
from closeflow.close import close_period, lock_period
from closeflow.failpoints import failpoint
from closeflow.ingest import ingest_window
from closeflow.invoice_posting import post
from closeflow.reconciliation import reconcile_window
from closeflow.report import nightly_report
from closeflow.report_mail import mail_report
from closeflow.runtime import Runtime, Window, holds_connection
from closeflow.steps import StepSummary, warehouse_step


@warehouse_step("marts", respects_lock=False)
def build_marts(rt: Runtime, window: Window) -> StepSummary:
    """dbt build of the ledger marts and the tests that prove the books, after the night."""
    from closeflow.dbt import build

    res = build(rt.warehouse_url, rt.raw_schema, rt.dbt_schema)
    failpoint(f"marts:{window.key}")
    return StepSummary("dbt", window.key, res.as_dict())


def run_night(rt: Runtime, day: dt.date, build_marts_too: bool = True) -> list[str]:
    """Ingest, bank import, posting, reconciliation, dbt and report for one day, holding
    the warehouse's run lock throughout (no other run interleaves its steps); then the
    report is mailed to finance if recipients are configured (closeflow.report_mail)."""
    window = Window.day(day, rt.tz)
    with run_lock.hold(rt.warehouse, f"closeflow run --date {day}", wait=rt.lock_wait):
        lines = [ingest_window(rt, window).line()]
        lines += [step(rt, window).line() for step in (import_bank, post, reconcile_window)]
        if build_marts_too:
            lines.append(build_marts(rt, window).line())
        lines.append(nightly_report(rt, window).line())
    lines.append(mail_report(rt, window).line())  # never raises: a failed mail is recorded
    return lines


def run_close(rt: Runtime, period: str) -> dict:
    """The month-end close of `period`: its metrics, then the period lock."""
    window = Window.month(period, rt.tz)
    with run_lock.hold(rt.warehouse, f"closeflow run --period {period}", wait=rt.lock_wait):
        close = close_period(rt, window)
        lock = lock_period(rt, window, by="closeflow run --period")
    return {"close": close.counts, "lock": lock.counts}


def _pct(rate) -> str:
    """A Decimal rate as a percentage with one decimal: 0.905882 -> '90.6 %'."""
    return f"{(rate * 100).quantize(Decimal('0.1'))} %"


@holds_connection
def night_line(rt: Runtime, day: dt.date) -> str:
    """One line of what a night did, in numbers, read back from the warehouse."""
    w = Window.day(day, rt.tz)
    raw = rt.warehouse.schema
    wh = rt.warehouse
    keys = {s: w.run_key(s) for s in ("ingest", "bank", "post", "reconcile")}
    skipped = wh.query(
        f"SELECT status, summary FROM {raw}.step_runs WHERE run_id = :ingest", keys
    ).to_pylist()
    if skipped and skipped[0]["status"] == "skipped":
        return f"{w.key}: {json.loads(skipped[0]['summary'])['skipped']}"
    states = {
        r["status"]: r["n"]
        for r in wh.query(
            f"SELECT status, count(*) AS n FROM {raw}.file_manifest WHERE run_id = :ingest "
            f"GROUP BY status ORDER BY status",
            keys,
        ).to_pylist()
    }
    posted = wh.scalar(
        f"SELECT count(DISTINCT source_id) FROM {raw}.journal_lines WHERE run_id = :post", keys
    )
    lines = wh.scalar(
        f"SELECT count(*) FROM {raw}.bank_lines WHERE booking_date >= :s AND booking_date < :e",
        {"s": w.start, "e": w.end},
    )
    matched = wh.scalar(
        f"SELECT count(*) FROM {raw}.matches WHERE run_id = :reconcile "
        f"AND status IN ('auto', 'confirmed')",
        keys,
    )
    review = wh.scalar(
        f"SELECT count(*) FROM {raw}.review_queue WHERE created_run_id IN "
        f"(:ingest, :bank, :post, :reconcile)",
        keys,
    )
    files = sum(states.values())
    detail = ", ".join(f"{k} {v}" for k, v in states.items())
    return (
        f"{w.key}: {files} files read"
        + (f" ({detail})" if detail else "")
        + f", {posted} invoices posted, {lines} bank lines, {matched} matched, "
        f"{review} to review"
    )


@holds_connection
def summary_lines(rt: Runtime, period: str) -> list[str]:
    """A short account of the period: files, postings, matches, the trial balance."""
    raw = rt.warehouse.schema
    wh = rt.warehouse
    window = Window.month(period, rt.tz)
    files = wh.query(
        f"SELECT kind, status, count(*) AS n FROM {raw}.file_manifest "
        f"WHERE received_at >= :s AND received_at < :e GROUP BY kind, status "
        f"ORDER BY kind, status",
        {"s": window.start_utc, "e": window.end_utc},
    ).to_pylist()
    states = {r["status"]: r["n"] for r in files if r["kind"] == "invoice"}
    statements = {r["status"]: r["n"] for r in files if r["kind"] == "bank_statement"}
    metrics = wh.query(f"SELECT * FROM {raw}.close_metrics WHERE period = :p", {"p": period})
    m = metrics.to_pylist()[0] if metrics.num_rows else {}
    entries = wh.scalar(
        f"SELECT count(DISTINCT entry_id) FROM {raw}.journal_lines WHERE period = :p", {"p": period}
    )
    unbalanced = wh.scalar(
        f"SELECT count(*) FROM (SELECT entry_id FROM {raw}.journal_lines GROUP BY entry_id "
        f"HAVING SUM(amount) <> 0) x"
    )
    tb = wh.scalar(
        f"SELECT COALESCE(SUM(amount), 0) FROM {raw}.journal_lines WHERE period = :p", {"p": period}
    )
    from closeflow.periods import period_locks

    locks = period_locks(rt)
    closed = locks.why_closed(period) if locks.is_closed(period) else f"period {period} is open"
    out = [
        f"period {period}",
        "  files: " + ", ".join(f"{k} {v}" for k, v in states.items()),
        "  statement files: " + ", ".join(f"{k} {v}" for k, v in statements.items())
        if statements
        else "",
        f"  invoices read {m.get('invoices_received', '?')}, posted {m.get('invoices_posted', '?')}"
        f", in review {m.get('review_queue_open', '?')} (touchless rate "
        f"{_pct(m['touchless_rate'])})"
        if m
        else "  close metrics: not computed yet",
        f"  auto-posted {m['invoices_auto_posted']}, touchless {m['invoices_touchless']}, "
        f"corrected later {m['invoices_corrected']} (wrong-posting rate "
        f"{_pct(m['wrong_posting_rate'])})"
        if m and m.get("wrong_posting_rate") is not None
        else "",
        f"  suggestions: held-back accuracy {_pct(m['suggestion_holdout_accuracy'])} "
        f"({m['suggestions_held_back']} approved lines held back)"
        if m and m.get("suggestion_holdout_accuracy") is not None
        else "",
        f"  bank lines {m.get('bank_lines')}, matched or explained {m.get('bank_lines_matched')}"
        f" (match rate {_pct(m['match_rate'])}), unreconciled {m.get('unreconciled_amount')}"
        if m
        else "",
        f"  journal entries {entries}, unbalanced entries {unbalanced}, trial balance "
        + ("balanced (sums to 0.00)" if tb == 0 else f"OUT BY {tb}"),
        f"  {closed}",
        f"  reports: {rt.reports / 'daily'}/<day>/reconciliation.html, "
        f"{rt.reports / 'close' / period}/close_metrics.html",
    ]
    return [line for line in out if line]
