"""The nightly ledger work for one window: bank import, posting, reconciliation; and a
controller's corrections of posted entries.

Each step reads what it needs from the warehouse and replaces, in one transaction, the
rows it wrote for this window before (its run key, e.g. `post:2026-01-05`). Open items
are derived from the ledger as of the window, so re-running any earlier window gives the
same answer whatever ran after it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import mimetypes
from collections import Counter
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from closeflow import run_lock
from closeflow.alerts import quarantined_files
from closeflow.duplicates import Original
from closeflow.failpoints import failpoint
from closeflow.intake import BANK_STATEMENT, receive
from closeflow.money import round_money, round_rate
from closeflow.periods import PeriodLocks, period_locks
from closeflow.posting import load_rules, post_invoices
from closeflow.posting.engine import PostingResult, entry_id_for
from closeflow.posting.rules import Condition, Rule, Then
from closeflow.review import plain_reason, review_item
from closeflow.runtime import Runtime, Window, period_of
from closeflow.schemas import JOURNAL_LINES, OPEN_ITEMS
from closeflow.steps import StepSummary, warehouse_step

log = logging.getLogger(__name__)


@warehouse_step("bank")
def import_bank(rt: Runtime, window: Window) -> StepSummary:
    """Import the statements the window received; every file gets a manifest row.

    The files come from closeflow.intake (archived and recorded on the window's first
    run; a re-run reads the archive, never the bank inbox). A file ends `extracted` (its
    statements imported), `duplicate` (the same bytes, or statements already imported
    from an earlier file) or `quarantined` (refused or unreadable: named with its line in
    the review queue, and the night goes on). Only the rows this window's import owns
    (`run_id = bank:<day>`) are replaced."""
    from closeflow.bank import StatementError, parse_statements

    run_key = window.run_key("bank")
    arrivals = receive(rt, BANK_STATEMENT, window)
    accounts = rt.company.company.bank_accounts
    raw = rt.warehouse.schema
    earlier = {
        r["statement_id"]: r
        for r in rt.warehouse.query(
            f"SELECT s.statement_id, s.file_sha256, m.source_uri, m.received_at "
            f"FROM {raw}.bank_statements s JOIN {raw}.file_manifest m "
            f"ON m.file_sha256 = s.file_sha256 AND m.run_id = s.run_id "
            f"WHERE s.run_id < :r AND m.kind = 'bank_statement'",
            {"r": run_key},
        ).to_pylist()
    }
    seen_files = {r["file_sha256"]: r for r in earlier.values()}
    statements, lines, review, manifest = [], [], [], []
    for arrival in arrivals:
        status, reason = "extracted", None
        if arrival.refusal is not None:
            status, reason = "quarantined", arrival.refusal
        elif arrival.file_sha256 in seen_files:
            first = seen_files[arrival.file_sha256]
            status = "duplicate"
            original = Original.of(first["source_uri"], first["received_at"], window.tz)
            reason = f"same file content as {original}"
        else:
            # Exports without an account column name the account in the file name.
            named = next(
                (a for a in accounts if a.account_id.replace(" ", "") in arrival.name), None
            )
            try:
                parsed = parse_statements(
                    arrival.archive_path(rt.home),
                    account_id=named.account_id if named else None,
                    currency=named.currency if named else None,
                )
            except StatementError as exc:
                where = f"{arrival.name}:{exc.line}" if exc.line else arrival.name
                status, reason = "quarantined", f"{where}: {plain_reason(exc.problem)}"
                parsed = []
            fresh = [p for p in parsed if p.statement["statement_id"] not in earlier]
            if parsed and not fresh:
                first = earlier[parsed[0].statement["statement_id"]]
                status = "duplicate"
                original = Original.of(first["source_uri"], first["received_at"], window.tz)
                reason = f"its statements were already imported from {original}"
            for p in fresh:
                statements.append(p.statement | {"run_id": run_key})
                lines.extend(line | {"run_id": run_key} for line in p.lines)
                earlier[p.statement["statement_id"]] = {
                    "statement_id": p.statement["statement_id"],
                    "file_sha256": arrival.file_sha256,
                    "source_uri": arrival.source_uri,
                    "received_at": arrival.received_at,
                }
            seen_files[arrival.file_sha256] = {
                "source_uri": arrival.source_uri,
                "received_at": arrival.received_at,
            }
        if status == "quarantined":
            log.warning("statement rejected: %s", reason)
            review.append(
                review_item(
                    "statement", arrival.file_sha256, reason, run_key, file=arrival.source_uri
                )
            )
        manifest.append(
            {
                "file_sha256": arrival.file_sha256,
                "source_uri": arrival.source_uri,
                "received_at": arrival.received_at,
                "size_bytes": arrival.size_bytes,
                "media_type": mimetypes.guess_type(arrival.name)[0],
                "status": status,
                "reason": reason,
                "run_id": run_key,
                "kind": BANK_STATEMENT,
            }
        )
    with rt.warehouse.transaction() as t:
        t.execute(f"DELETE FROM {raw}.bank_lines WHERE run_id = :r", {"r": run_key})
        t.execute(f"DELETE FROM {raw}.bank_statements WHERE run_id = :r", {"r": run_key})
        t.insert("bank_statements", statements)
        t.insert("bank_lines", lines)
        t.replace("file_manifest", manifest, "run_id = :r", {"r": run_key})
        t.replace("review_queue", review, "created_run_id = :r", {"r": run_key})
        failpoint(f"bank:{window.key}")
    quarantined_files(rt.home, run_key, manifest)
    counts = Counter(m["status"] for m in manifest)
    summary = StepSummary(
        "bank",
        window.key,
        {
            "files read": len(arrivals),
            "statements": len(statements),
            "lines": len(lines),
            "rejected": counts.get("quarantined", 0),
            "duplicates": counts.get("duplicate", 0),
        },
    )
    log.info(summary.line())
    return summary


def sync_accounts(rt: Runtime) -> int:
    rows = [
        {"account": a.code, "account_name": a.name, "account_type": a.type}
        for a in rt.company.chart.accounts
    ]
    with rt.warehouse.transaction() as t:
        return t.replace("accounts", rows, "TRUE")


def _night_batch(
    rt: Runtime, window: Window, invoice_id: str | None = None
) -> tuple[pa.Table, pa.Table]:
    """The extracted invoices the window's ingest run took, and their lines (with
    `invoice_id`, only that invoice)."""
    raw = rt.warehouse.schema
    params = {"ingest": window.run_key("ingest"), "inv": invoice_id}
    one = " AND i.invoice_id = :inv" if invoice_id else ""
    invoices = rt.warehouse.query(
        f"SELECT i.*, m.source_uri FROM {raw}.invoices i JOIN {raw}.file_manifest m "
        f"ON m.file_sha256 = i.invoice_id AND m.run_id = i.run_id AND m.status = i.status "
        f"WHERE i.run_id = :ingest AND i.status = 'extracted'{one}",
        params,
    )
    mine = f"SELECT invoice_id FROM {raw}.invoices WHERE run_id = :ingest"
    where = f"invoice_id IN ({mine})" + (" AND invoice_id = :inv" if invoice_id else "")
    return invoices, rt.warehouse.read_table("invoice_lines", where, params)


def _suggester(rt: Runtime, rules, run_key: str):  # noqa: ANN001, ANN202
    """The learned suggester as the posting run `run_key` trains it, or None."""
    if not rules.suggestions.enabled:
        return None
    from closeflow.posting.suggest import Suggester, history_from_ledger

    history = history_from_ledger(rt, rules, before_run=run_key)  # earlier nights only
    return Suggester.train(history, rules.suggestions.auto_post_above)


@warehouse_step("post")
def post(rt: Runtime, window: Window) -> StepSummary:
    """Post the invoices ingested in the window with the company's rules (and the
    corrections a controller made to their entries since)."""
    cfg = rt.company
    rules = load_rules(cfg.rules_path, accounts=cfg.chart.codes())  # fails loudly, names line
    sync_accounts(rt)
    run_key = window.run_key("post")
    raw = rt.warehouse.schema
    invoices, lines = _night_batch(rt, window)
    suggester = _suggester(rt, rules, run_key)
    corrections = latest_corrections(
        rt,
        f"invoice_id IN (SELECT invoice_id FROM {raw}.invoices WHERE run_id = :ingest)",
        {"ingest": window.run_key("ingest")},
    )
    locks = period_locks(rt)
    result = post_with_corrections(
        rt, rules, invoices, lines, run_key, suggester, corrections, locks=locks
    )
    with rt.warehouse.transaction() as t:
        t.replace("journal_lines", result.journal, "run_id = :r", {"r": run_key})
        t.replace("review_queue", result.review, "created_run_id = :r", {"r": run_key})
        failpoint(f"post:{window.key}")
    summary = StepSummary(
        "post",
        window.key,
        {
            "invoices read": invoices.num_rows,
            "invoices posted": len(result.posted_ids),
            "journal lines": result.journal.num_rows,
            "to review": len(result.review),
            "rules version": rules.content_hash,
        },
    )
    log.info(summary.line())
    return summary


def open_items_as_of(rt: Runtime, window: Window | None) -> pa.Table:
    """What we owe per invoice before the window's payments: posted AP less earlier matches.

    With `window=None`, what is open after everything the warehouse holds.
    """
    raw = rt.warehouse.schema
    ap = rt.company.company.ap_account
    post_key = window.run_key("post") if window else "post:~"  # "~" sorts after any date
    rec_key = window.run_key("reconcile") if window else "reconcile:~"
    got = rt.warehouse.query(
        f"""
        WITH ap AS (
            SELECT source_id AS item_id, -SUM(amount_txn) AS posted, MIN(currency) AS currency
            FROM {raw}.journal_lines
            WHERE source_type = 'invoice' AND account = :ap
              AND run_id LIKE 'post:%' AND run_id <= :post_key
            GROUP BY source_id
        ), paid AS (
            SELECT item_id, SUM(matched_amount) AS paid FROM {raw}.matches
            WHERE run_id LIKE 'reconcile:%' AND run_id < :rec_key GROUP BY item_id
        )
        SELECT ap.item_id, i.supplier_id, i.supplier_name, i.supplier_iban AS supplier_account,
               i.invoice_number, i.payment_reference, i.due_date,
               ap.posted - COALESCE(paid.paid, 0) AS amount_open, ap.currency
        FROM ap JOIN {raw}.invoices i ON i.invoice_id = ap.item_id
        LEFT JOIN paid ON paid.item_id = ap.item_id
        WHERE ap.posted - COALESCE(paid.paid, 0) <> 0
        ORDER BY ap.item_id
        """,
        {"ap": ap, "post_key": post_key, "rec_key": rec_key},
    )
    if got.num_rows == 0:
        return OPEN_ITEMS.empty_table()
    return got.select(OPEN_ITEMS.names).cast(OPEN_ITEMS)


def _bank_ledger_accounts(rt: Runtime) -> dict[str, str]:
    raw = rt.warehouse.schema
    stmts = rt.warehouse.query(f"SELECT statement_id, account_id FROM {raw}.bank_statements")
    out = {}
    for row in stmts.to_pylist():
        acct = rt.company.bank_account(row["account_id"])
        if acct is not None:
            out[row["statement_id"]] = acct.ledger_account
    return out


@warehouse_step("reconcile")
def reconcile_window(rt: Runtime, window: Window) -> StepSummary:
    """Match the window's bank lines to open items; post clearing and fee entries."""
    from closeflow.reconcile import reconcile

    cfg = rt.company.company
    fx = rt.company.fx
    run_key = window.run_key("reconcile")
    raw = rt.warehouse.schema
    bank_lines = rt.warehouse.read_table(
        "bank_lines",
        "booking_date >= :s AND booking_date < :e ORDER BY line_id",
        {"s": window.start, "e": window.end},
    )
    items = open_items_as_of(rt, window)
    result = reconcile(bank_lines, items, run_key)
    ledger_of = _bank_ledger_accounts(rt)
    lines_by_id = {r["line_id"]: r for r in bank_lines.to_pylist()}
    items_by_id = {r["item_id"]: r for r in items.to_pylist()}
    ap_eur = {
        r["source_id"]: r["amount"]
        for r in rt.warehouse.query(
            f"SELECT source_id, -SUM(amount) AS amount FROM {raw}.journal_lines "
            f"WHERE source_type = 'invoice' AND account = :ap GROUP BY source_id",
            {"ap": cfg.ap_account},
        ).to_pylist()
    }
    posted_txn = {r["item_id"]: r["amount_open"] for r in items.to_pylist()}
    locks = period_locks(rt)
    journal: list[dict] = []
    review = result.review_table().to_pylist()

    def entry(
        source_type: str,
        source_id: str,
        day: dt.date,
        legs: list[tuple],
        desc: str,
        currency: str,
        rate: Decimal,
        supplier: str | None = None,
    ) -> None:
        eid = entry_id_for(source_type, source_id)
        day, moved = locks.place(day)  # never into a closed period
        desc = f"{desc} ({moved})" if moved else desc
        for n, (account, amount, amount_txn) in enumerate(legs, start=1):
            journal.append(
                {
                    "entry_id": eid,
                    "line_no": n,
                    "entry_date": day,
                    "period": period_of(day),
                    "account": account,
                    "amount": amount,
                    "currency": currency,
                    "amount_txn": amount_txn,
                    "fx_rate": round_rate(rate),
                    "cost_center": None,
                    "supplier_id": supplier,
                    "source_type": source_type,
                    "source_id": source_id,
                    "rule_id": None,
                    "rule_version": None,
                    "description": desc,
                    "run_id": run_key,
                }
            )
        if sum(j["amount"] for j in journal if j["entry_id"] == eid) != 0:
            raise ValueError(f"entry {eid} ({desc}) does not balance")  # a bug: never booked

    for m in result.matches.to_pylist():
        line, item = lines_by_id[m["bank_line_id"]], items_by_id[m["item_id"]]
        bank_acct = ledger_of.get(line["statement_id"])
        rate = fx.rate(line["currency"], line["booking_date"], cfg.functional_currency)
        if bank_acct is None or rate is None:
            review.append(
                review_item(
                    "bank_line",
                    line["line_id"],
                    "bank account or exchange rate unknown for this payment",
                    run_key,
                    statement=line["statement_id"],
                )
            )
            continue
        share = m["matched_amount"] / posted_txn[m["item_id"]] if posted_txn[m["item_id"]] else 0
        ap_amount = round_money(ap_eur.get(m["item_id"], Decimal(0)) * share)
        bank_amount = round_money(line["amount"] * rate)
        legs = [
            (cfg.ap_account, ap_amount, m["matched_amount"]),
            (bank_acct, bank_amount, line["amount"]),
        ]
        diff = -(ap_amount + bank_amount)
        if diff:
            legs.append((cfg.fx_difference_account, diff, Decimal(0)))
        entry(
            "payment",
            m["match_id"],
            line["booking_date"],
            legs,
            f"Payment {item['supplier_name']} {item['invoice_number']}",
            line["currency"],
            rate,
            item["supplier_id"],
        )

    keywords = [k.lower() for k in cfg.bank_fee_keywords]
    unmatched = result.unmatched_lines.to_pylist()
    fee_ids = set()
    for line in unmatched:
        text = f"{line['remittance_info'] or ''} {line['counterparty_name'] or ''}".lower()
        if line["amount"] < 0 and any(k in text for k in keywords):
            bank_acct = ledger_of.get(line["statement_id"])
            rate = fx.rate(line["currency"], line["booking_date"], cfg.functional_currency)
            if bank_acct is None or rate is None:
                continue
            amount = round_money(line["amount"] * rate)
            entry(
                "bank_fee",
                line["line_id"],
                line["booking_date"],
                [
                    (cfg.bank_fee_account, -amount, -line["amount"]),
                    (bank_acct, amount, line["amount"]),
                ],
                line["remittance_info"] or "Bank charges",
                line["currency"],
                rate,
            )
            fee_ids.add(line["line_id"])
    review = [r for r in review if r["item_id"] not in fee_ids]

    with rt.warehouse.transaction() as t:
        t.replace("matches", result.matches, "run_id = :r", {"r": run_key})
        t.replace("journal_lines", journal, "run_id = :r", {"r": run_key})
        t.replace("review_queue", review, "created_run_id = :r", {"r": run_key})
        failpoint(f"reconcile:{window.key}")
    summary = StepSummary(
        "reconcile",
        window.key,
        {
            "bank lines": bank_lines.num_rows,
            "lines matched": result.matches.num_rows,
            "bank fees booked": len(fee_ids),
            "open items": refresh_open_items(rt),
            "to review": len(review),
        },
    )
    log.info(summary.line())
    return summary


def refresh_open_items(rt: Runtime) -> int:
    """Rewrite raw.open_items as what is open now, whichever window ran last."""
    items = open_items_as_of(rt, None)
    with rt.warehouse.transaction() as t:
        return t.replace("open_items", items, "TRUE")


# ---------------------------------------------------------------- corrections


class CorrectionError(ValueError):
    """A correction that cannot be made, with what to do instead."""


class _CorrectedLines:
    """The engine's hook for what no rule decides (its `suggester` slot): after the
    rules and the learned suggester (if any) ran, the lines a controller corrected go
    to the corrected account, marked `corrected:<correction id>`; the rest of the rule's
    actions (cost center, project, tax code) stay. A corrected invoice needs no further
    approval: a person decided it.

    `targets[row]` holds, for invoice `row` of the batch, (line number, rule index) per
    corrected line, or (None, rule index) for the whole invoice (also an invoice posted
    as one line, which has no line numbers)."""

    def __init__(self, inner, targets: dict[int, list[tuple]], rules: list) -> None:  # noqa: ANN001
        self.inner, self.targets, self._rules = inner, targets, rules
        self._top: dict = {}

    @property
    def top(self) -> dict:
        return self.inner.top if self.inner is not None else self._top

    @top.setter
    def top(self, value: dict) -> None:
        if self.inner is not None:
            self.inner.top = value
        self._top = value

    def pseudo_rules(self) -> list:
        return (self.inner.pseudo_rules() if self.inner is not None else []) + self._rules

    def apply(self, taken: dict, lines: pa.Table, invoices: pa.Table, inv_row, n_rules: int):  # noqa: ANN001, ANN201
        if self.inner is not None:
            taken = self.inner.apply(taken, lines, invoices, inv_row, n_rules)
        base = n_rules + (len(self.inner.pseudo_rules()) if self.inner is not None else 0)
        line_no = lines["line_no"].to_numpy(zero_copy_only=False)
        for row, wanted in self.targets.items():
            rows = np.flatnonzero(inv_row == row)
            taken["approval"][rows] = -1
            for number, rule in wanted:
                hit = rows if number is None else rows[line_no[rows] == number]
                taken["account"][hit] = base + rule
                taken["final"][hit] = base + rule
        return taken


def latest_corrections(rt: Runtime, where: str, params: dict) -> dict[str, dict[int, dict]]:
    """Per invoice, per line number, the latest correction (raw.posting_corrections)."""
    rows = rt.warehouse.read_table(
        "posting_corrections", f"{where} ORDER BY corrected_at, correction_id", params
    ).to_pylist()
    out: dict[str, dict[int, dict]] = {}
    for r in rows:
        out.setdefault(r["invoice_id"], {})[r["line_no"]] = r
    return out


def post_with_corrections(
    rt: Runtime,
    rules,  # noqa: ANN001
    invoices: pa.Table,
    lines: pa.Table,
    run_key: str,
    suggester,  # noqa: ANN001
    corrections: dict[str, dict[int, dict]],
    explain: bool = False,
    locks: PeriodLocks | None = None,
):  # noqa: ANN201
    """Post a batch as the night does, the corrected invoices with their corrections:
    the same entries whenever it runs. Invoices dated in a closed period post to the
    first open one (`locks`, default: the warehouse's)."""
    cfg = rt.company
    locks = locks or period_locks(rt)
    args = (rules, cfg.fx, cfg.company.functional_currency, run_key, locks.closed_through)
    ids = [i for i in invoices["invoice_id"].to_pylist() if i in corrections]
    if not ids:
        return post_invoices(invoices, lines, *args, suggester=suggester, explain=explain)
    value_set = pa.array(ids, pa.string())
    inv_mask = pc.is_in(invoices["invoice_id"], value_set=value_set)
    ln_mask = pc.is_in(lines["invoice_id"], value_set=value_set)
    plain = post_invoices(
        invoices.filter(pc.invert(inv_mask)),
        lines.filter(pc.invert(ln_mask)),
        *args,
        suggester=suggester,
        explain=explain,
    )
    fixed_inv, fixed_ln = invoices.filter(inv_mask), lines.filter(ln_mask)
    pseudo, rule_of = [], {}
    targets: dict[int, list[tuple]] = {}
    never = Condition(supplier_id=["\x00corrections only"])
    for row, iid in enumerate(fixed_inv["invoice_id"].to_pylist()):
        for line_no, c in sorted(corrections[iid].items()):
            name = (c["correction_id"], c["to_account"])
            if name not in rule_of:
                rule_of[name] = len(pseudo)
                pseudo.append(
                    Rule(
                        id=f"corrected:{c['correction_id']}",
                        when=never,
                        then=Then(debit_account=c["to_account"]),
                    )
                )
            targets.setdefault(row, []).append((line_no or None, rule_of[name]))
    hook = _CorrectedLines(suggester, targets, pseudo)
    fixed = post_invoices(fixed_inv, fixed_ln, *args, suggester=hook, explain=explain)
    journal = pa.concat_tables(
        [p.journal.select(JOURNAL_LINES.names).cast(JOURNAL_LINES) for p in (plain, fixed)]
    )
    result = PostingResult(
        journal,
        sorted(plain.review + fixed.review, key=lambda r: r["item_id"]),
        pa.concat_arrays([plain.posted_ids, fixed.posted_ids]),
    )
    if explain:
        result.matched = pa.concat_tables(
            [p.matched.cast(_plain_schema(p.matched.schema)) for p in (plain, fixed)]
        )
    return result


def _plain_schema(schema: pa.Schema) -> pa.Schema:
    return pa.schema(
        [pa.field(f.name, pa.string()) if pa.types.is_dictionary(f.type) else f for f in schema]
    )


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
    rules = load_rules(cfg.rules_path, accounts=cfg.chart.codes())
    invoices, lines = _night_batch(rt, window, iid)
    if invoices.num_rows != 1:
        raise CorrectionError(f"invoice {iid[:12]} is not among {run_key}'s invoices")
    suggester = _suggester(rt, rules, run_key)
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
