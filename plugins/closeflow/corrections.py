"""A controller's correction of an auto-posted entry (`closeflow post correct`): audited in
raw.posting_corrections, re-posted in place by the night's own posting, refused for
closed periods."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging

from closeflow import run_lock
from closeflow.invoice_posting import (
    latest_corrections,
    night_batch,
    post_with_corrections,
    suggester_for,
)
from closeflow.open_items import refresh_open_items
from closeflow.periods import period_locks
from closeflow.runtime import Runtime, Window

log = logging.getLogger(__name__)


class CorrectionError(ValueError):
    """A correction that cannot be made, with what to do instead."""


def _resolve_invoice(rt: Runtime, invoice: str) -> str:
    """The invoice id for what a controller typed: the id, a unique prefix of it (8+
    characters) or the invoice number."""
    raw = rt.warehouse.schema
    got = rt.warehouse.query(
        f"SELECT DISTINCT invoice_id FROM {raw}.invoices WHERE invoice_id = :i "
        f"OR invoice_number = :i OR (length(:i) >= 8 AND invoice_id LIKE :p)",
        {"i": invoice, "p": invoice + "%"},
    )["invoice_id"].to_pylist()
    if not got:
        raise CorrectionError(f"no invoice {invoice!r} (give its id, id prefix or number)")
    if len(got) > 1:
        raise CorrectionError(
            f"{invoice!r} names {len(got)} invoices ({', '.join(g[:12] for g in got)}): "
            "give the invoice id"
        )
    return got[0]


def _legs(rows: list[dict]) -> list[tuple]:
    return [(r["line_no"], r["account"], r["amount"], r["rule_id"]) for r in rows]


def correct_posting(
    rt: Runtime,
    invoice: str,
    account: str,
    reason: str,
    by: str,
    line_no: int | None = None,
    at: dt.datetime | None = None,
) -> dict:
    """Move an auto-posted invoice's line (`line_no`) or all its lines to `account`.

    The correction is recorded in raw.posting_corrections (who, when, from which account
    to which, why), and the invoice's entry is posted again by its nightly run's own
    posting, with the correction: the same entry id, replacing the old lines in one
    transaction, balanced, FX and tax as before. Re-running that night keeps the
    correction; correcting a line to the account it is on changes nothing."""
    with (
        run_lock.hold(rt.warehouse, f"post correct {invoice}", wait=rt.lock_wait),
        rt.warehouse.connected(),
    ):
        return _correct_posting(rt, invoice, account, reason, by, line_no, at)


def _correct_posting(
    rt: Runtime,
    invoice: str,
    account: str,
    reason: str,
    by: str,
    line_no: int | None,
    at: dt.datetime | None,
) -> dict:
    cfg = rt.company
    wh = rt.warehouse
    raw = wh.schema
    reason, by = (reason or "").strip(), (by or "").strip()
    if not reason:
        raise CorrectionError("give a reason: the audit trail records why (--reason)")
    if not by:
        raise CorrectionError("say who corrects: the audit trail records it (--by)")
    if account not in cfg.chart.codes():
        raise CorrectionError(f"account {account!r} is not in chart_of_accounts.yml")
    iid = _resolve_invoice(rt, invoice)
    runs = wh.query(
        f"SELECT run_id, min(entry_id) AS entry_id, min(period) AS period "
        f"FROM {raw}.journal_lines WHERE source_type = 'invoice' AND source_id = :i "
        f"AND run_id LIKE 'post:%' GROUP BY run_id ORDER BY run_id",
        {"i": iid},
    ).to_pylist()
    if not runs:
        raise CorrectionError(
            f"invoice {iid[:12]} has no posted entry: it waits in the review queue"
        )
    run_key, entry_id, period = runs[-1]["run_id"], runs[-1]["entry_id"], runs[-1]["period"]
    locks = period_locks(rt)
    if locks.is_closed(period):
        raise CorrectionError(
            f"{locks.why_closed(period)}: post an adjustment entry in the open period instead"
        )
    try:
        window = Window.day(dt.date.fromisoformat(run_key.split(":", 1)[1]), rt.tz)
    except ValueError as exc:
        raise CorrectionError(f"entry {entry_id} was posted by {run_key}, not a night") from exc
    rules = cfg.posting_rules()
    invoices, lines = night_batch(rt, window, iid)
    if invoices.num_rows != 1:
        raise CorrectionError(f"invoice {iid[:12]} is not among {run_key}'s invoices")
    suggester = suggester_for(rt, rules, run_key)
    existing = latest_corrections(rt, "invoice_id = :i", {"i": iid})
    now = post_with_corrections(rt, rules, invoices, lines, run_key, suggester, existing, True)
    current = {r["line_no"]: r["account"] for r in now.matched.to_pylist()}
    if line_no is not None and line_no not in current:
        if set(current) == {0}:
            raise CorrectionError(
                f"invoice {iid[:12]} posts as one line (its lines do not add up to its "
                "net): correct the whole invoice, without --line"
            )
        raise CorrectionError(f"invoice {iid[:12]} has no line {line_no} (lines {sorted(current)})")
    targets = [line_no] if line_no is not None else sorted(current)
    changes = {n: current[n] for n in targets if current[n] != account}
    before = wh.read_table(
        "journal_lines",
        "source_type = 'invoice' AND source_id = :i AND run_id = :r ORDER BY line_no",
        {"i": iid, "r": run_key},
    ).to_pylist()
    out = {"invoice_id": iid, "entry_id": entry_id, "run_id": run_key, "before": _legs(before)}
    if not changes:
        return out | {"status": "unchanged", "correction_id": None, "lines": [], "after": []}
    at = at or dt.datetime.now(dt.UTC)
    cid = hashlib.sha256(
        f"{iid}|{','.join(map(str, sorted(changes)))}|{account}|{at.isoformat()}".encode()
    ).hexdigest()[:16]
    rows = [
        {
            "correction_id": cid,
            "invoice_id": iid,
            "entry_id": entry_id,
            "line_no": n,
            "from_account": changes[n],
            "to_account": account,
            "reason": reason,
            "corrected_by": by,
            "corrected_at": at,
            "period": period,
            "posting_run_id": run_key,
        }
        for n in sorted(changes)
    ]
    merged = {iid: dict(existing.get(iid, {})) | {r["line_no"]: r for r in rows}}
    res = post_with_corrections(rt, rules, invoices, lines, run_key, suggester, merged, True)
    if iid not in res.posted_ids.to_pylist():
        why = "; ".join(r["reason"] for r in res.review) or "not posted"
        raise CorrectionError(f"invoice {iid[:12]} cannot be posted so: {why}")
    placed = {r["line_no"]: r["account"] for r in res.matched.to_pylist()}
    if any(placed.get(n) != account for n in changes):
        raise CorrectionError(f"invoice {iid[:12]}: the lines could not be placed on {account}")
    journal = res.journal.to_pylist()
    if sum(j["amount"] for j in journal) != 0 or {j["entry_id"] for j in journal} != {entry_id}:
        raise CorrectionError(f"the corrected entry {entry_id} would not balance")  # never
    with wh.transaction() as t:
        t.insert("posting_corrections", rows)
        t.replace(
            "journal_lines",
            journal,
            "source_type = 'invoice' AND source_id = :i AND run_id = :r",
            {"i": iid, "r": run_key},
        )
    refresh_open_items(rt)
    log.info(
        "correction %s: invoice %s lines %s -> %s by %s", cid, iid, sorted(changes), account, by
    )
    return out | {
        "status": "corrected",
        "correction_id": cid,
        "lines": rows,
        "after": _legs(journal),
    }
