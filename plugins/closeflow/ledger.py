"""The nightly ledger work for one window: bank import, posting, reconciliation.

Each step reads what it needs from the warehouse and replaces, in one transaction, the
rows it wrote for this window before (its run key, e.g. `post:2026-01-05`). Open items
are derived from the ledger as of the window, so re-running any earlier window gives the
same answer whatever ran after it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pyarrow as pa

from closeflow.money import round_money, round_rate
from closeflow.posting import load_rules, post_invoices
from closeflow.posting.engine import entry_id_for
from closeflow.review import review_item
from closeflow.runtime import Runtime, Window, files_received, holds_connection, period_of
from closeflow.schemas import OPEN_ITEMS

log = logging.getLogger(__name__)


@dataclass
class StepSummary:
    step: str
    window: str
    counts: dict[str, int | str] = field(default_factory=dict)

    def line(self) -> str:
        return f"{self.step} {self.window}: " + ", ".join(
            f"{k} {v}" for k, v in self.counts.items()
        )


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@holds_connection
def import_bank(rt: Runtime, window: Window) -> StepSummary:
    """Parse the statements received in the window; bad ones go to review, named."""
    from closeflow.bank import StatementError, parse_statements

    run_key = window.run_key("bank")
    files = files_received(rt.bank_inbox, window)
    statements, lines, review = [], [], []
    accounts = rt.company.company.bank_accounts
    for path in files:
        # Exports without an account column name the account in the file name.
        named = next((a for a in accounts if a.account_id.replace(" ", "") in path.name), None)
        try:
            for parsed in parse_statements(
                path,
                account_id=named.account_id if named else None,
                currency=named.currency if named else None,
            ):
                statements.append(parsed.statement)
                lines.extend(parsed.lines)
        except StatementError as exc:
            log.warning("statement rejected: %s", exc)
            review.append(
                review_item("statement", _sha256(path), str(exc), run_key, file=str(path))
            )
    with rt.warehouse.transaction() as t:
        raw = t.schema
        for st in statements:
            t.execute(
                f"DELETE FROM {raw}.bank_lines WHERE statement_id = :s", {"s": st["statement_id"]}
            )
            t.execute(
                f"DELETE FROM {raw}.bank_statements WHERE statement_id = :s",
                {"s": st["statement_id"]},
            )
        t.insert("bank_statements", statements)
        t.insert("bank_lines", lines)
        t.replace("review_queue", review, "created_run_id = :r", {"r": run_key})
    summary = StepSummary(
        "bank",
        window.key,
        {
            "files read": len(files),
            "statements": len(statements),
            "lines": len(lines),
            "rejected": len(review),
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


@holds_connection
def post(rt: Runtime, window: Window) -> StepSummary:
    """Post the invoices ingested in the window with the company's rules."""
    cfg = rt.company
    rules = load_rules(cfg.rules_path, accounts=cfg.chart.codes())  # fails loudly, names line
    sync_accounts(rt)
    run_key = window.run_key("post")
    raw = rt.warehouse.schema
    mine = f"SELECT file_sha256 FROM {raw}.file_manifest WHERE run_id = :ingest"
    params = {"ingest": window.run_key("ingest")}
    invoices = rt.warehouse.query(
        f"SELECT i.*, m.source_uri FROM {raw}.invoices i JOIN {raw}.file_manifest m "
        f"ON m.file_sha256 = i.invoice_id AND m.run_id = :ingest AND m.status = i.status "
        f"WHERE i.status = 'extracted'",
        params,
    )
    lines = rt.warehouse.read_table("invoice_lines", f"invoice_id IN ({mine})", params)
    suggester = None
    if rules.suggestions.enabled:  # learned from the postings of earlier nights
        from closeflow.posting.suggest import Suggester, history_from_ledger

        history = history_from_ledger(rt, rules, before_run=run_key)
        suggester = Suggester.train(history, rules.suggestions.auto_post_above)
    result = post_invoices(
        invoices,
        lines,
        rules,
        cfg.fx,
        cfg.company.functional_currency,
        run_key,
        cfg.company.closed_through,
        suggester=suggester,
    )
    with rt.warehouse.transaction() as t:
        t.replace("journal_lines", result.journal, "run_id = :r", {"r": run_key})
        t.replace("review_queue", result.review, "created_run_id = :r", {"r": run_key})
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


@holds_connection
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
        assert sum(j["amount"] for j in journal if j["entry_id"] == eid) == 0, eid

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
