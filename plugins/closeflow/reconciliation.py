"""The nightly reconciliation: match the night's bank lines to open items
(closeflow.reconcile, with the decisions people made about suggested matches,
closeflow.match_decisions), book the clearing and FX-difference entries of the auto and
confirmed matches (a suggestion books nothing), then book the lines
still unexplained that a bank rule covers (closeflow.bank_rules: salaries, customer
receipts, capital, bank charges, ...), all against the bank's ledger account, replacing
what the night's reconciliation (`reconcile:<day>`) wrote before; never into a closed
period."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from decimal import Decimal

from closeflow.bank_rules import SOURCE_TYPES as RULE_SOURCE_TYPES
from closeflow.bank_rules import BankLineFacts, book
from closeflow.failpoints import failpoint
from closeflow.match_decisions import decisions_as_of, undos_to_apply
from closeflow.match_state import MatchStatus, standing
from closeflow.money import round_money, round_rate
from closeflow.open_items import open_items_as_of, payables_accounts, refresh_open_items
from closeflow.periods import period_locks
from closeflow.posting.engine import entry_id_for
from closeflow.reconcile import RULE_REFERENCE_FX, MatchPolicy
from closeflow.review import review_item
from closeflow.runtime import Runtime, Window, period_of
from closeflow.steps import StepSummary, warehouse_step

log = logging.getLogger(__name__)


def match_policy(rt: Runtime) -> MatchPolicy:
    """company.yml's `reconciliation` settings as the matcher's policy; the write-off
    accounts default to the rounding account (paid less) and bank fees (paid more)."""
    cfg = rt.company.company
    rec = cfg.reconciliation
    return MatchPolicy(
        tolerance=rec.tolerance,
        tolerance_percent=rec.tolerance_percent,
        underpaid_account=rec.underpaid_account or cfg.rounding_account,
        overpaid_account=rec.overpaid_account or cfg.bank_fee_account,
        auto_confirm_score=rec.auto_confirm_score,
        name_similarity=rec.name_similarity,
        due_window_days=rec.due_window_days,
        fx_tolerance_percent=rec.fx_tolerance_percent,
    )


def supplier_names(rt: Runtime) -> dict[str, tuple[str, ...]]:
    """Per supplier id, its name and aliases (suppliers.yml): what a counterparty's name is
    compared with."""
    return {s.supplier_id: (s.name, *s.aliases) for s in rt.company.suppliers}


def undone_row(match: dict, run_key: str) -> dict:
    """The `undone` row that cancels `match` (closeflow.match_state): its amounts
    negated, saying who undid it, when and why."""
    return {
        "match_id": match["match_id"],
        "bank_line_id": match["bank_line_id"],
        "item_id": match["item_id"],
        "matched_amount": -match["matched_amount"],
        "rule": match["rule"],
        "score": match["score"],
        "difference": -match["difference"],
        "difference_account": match["difference_account"],
        "status": MatchStatus.UNDONE.value,
        "why": f"undone by {match['undo_by']} on {match['undo_at']:%Y-%m-%d}: "
        f"{match['undo_reason']}",
        "run_id": run_key,
    }


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
    """Match the bank lines still unexplained as of the window to what is open; post
    clearing and fee entries.

    Every night retries every line imported so far (by this night's import or an
    earlier one) that no earlier night matched or booked by a bank rule, booked up to the
    night's end: a payment that arrived before its invoice was posted, or a statement
    that came days after its bookings, is matched the first night it can be. A line is
    put in the review queue once, the first night it is left unmatched. What earlier
    nights wrote stands; re-running a night gives the same answer whatever ran after it.

    A match below the auto-confirm score is a suggestion: written the first night it is
    made, it books nothing and leaves its line to be retried. The decisions people made
    up to the night's end apply: a confirmed suggestion is booked, a rejected one is not
    made again (closeflow.match_decisions). A match a person undid is undone the first
    night after the undo: an `undone` row, its payment entry reversed, its invoices open
    again and its line tried again without them (closeflow.match_state).
    """
    from closeflow.reconcile import reconcile

    cfg = rt.company.company
    fx = rt.company.fx
    run_key = window.run_key("reconcile")
    raw = rt.warehouse.schema
    keys = {"rec": run_key, "bank": window.run_key("bank"), "e": window.end}
    undos = undos_to_apply(rt, window, run_key)
    undo_lines = {
        f"undo{n}": line for n, line in enumerate(sorted({u["bank_line_id"] for u in undos}))
    }
    retried = f"line_id IN ({', '.join(':' + k for k in undo_lines)})" if undo_lines else "FALSE"
    bank_lines = rt.warehouse.read_table(
        "bank_lines",
        f"""COALESCE(run_id, '') <= :bank AND booking_date < :e
        AND (NOT EXISTS (SELECT 1 FROM {raw}.matches m
                         WHERE m.bank_line_id = {raw}.bank_lines.line_id AND m.run_id < :rec
                         AND {standing("m", raw, "u.run_id < :rec")})
             OR {retried})
        AND NOT EXISTS (SELECT 1 FROM {raw}.journal_lines j
                        WHERE j.source_type IN (:rule_booked, :fee_booked)
                        AND j.source_id = {raw}.bank_lines.line_id AND j.run_id < :rec)
        ORDER BY line_id""",
        keys
        | undo_lines
        | dict(zip(("rule_booked", "fee_booked"), RULE_SOURCE_TYPES, strict=True)),
    )
    reviewed = {
        r["item_id"]
        for r in rt.warehouse.query(
            f"SELECT DISTINCT item_id FROM {raw}.review_queue WHERE item_type = 'bank_line' "
            f"AND created_run_id LIKE 'reconcile:%' AND created_run_id < :rec",
            keys,
        ).to_pylist()
    }
    items = open_items_as_of(rt, window, undone=[u["match_id"] for u in undos])
    result = reconcile(
        bank_lines,
        items,
        run_key,
        match_policy(rt),
        supplier_names(rt),
        decisions_as_of(rt, window),
        lambda currency, day: fx.rate(currency, day, cfg.functional_currency),
    )
    # a suggestion is written once, the night it is first made
    suggested_before = {
        (r["bank_line_id"], r["item_id"])
        for r in rt.warehouse.query(
            f"SELECT bank_line_id, item_id FROM {raw}.matches WHERE status = 'suggested' "
            f"AND run_id LIKE 'reconcile:%' AND run_id < :rec",
            keys,
        ).to_pylist()
    }
    matches = [
        m
        for m in result.matches.to_pylist()
        if m["status"] != "suggested" or (m["bank_line_id"], m["item_id"]) not in suggested_before
    ]
    # a pair matched again after an undo (a person confirmed it) is a new match
    undone_pairs = {
        (r["bank_line_id"], r["item_id"])
        for r in rt.warehouse.query(
            f"SELECT bank_line_id, item_id FROM {raw}.matches WHERE status = :undone "
            f"AND run_id < :rec",
            keys | {"undone": MatchStatus.UNDONE},
        ).to_pylist()
    } | {(u["bank_line_id"], u["item_id"]) for u in undos}
    for m in matches:
        if m["status"] != "suggested" and (m["bank_line_id"], m["item_id"]) in undone_pairs:
            m["match_id"] = hashlib.sha256(f"{m['match_id']}|{run_key}".encode()).hexdigest()[:16]
    ledger_of = _bank_ledger_accounts(rt)
    lines_by_id = {r["line_id"]: r for r in bank_lines.to_pylist()}
    items_by_id = {r["item_id"]: r for r in items.to_pylist()}
    payables = {f"ap{n}": a for n, a in enumerate(sorted(payables_accounts(rt)))}
    in_payables = ", ".join(":" + k for k in payables)
    # each invoice's payable as posted, functional and transaction currency: a payment
    # clears the share of it that it settles
    posted = {
        r["source_id"]: (r["amount"], r["amount_txn"])
        for r in rt.warehouse.query(
            f"SELECT source_id, -SUM(amount) AS amount, -SUM(amount_txn) AS amount_txn "
            f"FROM {raw}.journal_lines WHERE source_type = 'invoice' "
            f"AND account IN ({in_payables}) GROUP BY source_id",
            payables,
        ).to_pylist()
    }
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
        rule: tuple[str, str] | None = None,  # (rule id, rule version) of a bank rule
        cost_center: str | None = None,
    ) -> None:
        eid = entry_id_for(source_type, source_id)
        day, moved = locks.place(day)  # never into a closed period
        desc = f"{desc} ({moved})" if moved else desc
        for n, leg in enumerate(legs, start=1):
            # (account, functional amount, transaction amount[, its currency, its rate]):
            # a leg in another currency than the entry's (an invoice paid in another one)
            account, amount, amount_txn, *other = leg
            leg_currency, leg_rate = other if other else (currency, rate)
            journal.append(
                {
                    "entry_id": eid,
                    "line_no": n,
                    "entry_date": day,
                    "period": period_of(day),
                    "account": account,
                    "amount": amount,
                    "currency": leg_currency,
                    "amount_txn": amount_txn,
                    "fx_rate": round_rate(leg_rate),
                    "cost_center": cost_center,
                    "supplier_id": supplier,
                    "source_type": source_type,
                    "source_id": source_id,
                    "rule_id": rule[0] if rule else None,
                    "rule_version": rule[1] if rule else None,
                    "description": desc,
                    "run_id": run_key,
                }
            )
        if sum(j["amount"] for j in journal if j["entry_id"] == eid) != 0:
            raise ValueError(f"entry {eid} ({desc}) does not balance")  # a bug: never booked

    for u in undos:  # a person undid the match: cancel it and reverse its payment entry
        matches.append(undone_row(u, run_key))
        payment = rt.warehouse.read_table(
            "journal_lines",
            "entry_id = :e AND run_id < :rec ORDER BY line_no",
            {"e": entry_id_for("payment", u["match_id"]), "rec": run_key},
        ).to_pylist()
        if payment:
            first = payment[0]
            entry(
                "match_undo",
                u["match_id"],
                first["entry_date"],
                # each leg in its own currency and rate (an FX-paid invoice's payable is
                # in the invoice's currency, the bank leg in the line's)
                [
                    (j["account"], -j["amount"], -j["amount_txn"], j["currency"], j["fx_rate"])
                    for j in payment
                ],
                f"Undone by {u['undo_by']}: {first['description']}",
                first["currency"],
                first["fx_rate"],
                first["supplier_id"],
            )

    for m in matches:
        if m["status"] in ("suggested", MatchStatus.UNDONE):  # books nothing (more)
            continue
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
        ap_functional, ap_txn = posted.get(m["item_id"], (Decimal(0), Decimal(0)))
        share = m["matched_amount"] / ap_txn if ap_txn else Decimal(0)
        ap_amount = round_money(ap_functional * share)
        ap_leg: tuple = (item["ap_account"] or cfg.ap_account, ap_amount, m["matched_amount"])
        if m["rule"] == RULE_REFERENCE_FX:  # paid in the line's currency for one in another
            paid_txn = line["amount"]  # the whole line pays the whole invoice
            item_rate = fx.rate(item["currency"], line["booking_date"], cfg.functional_currency)
            ap_leg = (*ap_leg, item["currency"], item_rate or Decimal(0))
        else:
            paid_txn = -(m["matched_amount"] - m["difference"])  # the part of the line it takes
        bank_amount = round_money(paid_txn * rate)
        legs = [ap_leg, (bank_acct, bank_amount, paid_txn)]
        if m["difference"]:  # paid less (or more) within the tolerance: written off
            written_off = -round_money(m["difference"] * rate)
            legs.append((m["difference_account"], written_off, -m["difference"]))
        residual = -sum(leg[1] for leg in legs)  # (account, functional amount, ...)
        if residual:  # what the rates leave: the FX difference
            legs.append((cfg.fx_difference_account, residual, Decimal(0)))
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

    # what no invoice explains: the first bank rule that covers a line books it
    unmatched = [BankLineFacts.of(r) for r in result.unmatched_lines.to_pylist()]
    booked: dict[str, str] = {}  # line id -> source type
    blocked: dict[str, str] = {}  # line id -> why its rule could not book it
    for booking in book(rt.company.bank_rules(), unmatched):
        line = booking.line
        bank_acct = ledger_of.get(lines_by_id[line.line_id]["statement_id"])
        rate = fx.rate(line.currency, line.booking_date, cfg.functional_currency)
        if bank_acct is None or rate is None:
            missing = "bank account" if bank_acct is None else f"{line.currency} exchange rate"
            blocked[line.line_id] = (
                f"bank rule {booking.rule.id} covers this line, but its {missing} is unknown"
            )
            continue
        entry(
            booking.source_type,
            line.line_id,
            line.booking_date,
            [(leg.account, leg.amount, leg.amount_txn) for leg in booking.legs(bank_acct, rate)],
            booking.description(),
            line.currency,
            rate,
            rule=(booking.rule.id, booking.rule_version),
            cost_center=booking.rule.then.cost_center,
        )
        booked[line.line_id] = booking.source_type
    undone_why = {
        u["bank_line_id"]: (
            f"{u['undo_by']} undid its match to invoice "
            f"{items_by_id.get(u['item_id'], {}).get('invoice_number', u['item_id'][:12])}"
            f" ({u['undo_reason']}); "
        )
        for u in undos
    }
    review = [
        dict(r, reason=blocked[r["item_id"]])
        if r["item_type"] == "bank_line" and r["item_id"] in blocked
        else dict(r, reason=undone_why[r["item_id"]] + r["reason"])
        if r["item_type"] == "bank_line" and r["item_id"] in undone_why
        else r
        for r in review
        if r["item_id"] not in booked
        and not (
            r["item_type"] == "bank_line"
            and r["item_id"] in reviewed
            and r["item_id"] not in undone_why
        )
    ]

    with rt.warehouse.transaction() as t:
        t.replace("matches", matches, "run_id = :r", {"r": run_key})
        t.replace("journal_lines", journal, "run_id = :r", {"r": run_key})
        t.replace("review_queue", review, "created_run_id = :r", {"r": run_key})
        failpoint(f"reconcile:{window.key}")
    summary = StepSummary(
        "reconcile",
        window.key,
        {
            "bank lines tried": bank_lines.num_rows,
            "lines matched": sum(m["status"] in ("auto", "confirmed") for m in matches),
            "matches undone": len(undos),
            "matches suggested": sum(m["status"] == "suggested" for m in matches),
            "bank fees booked": sum(t == "bank_fee" for t in booked.values()),
            "booked by bank rules": sum(t == "bank_rule" for t in booked.values()),
            "open items": refresh_open_items(rt),
            "to review": len(review),
        },
    )
    log.info(summary.line())
    return summary
